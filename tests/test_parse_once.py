"""Cost: the project-wide resolution (launch sites, training code across files, call sites of functions and
classes) parses each file at most once per process. One flake8 process lints every file of the split
training projects (model, losses, engine and main in different files, each resolving the others); every
``ast.parse`` of a file by the linter is counted."""
from __future__ import annotations

import ast
import collections
from pathlib import Path
from typing import Counter, List, Tuple

import pytest
from flake8.main import cli

from flake8_ddp_unused import bodies, project

HERE = Path(__file__).parent
PROJECTS = [HERE / "training" / "detr_app", HERE / "projects" / "fastnlp_app", HERE / "projects" / "script_app"]


SHARED_MODEL = """\
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 4)
        self.aux = nn.Linear(4, 2)

    def forward(self, x):
        h = self.body(x)
        return h, self.aux(h)
"""
# two scripts launching the same model: models.py is resolved while linting each of them
SCRIPT = """\
import torch
from torch.nn.parallel import DistributedDataParallel as DDP
from models import Net


def train_one_epoch(model, x):
    out, aux = model(x)
    out.sum().backward()


def main():
    model = DDP(Net())
    train_one_epoch(model, torch.randn(2, 4))
"""


def _files(tmp_path: Path) -> List[str]:
    shared = tmp_path / "shared_app"
    shared.mkdir()
    (shared / "models.py").write_text(SHARED_MODEL, encoding="utf-8")
    for name in ("train_a.py", "train_b.py"):
        (shared / name).write_text(SCRIPT, encoding="utf-8")
    return sorted(str(p) for root in PROJECTS + [shared] for p in root.rglob("*.py"))


def test_each_file_parsed_at_most_once(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    project.clear_cache()
    parses: Counter[str] = collections.Counter()
    real_parse = ast.parse

    def counting_parse(source, filename="<unknown>", *args, **kwargs):  # type: ignore[no-untyped-def]
        parses[str(filename)] += 1
        return real_parse(source, filename, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting_parse)
    files = _files(tmp_path)
    cli.main(["--isolated", "--select=DDP", "--jobs=1", *files])
    # the launch sites and training code really resolved across files (else nothing was looked up)
    out = capsys.readouterr().out
    assert "DDP2" in out
    assert out.count("train_a.py:12:13: DDP201") == out.count("train_b.py:12:13: DDP201") == 1, out
    by_linter = {name: count for name, count in parses.items() if name.endswith(".py")}
    assert str(tmp_path / "shared_app" / "models.py") in by_linter, by_linter
    assert all(count == 1 for count in by_linter.values()), by_linter


def _big_model(name: str, layers: int) -> str:
    body = "".join(f"        self.l{i} = nn.Linear(4, 4)\n" for i in range(layers))
    calls = "".join(f"        x = self.l{i}(x)\n" for i in range(layers))
    return (f"import torch\nfrom torch import nn\n\n\nclass {name}(nn.Module):\n    def __init__(self):\n"
            f"        super().__init__()\n{body}        self.spare = nn.Linear(4, 4)\n\n"
            f"    def forward(self, x):\n{calls}        return x\n")


def test_a_file_every_script_uses_is_parsed_once_past_the_cache_cap(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Past the cap of cached lines, the files fewest linted files used go first: the model file that every
    script imports stays cached (parsed once), while each script's own large model file is dropped after
    use. Dropping every cached file at the cap (as before) parsed the shared file again for later scripts."""
    project.clear_cache()
    app = tmp_path / "capped_app"
    app.mkdir()
    (app / "models.py").write_text(SHARED_MODEL, encoding="utf-8")
    for suffix in "abc":
        (app / f"big_{suffix}.py").write_text(_big_model(f"Big{suffix.upper()}", 60), encoding="utf-8")
        (app / f"train_{suffix}.py").write_text(
            SCRIPT.replace("from models import Net\n",
                           f"from models import Net\nfrom big_{suffix} import Big{suffix.upper()}\n")
            + f"    other = DDP(Big{suffix.upper()}())\n", encoding="utf-8")
    shared_lines = len(SHARED_MODEL.splitlines())
    big_lines = len(_big_model("BigA", 60).splitlines())
    # room for the shared file and one script's big file, not for two big files
    monkeypatch.setattr(project, "_MAX_CACHED_LINES", shared_lines + big_lines + big_lines // 2)
    parses: Counter[str] = collections.Counter()
    real_parse = ast.parse

    def counting_parse(source, filename="<unknown>", *args, **kwargs):  # type: ignore[no-untyped-def]
        parses[str(filename)] += 1
        return real_parse(source, filename, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting_parse)
    # the scripts only: each model file is then read by the resolution alone (a linted model file with a
    # finding is also read for its construction sites, eval_only.py, which is not what this test is about)
    cli.main(["--isolated", "--select=DDP", "--jobs=1", *sorted(str(p) for p in app.glob("train_*.py"))])
    out = capsys.readouterr().out
    for suffix in "abc":  # every script resolved both models (the big one's spare layer is named)
        assert f"train_{suffix}.py:13:13: DDP201 DDP(Net()): self.aux in Net" in out, out
        big = f"Big{suffix.upper()}"
        assert f"train_{suffix}.py:15:13: DDP201 DDP({big}()): self.spare in {big}" in out, out
    by_linter = {Path(name).name: count for name, count in parses.items() if name.endswith(".py")}
    assert by_linter.get("big_c.py") == 1, by_linter  # the cap was reached (big_a or big_b went) ...
    assert by_linter["models.py"] == 1, by_linter  # ... and the file every script uses stayed
    assert all(count == 1 for count in by_linter.values()), by_linter


def _big_base(methods: int) -> str:
    """A base module class with many methods whose bodies the analysis of its subclasses never needs
    (a package's shared infrastructure: transformers' PreTrainedModel and GenerationMixin)."""
    helpers = "".join(
        f"    def helper_{i}(self, x):\n        \"\"\"Docstring of helper {i}.\"\"\"\n"
        + "".join(f"        x = x * {j} + {i}\n" for j in range(8)) + "        return x\n\n" for i in range(methods))
    return ("import torch\nfrom torch import nn\n\n\nclass Base(nn.Module):\n    def __init__(self):\n"
            "        super().__init__()\n        self.base_spare = nn.Linear(4, 4)\n\n" + helpers)


def test_shared_files_larger_than_the_cap_are_parsed_once(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The files every script needs hold more lines than the cap of kept trees. Their function bodies are
    dropped past the cap (the classes, signatures and facts computed on them stay) instead of the whole
    files, so each file is parsed once; a body asked for again (here the models' ``__init__`` and
    ``forward``) is parsed back alone, once, and then stays.
    Dropping whole files at the cap (as before) parsed the shared base again for every script."""
    project.clear_cache()
    bodies.RESTORED.update(bodies=0, lines=0, files=0)
    app = tmp_path / "shared_base_app"
    app.mkdir()
    (app / "base.py").write_text(_big_base(40), encoding="utf-8")
    (app / "models.py").write_text(SHARED_MODEL.replace("(nn.Module)", "(Base)").replace(
        "from torch import nn\n", "from torch import nn\nfrom base import Base\n"), encoding="utf-8")
    for suffix in "abcd":
        (app / f"big_{suffix}.py").write_text(_big_model(f"Big{suffix.upper()}", 60), encoding="utf-8")
        (app / f"train_{suffix}.py").write_text(
            SCRIPT.replace("from models import Net\n",
                           f"from models import Net\nfrom big_{suffix} import Big{suffix.upper()}\n")
            + f"    other = DDP(Big{suffix.upper()}())\n", encoding="utf-8")
    base_lines = len(_big_base(40).splitlines())
    big_lines = len(_big_model("BigA", 60).splitlines())
    cap = 2 * big_lines
    assert base_lines > cap  # the shared base alone exceeds the cap: before, it went at every script
    monkeypatch.setattr(project, "_MAX_CACHED_LINES", cap)
    parses: Counter[str] = collections.Counter()
    real_parse = ast.parse

    def counting_parse(source, filename="<unknown>", *args, **kwargs):  # type: ignore[no-untyped-def]
        parses[str(filename)] += 1
        return real_parse(source, filename, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting_parse)
    parsed_back: Counter[Tuple[int, str, int]] = collections.Counter()  # (file's lines, name, line)
    real_parse_back = bodies._parse_back

    def counting_parse_back(node):  # type: ignore[no-untyped-def]
        parsed_back[(id(node.__dict__["_lines"]), node.name, node.lineno)] += 1
        return real_parse_back(node)

    monkeypatch.setattr(bodies, "_parse_back", counting_parse_back)
    cli.main(["--isolated", "--select=DDP", "--jobs=1", *sorted(str(p) for p in app.glob("train_*.py"))])
    out = capsys.readouterr().out
    for suffix in "abcd":  # every script resolved the model through its base in the other file
        assert f"train_{suffix}.py:13:13: DDP201 DDP(Net()): self.aux, self.base_spare in Net" in out, out
        big = f"Big{suffix.upper()}"
        assert f"train_{suffix}.py:15:13: DDP201 DDP({big}()): self.spare in {big}" in out, out
    by_linter = {Path(name).name: count for name, count in parses.items() if name.endswith(".py")}
    assert by_linter.get("big_d.py") == 1, by_linter  # the cap was reached (big files went) ...
    assert by_linter["base.py"] == 1, by_linter  # ... and the base, over the cap alone, was parsed once
    assert all(count == 1 for count in by_linter.values()), by_linter
    assert bodies.RESTORED["files"] == 0  # every body parsed back alone
    assert parses["<body>"] == bodies.RESTORED["bodies"] == sum(parsed_back.values()), parses
    assert all(count == 1 for count in parsed_back.values()), parsed_back  # once each, then kept
    assert not any(name.startswith("helper_") for _, name, _ in parsed_back), parsed_back  # never read


def _table(name: str, rows: int) -> str:
    """Module-level data: lines of a kept tree no dropped body can make lighter."""
    return f"{name} = [\n" + "".join(f"    {i},\n" for i in range(rows)) + "]\n"


def test_a_shared_file_of_long_module_values_is_parsed_once(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The file every script needs is mostly a long module-level value (transformers' auto mappings: a
    dictionary literal over thousands of lines), more lines than the cap by itself. The value is dropped past
    the cap, as the bodies are (nothing reads it here), and the file stays: it is parsed once. Before, no
    body of it could go, so the whole file went at every script and was parsed again."""
    project.clear_cache()
    bodies.RESTORED.update(bodies=0, values=0, lines=0, files=0)
    app = tmp_path / "long_value_app"
    app.mkdir()
    registry = SHARED_MODEL + "\n\n" + _table("REGISTRY", 300).replace("[", "{", 1).replace(
        ",\n", ": None,\n").replace("]", "}")
    (app / "models.py").write_text(registry, encoding="utf-8")
    for suffix in "abcd":
        (app / f"big_{suffix}.py").write_text(_big_model(f"Big{suffix.upper()}", 60), encoding="utf-8")
        (app / f"train_{suffix}.py").write_text(
            SCRIPT.replace("from models import Net\n",
                           f"from models import Net\nfrom big_{suffix} import Big{suffix.upper()}\n")
            + f"    other = DDP(Big{suffix.upper()}())\n", encoding="utf-8")
    big_lines = len(_big_model("BigA", 60).splitlines())
    cap = 2 * big_lines
    assert len(registry.splitlines()) > cap  # the shared file alone exceeds the cap
    monkeypatch.setattr(project, "_MAX_CACHED_LINES", cap)
    parses: Counter[str] = collections.Counter()
    real_parse = ast.parse

    def counting_parse(source, filename="<unknown>", *args, **kwargs):  # type: ignore[no-untyped-def]
        parses[str(filename)] += 1
        return real_parse(source, filename, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting_parse)
    cli.main(["--isolated", "--select=DDP", "--jobs=1", *sorted(str(p) for p in app.glob("train_*.py"))])
    out = capsys.readouterr().out
    for suffix in "abcd":  # every script resolved the shared model
        assert f"train_{suffix}.py:13:13: DDP201 DDP(Net()): self.aux in Net" in out, out
    by_linter = {Path(name).name: count for name, count in parses.items() if name.endswith(".py")}
    assert by_linter.get("big_d.py") == 1, by_linter  # the cap was reached (big files went) ...
    assert by_linter["models.py"] == 1, by_linter  # ... and the shared file, over the cap alone, stayed
    assert all(count == 1 for count in by_linter.values()), by_linter
    assert bodies.RESTORED["values"] == 0 and bodies.RESTORED["files"] == 0  # the long value was never read


def test_a_dropped_value_reads_back_as_parsed() -> None:
    """A long module-level value (also one in a module-level ``if``), dropped, reads back with the same nodes
    at the same positions as a whole-file parse; a short one is left as it is."""
    source = ("import os\n\nSHORT = {'a': 1}\nLONG: dict = {\n"
              + "".join(f"    'k{i}': ({i}, 'v'),\n" for i in range(9))
              + "}\nif os.name:\n    GUARDED = [\n" + "".join(f"        {i},\n" for i in range(9)) + "    ]\n")
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    made = bodies.make_lazy(tree, lines, [])
    assert sorted(type(node).__name__ for node in made) == ["LazyAnnAssign", "LazyAssign"]
    bodies.drop(made, tree, parsed_back=True)
    assert all(node.__dict__["value"] is None for node in made)
    dumped = ast.dump(tree, include_attributes=True).replace("LazyAnnAssign(", "AnnAssign(").replace(
        "LazyAssign(", "Assign(")
    assert dumped == ast.dump(ast.parse(source), include_attributes=True)
