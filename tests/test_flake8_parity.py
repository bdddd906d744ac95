"""One configuration, one answer: the real flake8 (with the plugin) and the standalone command on the same
small projects must report the same DDP findings (path, line, column, code, message).

Each case writes a project into a temporary directory, runs ``python -m flake8 .`` and
``python -m flake8_ddp_unused .`` there (no ``--isolated``: the project's own configuration applies) and
compares the DDP lines. ``[tool.flake8]`` needs the Flake8-pyproject plugin, which makes flake8 read it.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

from .test_flake8_e2e import MODEL

Finding = Tuple[str, int, int, str, str]

LAUNCH = textwrap.dedent("""\
    import torch
    from torch.nn.parallel import DistributedDataParallel as DDP

    from pkg.model import Net


    def main(rank):
        model = Net()
        ddp = DDP(model, device_ids=[rank])
        return ddp
    """)


def run(cmd: List[str], cwd: Path, stdin: Optional[str] = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=300)


def parse(out: str) -> List[Finding]:
    found = []
    for line in out.splitlines():
        where, _, text = line.partition(": ")
        code, _, message = text.partition(" ")
        if not code.startswith("DDP"):
            continue
        path, row, col = where.rsplit(":", 2)
        found.append((path[2:] if path.startswith("./") else path, int(row), int(col), code, message))
    return sorted(found)


def both(root: Path, *args: str, stdin: Optional[str] = None) -> Tuple[List[Finding], List[Finding]]:
    """DDP findings of flake8 and of the standalone command, run the same way in ``root``."""
    paths = list(args) or ["."]
    flake8 = run([sys.executable, "-m", "flake8", *paths], root, stdin)
    assert flake8.returncode in (0, 1), flake8.stderr
    standalone_args = [a.replace("--stdin-display-name", "--stdin-filename") for a in paths]
    standalone = run([sys.executable, "-m", "flake8_ddp_unused", *standalone_args], root, stdin)
    assert standalone.returncode in (0, 1), standalone.stderr
    assert "Traceback" not in standalone.stderr
    return parse(flake8.stdout), parse(standalone.stdout)


def project(root: Path, files: Dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_plain_project(tmp_path: Path) -> None:
    root = project(tmp_path, {"pkg/__init__.py": "", "pkg/model.py": MODEL, "train.py": LAUNCH})
    flake8, standalone = both(root)
    assert flake8 == standalone
    assert [f[3] for f in flake8] == ["DDP001", "DDP201"]


def test_noqa_comments(tmp_path: Path) -> None:
    source = MODEL + textwrap.dedent("""\


        class Other(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Linear(4, 4)  # noqa: DDP001
                self.b = nn.Linear(4, 4)  # noqa
                self.c = nn.Linear(4, 4)  # noqa: E501
                self.d = nn.Linear(4, 4)  # NOQA:DDP0
                self.e = nn.Linear(4, 4)  # noqa: DDP1
                self.used = nn.Linear(4, 4)

            def forward(self, x):
                return self.used(x)
        """)
    root = project(tmp_path, {"model.py": source})
    flake8, standalone = both(root)
    assert flake8 == standalone
    assert [f[4].split(" ")[0] for f in flake8] == ["self.pooler", "self.c", "self.e"]


def test_file_level_noqa(tmp_path: Path) -> None:
    root = project(tmp_path, {"model.py": "# flake8: noqa\n" + MODEL, "other.py": MODEL})
    flake8, standalone = both(root)
    assert flake8 == standalone and {f[0] for f in flake8} == {"other.py"}


def test_per_file_ignores(tmp_path: Path) -> None:
    root = project(tmp_path, {
        "pkg/__init__.py": "", "pkg/model.py": MODEL, "pkg/legacy/old.py": MODEL, "pkg/other.py": MODEL,
        "train.py": LAUNCH,
        "setup.cfg": "[flake8]\nper-file-ignores =\n    pkg/legacy/*.py:DDP001\n    other.py:DDP\n"
                     "    train.py:DDP2\n",
    })
    flake8, standalone = both(root)
    assert flake8 == standalone
    assert [(f[0], f[3]) for f in flake8] == [("pkg/model.py", "DDP001")]


def test_exclude_and_extend_exclude(tmp_path: Path) -> None:
    root = project(tmp_path, {
        "pkg/model.py": MODEL, "build/model.py": MODEL, "gen/a/model.py": MODEL, "keep/model.py": MODEL,
        "tox.ini": "[flake8]\nextend-exclude = build,gen/a\n",
    })
    flake8, standalone = both(root)
    assert flake8 == standalone
    assert {f[0] for f in flake8} == {"pkg/model.py", "keep/model.py"}
    (root / "tox.ini").write_text("[flake8]\nexclude = keep\n", encoding="utf-8")
    flake8, standalone = both(root)
    assert flake8 == standalone
    assert {f[0] for f in flake8} == {"pkg/model.py", "build/model.py", "gen/a/model.py"}


@pytest.mark.parametrize("config, codes", [
    ("extend-ignore = D\n", []),  # pydocstyle's prefix swallows DDP in flake8
    ("ignore = D\n", []),
    ("extend-ignore = D\nextend-select = DDP\n", ["DDP001"]),
    ("ignore = E501\n", ["DDP001", "DDP901"]),  # `ignore` replaces the default list holding DDP9xx
    ("extend-ignore = E501\n", ["DDP001"]),
    ("extend-select = D\n", ["DDP001", "DDP901"]),
    ("extend-select = DDP901\nextend-ignore = DDP0\n", ["DDP901"]),
])
def test_select_and_ignore(tmp_path: Path, config: str, codes: List[str]) -> None:
    root = project(tmp_path, {"model.py": MODEL, ".flake8": "[flake8]\n" + config})
    flake8, standalone = both(root)
    assert flake8 == standalone
    assert [f[3] for f in flake8] == codes


def test_pyproject_tool_flake8(tmp_path: Path) -> None:
    pytest.importorskip("flake8p", reason="flake8 reads [tool.flake8] only with Flake8-pyproject")
    root = project(tmp_path, {
        "model.py": MODEL, "legacy/model.py": MODEL, "skipped/model.py": MODEL,
        "pyproject.toml": textwrap.dedent("""\
            [tool.flake8]
            extend-select = ["DDP901"]
            extend-exclude = ["skipped"]
            per-file-ignores = ["legacy/*.py:DDP0"]
            """),
        "setup.cfg": "[flake8]\nextend-ignore = DDP\n",  # Flake8-pyproject prefers pyproject.toml
    })
    flake8, standalone = both(root)
    assert flake8 == standalone
    assert [(f[0], f[3]) for f in flake8] == [("legacy/model.py", "DDP901"), ("model.py", "DDP001"),
                                              ("model.py", "DDP901")]


def test_stdin(tmp_path: Path) -> None:
    root = project(tmp_path, {"pkg/__init__.py": "", "pkg/model.py": MODEL,
                              "setup.cfg": "[flake8]\nper-file-ignores = pkg/ignored.py:DDP\n"})
    for name, expected in (("pkg/model.py", ["DDP001"]), ("pkg/ignored.py", [])):
        flake8, standalone = both(root, "--stdin-display-name", name, "-", stdin=MODEL)
        assert flake8 == standalone
        assert [f[3] for f in flake8] == expected and all(f[0] == name for f in flake8)
    # the launch site on stdin resolves the model through the project, as flake8 does
    flake8, standalone = both(root, "--stdin-display-name", "train.py", "-", stdin=LAUNCH)
    assert flake8 == standalone and [f[3] for f in flake8] == ["DDP201"]


def test_invalid_utf8_is_read_as_flake8_reads_it(tmp_path: Path) -> None:
    """flake8 falls back to latin-1 when a file is not valid UTF-8; the standalone does the same."""
    root = project(tmp_path, {})
    (root / "model.py").write_bytes(b"# caf\xe9 (latin-1, not UTF-8)\n" + MODEL.encode("utf-8"))
    flake8, standalone = both(root)
    assert flake8 == standalone and [f[3] for f in flake8] == ["DDP001"]


def test_notebook_matches_flake8_on_its_cells(tmp_path: Path) -> None:
    """A notebook's findings are flake8's findings on its code cells put one after the other, with the
    line mapped back to (cell, line in cell)."""
    lines = MODEL.splitlines(keepends=True)
    cells = [["import torch\n", "%matplotlib inline\n", lines[0]], lines[1:4], lines[4:]]
    notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Model\n"]}] + [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": cell}
        for cell in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    root = project(tmp_path / "nbproject", {"nb.ipynb": json.dumps(notebook)})
    script = "".join("".join(cell) for cell in cells).replace("%matplotlib inline", "# %matplotlib inline")
    project(tmp_path / "flat", {"nb.py": script})
    flake8 = parse(run([sys.executable, "-m", "flake8", "nb.py"], tmp_path / "flat").stdout)
    standalone = run([sys.executable, "-m", "flake8_ddp_unused", "--format", "json", "."], root)
    assert standalone.returncode == 1, standalone.stderr
    starts = [sum(len(c) for c in cells[:i]) for i in range(len(cells))]
    mapped = sorted(("nb.ipynb", starts[item["cell"] - 1] + item["line"], item["column"], item["code"],
                     item["message"]) for item in json.loads(standalone.stdout))
    assert mapped == [("nb.ipynb",) + f[1:] for f in flake8] and flake8


def test_duplicated_section_is_an_error_in_both(tmp_path: Path) -> None:
    root = project(tmp_path, {"model.py": MODEL,
                              "setup.cfg": "[flake8]\nmax-line-length = 100\n[flake8]\nextend-ignore = E501\n"})
    flake8 = run([sys.executable, "-m", "flake8", "."], root)
    standalone = run([sys.executable, "-m", "flake8_ddp_unused", "."], root)
    assert flake8.returncode != 0 and "DuplicateSectionError" in flake8.stderr
    assert standalone.returncode == 2 and "section 'flake8' already exists" in standalone.stderr
    assert standalone.stdout == "" and "Traceback" not in standalone.stderr
