"""Never crash, never hang: pathological inputs through the real flake8 and through the plugin in-process.

The sizes here are small enough for CI (the whole module runs in a few seconds); the big sizes (50,000
lines, 5,000 classes, real corpora) are in ``benchmarks/bench.py`` and ``benchmarks/realworld.py``.
"""
from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import pytest

from flake8_ddp_unused import project
from flake8_ddp_unused.plugin import DDPChecker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from synth import synthetic_source  # noqa: E402

HEADER = "import torch\nimport torch.nn as nn\n\n"
NET = (
    "class Net(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.a = nn.Linear(2, 2)\n"
    "        self.b = nn.Linear(2, 2)\n\n"
)


def plugin_lines(source: str, filename: str = "t.py") -> List[str]:
    """What flake8 would get from the plugin, exactly as flake8 calls it (never raising out)."""
    tree = ast.parse(source)
    return [text for _, _, text, _ in DDPChecker(tree, source.splitlines(keepends=True), filename).run()]


def deep(shape: str, depth: int) -> str:
    body = {
        "elif": "        if x == 0:\n            y = self.a(x)\n"
        + "".join(f"        elif x == {i}:\n            y = self.b(x)\n" for i in range(1, depth))
        + "        return y\n",
        "binop": "        return " + " + ".join(["self.a(x)"] * depth) + "\n",
        "chain": "        return self.a(x)" + ".relu()" * depth + "\n",
        "ifexp": "        return " + "".join(f"self.a(x) if x > {i} else " for i in range(depth)) + "self.b(x)\n",
        "not": ("        if " + "not " * depth
                + "self.training:\n            return self.b(x)\n        return self.a(x)\n"),
        "indent": "".join("        " + "    " * i + f"if x > {i}:\n" for i in range(depth))
        + "        " + "    " * depth + "return self.a(x)\n        return self.b(x)\n",
    }[shape]
    return HEADER + NET + "    def forward(self, x):\n" + body


# ---- through the real flake8: one run over a directory of hostile files ---------------------------
def hostile_files(root: Path) -> Dict[str, bytes]:
    pkg = "pkg"
    files: Dict[str, bytes] = {
        "syntax_error.py": (HEADER + NET + "    def forward(self, x:\n        return self.a(x)\n").encode(),
        "nul_bytes.py": (HEADER + NET).encode() + b"    def forward(self, x):\n        return self.a(x)\x00\n",
        "not_utf8.py": (HEADER + "# caf\xe9\n" + NET).encode("latin-1"),
        "latin1_cookie.py": ("# -*- coding: latin-1 -*-\n" + HEADER + "# caf\xe9\n" + NET).encode("latin-1"),
        "bom.py": b"\xef\xbb\xbf" + (HEADER + NET + "    def forward(self, x):\n        return self.a(x)\n").encode(),
        "crlf.py": (HEADER + NET + "    def forward(self, x):\n        return self.a(x)\n")
        .replace("\n", "\r\n").encode(),
        "empty.py": b"",
        "only_markers.py": b"# torch nn.Module class Lightning Trainer DistributedDataParallel\n",
        "self_inherit.py": (HEADER + "Alias = nn.Module\nclass Net(Net):\n    pass\n"
                            "A = B\nB = A\nclass C(B):\n    def forward(self, x):\n        return x\n"
                            "class D(E):\n    pass\nclass E(D):\n    def forward(self, x):\n        return self.q(x)\n"
                            "F = E\nclass G(F, nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                            "        self.w = nn.Linear(1, 1)\n    def forward(self, x):\n        return x\n").encode(),
        "alias_cycle.py": (HEADER + "from alias_cycle import Net as Base\nclass Net(Base, nn.Module):\n"
                           "    def forward(self, x):\n        return super().forward(x)\n").encode(),
        "many_classes.py": (HEADER + "".join(
            f"class C{i}(nn.Module if {i} % 2 else C{max(i - 1, 0)}):\n    def __init__(self):\n"
            f"        super().__init__()\n        self.l = nn.Linear(1, 1)\n"
            f"    def forward(self, x):\n        return self.l(x)\n" for i in range(500))).encode(),
        "big.py": synthetic_source(1500).encode(),
        "deep_elif.py": deep("elif", 300).encode(),
        "deep_binop.py": deep("binop", 300).encode(),
        "deep_indent.py": deep("indent", 90).encode(),
        f"{pkg}/__init__.py": b"from .a import A\nfrom .b import B\n",
        f"{pkg}/a.py": (HEADER + "from .b import B\nclass A(B):\n    def forward(self, x):\n"
                        "        return super().forward(x)\n").encode(),
        f"{pkg}/b.py": (HEADER + "from .a import A\nclass B(A):\n    def __init__(self):\n        super().__init__()\n"
                        "        self.w = nn.Linear(1, 1)\n    def forward(self, x):\n"
                        "        return self.w(x)\n").encode(),
        f"{pkg}/c.py": (HEADER + "from pkg import A, B\nfrom pkg.c import Z\nclass Z(A):\n    pass\n"
                        "m = torch.nn.parallel.DistributedDataParallel(Z())\n").encode(),
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def run_flake8(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "E9,DDP", "--extend-select", "DDP999",
         *args, "."], cwd=root, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    hostile_files(root)
    return root


@pytest.fixture(scope="module")
def hostile_run(hostile_dir: Path) -> subprocess.CompletedProcess:
    return run_flake8(hostile_dir, "-j1")


def test_flake8_survives_hostile_files(hostile_run: subprocess.CompletedProcess) -> None:
    output = hostile_run.stdout + hostile_run.stderr
    assert hostile_run.returncode in (0, 1), output
    assert "Traceback" not in output
    assert "failed during execution" not in output
    assert "DDP999" not in output


def test_broken_files_are_flake8s_business(hostile_run: subprocess.CompletedProcess) -> None:
    by_file: Dict[str, List[str]] = {}
    for line in hostile_run.stdout.splitlines():
        name, _, rest = line.partition(":")
        by_file.setdefault(name.lstrip("./"), []).append(rest.split(": ", 1)[-1].split(" ")[0])
    # flake8 decodes a file that is not UTF-8 as latin-1 and checks it as usual (no E902).
    for broken in ("syntax_error.py", "nul_bytes.py"):
        assert by_file.get(broken), f"flake8 reported nothing for {broken}"
        assert all(code.startswith("E9") for code in by_file[broken]), by_file[broken]


def test_jobs_do_not_change_the_output(hostile_dir: Path, hostile_run: subprocess.CompletedProcess) -> None:
    parallel = run_flake8(hostile_dir, "-j2")
    assert sorted(parallel.stdout.splitlines()) == sorted(hostile_run.stdout.splitlines())


# ---- in-process: deep nesting, size, cycles, each bounded in time -------------------------------
# Depths for CI. The deepest the parser accepts (about 2,900) is in tests/_pending_test_robustness_deep.py:
# libcst's parser is super-linear on long operator chains (a 1,600-term sum in forward costs ~10 s).
DEPTHS = {"elif": 1000, "binop": 400, "chain": 700, "ifexp": 400, "not": 1000, "indent": 90}


@pytest.mark.parametrize("shape", sorted(DEPTHS))
def test_deep_nesting_never_raises_and_is_bounded(shape: str) -> None:
    """Deep inputs: the plugin must not raise out of run() (DDP999 at worst) nor hang."""
    source = deep(shape, DEPTHS[shape])
    ast.parse(source)
    start = time.process_time()
    plugin_lines(source)
    assert time.process_time() - start < 10


@pytest.mark.parametrize("shape", ["elif", "binop", "chain", "not"])
def test_nesting_pyflakes_handles_is_analysed(shape: str) -> None:
    """Where flake8's own checkers still work (about 300 levels), the plugin works too: no DDP999."""
    depth = 150 if shape == "chain" else 300
    assert not [line for line in plugin_lines(deep(shape, depth)) if line.startswith("DDP999")]


def test_nul_bytes_and_odd_text_in_process() -> None:
    for source in ("", "\n", "\x0c\n", "class A(nn.Module):\n    pass\n", HEADER + "\ufeffx = 1\n"):
        try:
            ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        assert plugin_lines(source) == [], source


def test_size_is_bounded() -> None:
    source = synthetic_source(5000)
    start = time.process_time()
    found = plugin_lines(source)
    spent = time.process_time() - start
    assert found, "the synthetic file carries findings"
    assert spent < 15, spent


def test_many_classes_are_bounded() -> None:
    body = "".join(
        f"class C{i}(C{i - 1} if {i} else nn.Module):\n    pass\nclass D{i}(C{i}):\n"
        f"    def __init__(self):\n        super().__init__()\n        self.l{i} = nn.Linear(1, 1)\n"
        f"    def forward(self, x):\n        return super().forward(x)\n" for i in range(1000))
    start = time.process_time()
    plugin_lines(HEADER + body)
    assert time.process_time() - start < 15


def test_inheritance_chain_and_cycles_are_bounded() -> None:
    chain = "".join(f"class C{i}(C{i - 1}):\n    def forward(self, x):\n        return super().forward(x)\n"
                    for i in range(1, 100))  # 1500 deep: tests/_pending_test_robustness_deep.py
    source = HEADER + "class C0(nn.Module):\n    def forward(self, x):\n        return x\n" + chain
    cycle = HEADER + "X = Y\nY = X\nclass Y(X):\n    pass\nclass X(Y, nn.Module):\n" \
        "    def __init__(self):\n        super().__init__()\n        self.w = nn.Linear(1, 1)\n" \
        "    def forward(self, x):\n        return self.forward(x)\n"
    for text in (source, cycle):
        start = time.process_time()
        lines = plugin_lines(text)
        assert time.process_time() - start < 15
        assert not [line for line in lines if line.startswith("DDP999")], lines


def test_import_cycles_across_files(tmp_path: Path) -> None:
    project.clear_cache()
    hostile_files(tmp_path)
    for name in ("pkg/a.py", "pkg/b.py", "pkg/c.py", "pkg/__init__.py", "alias_cycle.py"):
        path = tmp_path / name
        lines = plugin_lines(path.read_text(), str(path))
        assert not [line for line in lines if line.startswith("DDP999")], (name, lines)


def test_each_imported_file_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project.clear_cache()
    pkg = tmp_path / "proj"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .base import Block\n")
    (pkg / "base.py").write_text(HEADER + "class Block(nn.Module):\n    def __init__(self):\n"
                                 "        super().__init__()\n        self.w = nn.Linear(1, 1)\n"
                                 "    def forward(self, x):\n        return self.w(x)\n")
    for i in range(12):
        (pkg / f"m{i}.py").write_text(
            HEADER + "from .base import Block\nfrom proj import Block as B2\nfrom . import base\n"
            f"class M{i}(Block):\n    def __init__(self):\n        super().__init__()\n"
            "        self.extra = B2()\n"
            "    def forward(self, x):\n        return self.extra(super().forward(x))\n"
            f"model = torch.nn.parallel.DistributedDataParallel(M{i}())\n")
    parsed: Dict[str, int] = {}
    real_parse = ast.parse

    def counting_parse(source, filename="<unknown>", *args, **kwargs):  # type: ignore[no-untyped-def]
        parsed[str(filename)] = parsed.get(str(filename), 0) + 1
        return real_parse(source, filename, *args, **kwargs)

    monkeypatch.setattr(project.ast, "parse", counting_parse)
    for i in range(12):
        path = pkg / f"m{i}.py"
        source = path.read_text()
        tree = real_parse(source)  # flake8's own parse, not counted
        list(DDPChecker(tree, source.splitlines(keepends=True), str(path)).run())
    assert parsed, "cross-file resolution read no file"
    assert max(parsed.values()) == 1, parsed


def test_linted_and_dropped_trees_are_freed_without_the_cycle_collector(tmp_path: Path) -> None:
    """The index, analysis and reports of a file refer to each other; left to the cycle collector, every
    file's trees waited for a full collection (GC time on timm x1.5, more peak memory). After a file is
    linted, nothing but flake8 holds its tree, and the dropped cache of other files is freed at once."""
    import gc

    project.clear_cache()
    (tmp_path / "base.py").write_text(HEADER + "class Block(nn.Module):\n    def __init__(self):\n"
                                      "        super().__init__()\n        self.w = nn.Linear(1, 1)\n"
                                      "    def forward(self, x):\n        return self.w(x)\n")
    source = (HEADER + "from base import Block\n" + NET + "    def forward(self, x):\n        return self.a(x)\n\n"
              "class Sub(Block):\n    def forward(self, x):\n        return super().forward(x)\n\n"
              "model = torch.nn.parallel.DistributedDataParallel(Net())\n")
    path = tmp_path / "train.py"
    path.write_text(source)
    gc.collect()
    gc.disable()
    try:
        tree = ast.parse(source)
        before = sys.getrefcount(tree)
        lines = [text for _, _, text, _ in DDPChecker(tree, source.splitlines(keepends=True), str(path)).run()]
        assert any(line.startswith("DDP001") for line in lines), lines  # the analysis did run
        assert sys.getrefcount(tree) == before
        cached = [entry[2] for entry in project._FILES.values() if entry[2] is not None]
        assert cached, "base.py was not read"
        held = sys.getrefcount(cached[0].tree)
        del cached
        project._MAX_CACHED_LINES, saved = 0, project._MAX_CACHED_LINES
        try:
            other = tmp_path / "other.py"
            other.write_text(NET)
            index_tree = [entry[2].tree for entry in project._FILES.values() if entry[2] is not None][0]
            assert sys.getrefcount(index_tree) == held + 1  # + the local name
            list(DDPChecker(ast.parse(NET), NET.splitlines(keepends=True), str(other)).run())
            assert sys.getrefcount(index_tree) == 2  # the local name and getrefcount's argument
        finally:
            project._MAX_CACHED_LINES = saved
    finally:
        gc.enable()
