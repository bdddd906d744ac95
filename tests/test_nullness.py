"""nullness.py: which parts of what a module returns are None exactly when an argument is; and the parent's
test on such a part judged as a test on what it passed (through real flake8)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Optional

from flake8_ddp_unused.index import FileIndex, source_lines
from flake8_ddp_unused.nullness import NoneLinks, none_links

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "branches_child_none.py"


def links_of(source: str, name: str) -> Optional[NoneLinks]:
    index = FileIndex(ast.parse(source), source_lines(source), "m.py", "", ())
    info = next(info for info, _ in index.module_classes() if info.name == name)
    return none_links(info, index.mro(info)[0])


HEAD = "import torch\nfrom torch import nn\n\n\n"


def test_early_return_in_a_helper_links_the_argument() -> None:
    links = links_of(FIXTURE.read_text(encoding="utf-8"), "Embedding")
    assert links is not None
    assert links.params == ("target", "stat")
    assert links.parts == ((0, "stat"),) and links.length == 2 and links.never == (1,)


def test_a_part_none_also_when_given_is_not_linked() -> None:
    source = HEAD + """class E(nn.Module):
    def forward(self, x, s=None):
        if s is None or x.sum() > 0:
            return x, None
        return x, s * 2
"""
    links = links_of(source, "E")
    # given, [1] may still be None: a test on it is not the argument's ([0] is `x` itself)
    assert links is not None and links.parts == ((0, "x"),)


def test_a_return_inside_a_loop_gives_up() -> None:
    source = HEAD + """class E(nn.Module):
    def forward(self, x, s=None):
        for _ in range(2):
            if s is None:
                return None
        return s * 2
"""
    assert links_of(source, "E") is None


def test_tuples_of_different_lengths_give_up() -> None:
    source = HEAD + """class E(nn.Module):
    def forward(self, x, s=None):
        if s is None:
            return x, None
        return x, s * 2, s
"""
    assert links_of(source, "E") is None


def test_through_flake8(tmp_path: Path) -> None:
    target = tmp_path / "model.py"
    target.write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "DDP", "--extend-select",
                           "DDP901", "model.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, lines
    assert ":29:9: DDP901 self.static_encoder in StaticModel" in lines[0]
    assert 's_inp is not None (None from self.embedding(...) when batch["stat"] is None)' in lines[0]
    # off by default
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "model.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert " DDP" not in proc.stdout, proc.stdout


CONFIG_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "branches_child_none_config.py"


def class_of(source: str, name: str):  # type: ignore[no-untyped-def]  # noqa: ANN201
    index = FileIndex(ast.parse(source), source_lines(source), "m.py", "", ())
    info = next(info for info, _ in index.module_classes() if info.name == name)
    return info, index.mro(info)[0]


def test_init_values_follow_the_super_chain_to_the_leafs_default() -> None:
    from flake8_ddp_unused.init_values import test_at_defaults, value_at_defaults

    source = CONFIG_FIXTURE.read_text(encoding="utf-8")
    info, mro = class_of(source, "StaticModel")
    assert value_at_defaults(info, mro, "stat_list") == ([], "stat_list=None")
    assert test_at_defaults(info, mro, "len(self.stat_list)", frozenset()) == (False, "stat_list=None")
    info, mro = class_of(source, "StaticGiven")
    assert value_at_defaults(info, mro, "stat_list") == (["a", "b", "c", "d"], "stat_list=('a', 'b', 'c', 'd')")
    assert test_at_defaults(info, mro, "len(self.stat_list) > 0", frozenset()) == (
        True, "stat_list=('a', 'b', 'c', 'd')")
    source = (Path(__file__).resolve().parent / "fixtures" / "branches_child_none_undecided.py").read_text(
        encoding="utf-8")
    info, mro = class_of(source, "StaticSetLater")  # written again by another method: unknown
    assert value_at_defaults(info, mro, "stat_list") is None


def test_init_values_stay_unknown_off_the_plain_chain() -> None:
    from flake8_ddp_unused.init_values import value_at_defaults

    source = HEAD + """class A(nn.Module):
    def __init__(self, cols=None, flag=False, n=3):
        super().__init__()
        if flag:
            self.cols = []
        self.other = list(cols) if cols is not None else []
        self.n = n


class B(A):
    def __init__(self, cols=None, **kw):
        super().__init__(**kw)


def configure(model):
    model.other = ["x"]
"""
    info, mro = class_of(source, "A")
    assert value_at_defaults(info, mro, "cols") is None  # stored under a test
    assert value_at_defaults(info, mro, "other") is None  # written from outside the class
    assert value_at_defaults(info, mro, "n") is None  # a number: the flags' business
    info, mro = class_of(source, "B")
    assert value_at_defaults(info, mro, "cols") is None


def test_the_caller_decides_through_flake8(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(CONFIG_FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "model.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if " DDP" in line]
    assert len(lines) == 1, lines
    assert ":51:9: DDP102 self.static_encoder in StaticModel gets no gradient by default" in lines[0]
    assert "used only when s_inp is not None, i.e. len(self.stat_list) (default stat_list=None)" in lines[0]
