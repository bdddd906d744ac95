"""Bounded and crash-free (issue 12): no input reaches a parser that can crash the process, limits do not
fall silent (the plain facts are still reported), and every give-up is visible as a skip record."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import List

from flake8_ddp_unused import project
from flake8_ddp_unused.lint import analyze_source, analyze_tree
from flake8_ddp_unused.cli import main as cli_main
from flake8_ddp_unused.flow import MAX_EXPRESSION_DEPTH, cst_nesting
from flake8_ddp_unused.skips import Skip, one_per_chain

HEADER = "import torch\nimport torch.nn as nn\n\n\n"


def chain_model(terms: int) -> str:
    condition = " and ".join(["a"] * terms)
    return HEADER + (
        "class M(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.used = nn.Linear(2, 2)\n"
        "        self.spare = nn.Linear(2, 2)\n\n"
        "    def forward(self, x, a):\n"
        f"        if {condition}:\n"
        "            x = self.used(x)\n"
        "        return x\n"
    )


def codes(source: str) -> List[tuple]:
    project.clear_cache()
    return sorted((f.line, f.code) for f in analyze_source(source, "t.py"))


def test_ten_thousand_term_chain_does_not_crash_flake8(tmp_path: Path) -> None:
    """libcst's native parser overflows the C stack on it (a segfault): it must never see it."""
    path = tmp_path / "chain.py"
    path.write_text(chain_model(10_000), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "DDP", "--extend-select",
                           "DDP998", str(path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])
    lines = [line.split(": ", 1)[1][:6] for line in proc.stdout.splitlines()]
    assert lines == ["DDP998", "DDP001"], proc.stdout
    assert ":9:9: DDP001 self.spare" in proc.stdout


def test_chains_between_1000_and_7000_terms_are_not_silent() -> None:
    """These parsed, then the interpreter gave up silently: now a skip record and the plain facts."""
    for terms in (1000, 3000, 7000):
        assert codes(chain_model(terms)) == [(5, "DDP998"), (9, "DDP001")], terms


def test_nesting_is_measured_as_libcst_nests() -> None:
    flat_in_ast = ast.parse(" and ".join(["a"] * 150))
    assert cst_nesting(flat_in_ast) > MAX_EXPRESSION_DEPTH
    assert cst_nesting(ast.parse(" < ".join(["a"] * 150))) > MAX_EXPRESSION_DEPTH
    assert cst_nesting(ast.parse("a and b and c or d")) < 10
    # short chains get the full analysis: the guard is judged (a plain argument tested for truth: DDP901)
    assert codes(chain_model(20)) == [(8, "DDP901"), (9, "DDP001")]


def many_submodules(count: int, unused: int) -> str:
    init = "".join(f"        self.m{i} = nn.Linear(2, 2)\n" for i in range(count))
    step = "".join(f"        x = self.m{i}(x)\n" for i in range(count) if i != unused)
    return HEADER + ("class Big(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                     f"{init}\n    def forward(self, x):\n{step}        return x\n")


def test_five_thousand_submodules_with_one_unused_is_reported() -> None:
    found = codes(many_submodules(5000, unused=4321))
    assert found == [(5, "DDP998"), (8 + 4321, "DDP001")]


def test_a_cap_does_not_report_what_the_class_names() -> None:
    """Past the cap only names never written again are reported: a used submodule stays silent, and so does
    everything when the class reaches its submodules without naming them (children(), getattr)."""
    assert codes(many_submodules(5000, unused=-1)) == [(5, "DDP998")]
    reflective = many_submodules(5000, unused=4321).replace(
        "        return x\n", "        for child in self.children():\n            x = child(x)\n        return x\n")
    assert codes(reflective) == [(5, "DDP998")]


FORM_FEED = HEADER + (
    "class M(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.used = nn.Linear(2, 2)\n"
    "        self.spare = nn.Linear(2, 2)\n\n"
    "\x0c\n"
    "    def forward(self, x):\n"
    "        y = self.used(x)\n"
    "\x0c        return y\n"
)


def test_form_feed_in_a_method_is_analysed() -> None:
    """CPython restarts the indentation column at a form feed, libcst did not: the `return` fell out of the
    re-parsed method and self.used looked dropped (DDP004)."""
    assert codes(FORM_FEED) == [(9, "DDP001")]
    tabs = FORM_FEED.replace("        ", "\t\t").replace("    ", "\t")
    assert codes(tabs) == [(9, "DDP001")]


def test_skip_records_reach_the_caller() -> None:
    source = chain_model(500)
    skipped: List[Skip] = []
    analyze_tree(ast.parse(source), source.splitlines(keepends=True), "t.py", skipped=skipped)
    assert skipped == [Skip("t.py", 5, "class M", "forward() nests expressions 500 deep, limit 100")]


def test_flake8_shows_skips_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "chain.py"
    path.write_text(chain_model(500), encoding="utf-8")
    base = [sys.executable, "-m", "flake8", "--isolated", str(path)]
    default = subprocess.run(base, capture_output=True, text=True, timeout=300).stdout
    opted_in = subprocess.run(base + ["--extend-select", "DDP998"], capture_output=True, text=True,
                              timeout=300).stdout
    assert "DDP998" not in default and "DDP001" in default
    assert ":5:1: DDP998 analysis of class M stopped (forward() nests expressions 500 deep" in opted_in


def test_standalone_verbose_and_json_list_the_skips(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("chain.py").write_text(chain_model(500), encoding="utf-8")
    assert cli_main(["--isolated", "chain.py"]) == 1
    quiet = capsys.readouterr()
    assert "skipped" not in quiet.err and "DDP998" not in quiet.out
    assert cli_main(["--isolated", "--verbose", "chain.py"]) == 1
    verbose = capsys.readouterr()
    assert "chain.py:5: skipped class M: forward() nests expressions 500 deep, limit 100" in verbose.err
    assert cli_main(["--isolated", "--verbose", "--format", "json", "chain.py"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [f["code"] for f in report["findings"]] == ["DDP001"]
    assert report["skipped"] == [{"path": "chain.py", "line": 5, "subject": "class M",
                                  "reason": "forward() nests expressions 500 deep, limit 100"}]
    assert cli_main(["--isolated", "--format", "json", "chain.py"]) == 1
    assert isinstance(json.loads(capsys.readouterr().out), list)  # without --verbose: the array as before


def test_resolving_a_submodule_does_not_read_the_package(tmp_path: Path) -> None:
    """transformers' modeling_layers.py: `from . import initialization as init` made the resolver follow
    every star import of the package's __init__ (2,226 files parsed, 25 s): a submodule is not a class."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("".join(f"from .mod{i} import *\n" for i in range(40)))
    for i in range(40):
        (package / f"mod{i}.py").write_text(f"from .sub{i} import *\n")
        (package / f"sub{i}.py").write_text(f"class Thing{i}:\n    pass\n")
    (package / "initialization.py").write_text("def normal_(x):\n    return x\n")
    (package / "layers.py").write_text(HEADER + (
        "from . import initialization as init\n"
        "from . import Thing39\n\n\n"
        "class Layer(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.proj = nn.Linear(2, 2)\n"
        "        self.spare = nn.Linear(2, 2)\n\n"
        "    def forward(self, x):\n"
        "        init.normal_(x)\n"
        "        Thing39()\n"
        "        return self.proj(x)\n"))
    project.clear_cache()
    source = (package / "layers.py").read_text()
    found = analyze_source(source, str(package / "layers.py"))
    assert [f.code for f in found] == ["DDP001"]
    parsed = {Path(path).name for path, (_, _, index) in project._FILES.items() if index is not None}
    # Thing39 is found through the star imports; the files that cannot hold it are not parsed
    assert parsed <= {"__init__.py", "layers.py", "initialization.py"} | {f"mod{i}.py" for i in range(40)} | {
        "sub39.py"}, sorted(parsed)
    assert "sub0.py" not in parsed


def test_a_method_over_the_parse_budget_is_skipped_not_parsed() -> None:
    """A 200,000-line forward took 5.6 GB in libcst: past 5,000 lines a method is not parsed."""
    body = "".join(f"        x = self.used(x) + {i}\n" for i in range(6000))
    source = HEADER + ("class Long(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                       "        self.used = nn.Linear(2, 2)\n        self.spare = nn.Linear(2, 2)\n\n"
                       f"    def forward(self, x):\n{body}        return x\n")
    skipped: List[Skip] = []
    analyze_tree(ast.parse(source), source.splitlines(keepends=True), "t.py", skipped=skipped)
    assert skipped == [Skip("t.py", 5, "class Long", "forward() has 6002 lines, limit 5000")]
    assert codes(source) == [(5, "DDP998"), (9, "DDP001")]


def test_deep_inheritance_is_cut_with_a_record() -> None:
    """Every class of a deep chain read its whole MRO (quadratic): past 64 classes a class is skipped."""
    chain = "".join(f"class C{i}(C{i - 1}):\n    def forward(self, x):\n        return super().forward(x)\n\n\n"
                    for i in range(1, 100))
    source = HEADER + ("class C0(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                       "        self.used = nn.Linear(2, 2)\n        self.spare = nn.Linear(2, 2)\n\n"
                       "    def forward(self, x):\n        return self.used(x)\n\n\n") + chain
    found = codes(source)
    assert (9, "DDP001") in found
    assert (8, "DDP001") not in found
    records: List[Skip] = []
    analyze_tree(ast.parse(source), source.splitlines(keepends=True), "t.py", skipped=records)
    # one record per cause: C9 to C63 stop at the depth of nested calls, C64 to C99 at the MRO limit
    assert records == [Skip("t.py", 55, "class C9 and 54 subclasses", "calls nest more than 8 deep"),
                       Skip("t.py", 330, "class C64 and 35 subclasses", "it inherits through more than 64 classes")]
    assert [code for _, code in found].count("DDP998") == 2


def super_chain(depth: int) -> str:
    """C0 uses self.used in forward; C1 ... C<depth> only call super().forward()."""
    chain = "".join(f"class C{i}(C{i - 1}):\n    def forward(self, x):\n        return super().forward(x)\n\n\n"
                    for i in range(1, depth + 1))
    return HEADER + ("class C0(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                     "        self.used = nn.Linear(2, 2)\n        self.spare = nn.Linear(2, 2)\n\n"
                     "    def forward(self, x):\n        return self.used(x)\n\n\n") + chain


def test_super_chain_deeper_than_the_call_depth_stops_with_a_record() -> None:
    """A super().forward() chain deeper than the interpreter's call depth was cut silently: the uses of
    the methods not run were missing, and self.used got a wrong DDP001 in the deepest classes."""
    assert codes(super_chain(8)) == [(9, "DDP001")]  # C0 to C8: analysed to the end, self.used is used
    found = codes(super_chain(12))
    assert (9, "DDP001") in found  # the plain fact: self.spare is never used
    assert not [f for f in analyze_source(super_chain(12), "t.py") if f.code == "DDP001" and "self.used" in f.message]
    assert (55, "DDP998") in found
    records: List[Skip] = []
    source = super_chain(12)
    analyze_tree(ast.parse(source), source.splitlines(keepends=True), "t.py", skipped=records)
    assert records == [Skip("t.py", 55, "class C9 and 3 subclasses", "calls nest more than 8 deep")]


def test_skip_records_one_per_chain_and_unrelated_classes_kept() -> None:
    records = [Skip("f.py", 1, "class A", "r"), Skip("f.py", 2, "class B", "r"), Skip("f.py", 3, "class C", "r"),
               Skip("f.py", 4, "class D", "other"), Skip("f.py", 5, "class E", "r"),
               Skip("f.py", 6, "launch site DDP(...)", "r")]
    bases = {"B": ["A"], "C": ["B"], "D": ["C"], "E": ["Unrelated"]}
    merged = one_per_chain(records, lambda name: bases.get(name, []))
    assert merged == [Skip("f.py", 1, "class A and 2 subclasses", "r"), Skip("f.py", 4, "class D", "other"),
                      Skip("f.py", 5, "class E", "r"), Skip("f.py", 6, "launch site DDP(...)", "r")]
