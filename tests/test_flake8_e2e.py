"""Through the real ``flake8`` executable: codes, 1-based columns, noqa, select/ignore, default-off codes.

Each test runs ``python -m flake8 --isolated`` (no configuration file) in a temporary directory, except
where a configuration file is the point (see test_config_flake8.py).
"""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List, Tuple

import pytest

MODEL = textwrap.dedent('''\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(4, 4)
            self.pooler = nn.Linear(4, 4)
            self.label_proj = nn.Linear(4, 4)

        def forward(self, x, labels=None):
            out = self.body(x)
            if labels is not None:
                out = out + self.label_proj(labels)
            return out
    ''')
POOLER_LINE, LABEL_LINE = 8, 9


def flake8(tmp_path: Path, *args: str, source: str = MODEL, isolated: bool = True) -> Tuple[int, List[str]]:
    """Run flake8 on model.py in tmp_path; returns (exit status, output lines)."""
    (tmp_path / "model.py").write_text(source, encoding="utf-8")
    cmd = [sys.executable, "-m", "flake8", *(["--isolated"] if isolated else []), *args, "model.py"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert not proc.stderr.strip() or "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout.splitlines()


def ddp(lines: List[str]) -> List[Tuple[int, int, str]]:
    """(line, column, code) of the DDP findings in flake8's default output."""
    out = []
    for line in lines:
        _, row, col, rest = line.split(":", 3)
        code = rest.split()[0]
        if code.startswith("DDP"):
            out.append((int(row), int(col), code))
    return out


def test_code_line_and_one_based_column(tmp_path: Path) -> None:
    status, lines = flake8(tmp_path, "--select", "DDP")
    # the plugin yields column 8 (0-based, at `self`); flake8 prints 9
    assert (POOLER_LINE, 9, "DDP001") in ddp(lines)
    assert status == 1
    pooler = next(line for line in lines if ":8:9: DDP001 " in line)
    assert pooler.startswith("model.py:8:9: DDP001 self.pooler in Net gets no gradient: unused in forward()")


def test_default_off_code_is_off_by_default(tmp_path: Path) -> None:
    _, lines = flake8(tmp_path)
    assert ddp(lines) == [(POOLER_LINE, 9, "DDP001")]


def test_extend_select_turns_on_default_off_code(tmp_path: Path) -> None:
    _, lines = flake8(tmp_path, "--extend-select", "DDP901")
    assert ddp(lines) == [(POOLER_LINE, 9, "DDP001"), (LABEL_LINE, 9, "DDP901")]


def test_select_prefix(tmp_path: Path) -> None:
    _, lines = flake8(tmp_path, "--select", "DDP0")
    assert ddp(lines) == [(POOLER_LINE, 9, "DDP001")]
    status, lines = flake8(tmp_path, "--select", "E,W")
    assert ddp(lines) == [] and status == 0


def test_extend_ignore(tmp_path: Path) -> None:
    status, lines = flake8(tmp_path, "--extend-ignore", "DDP001")
    assert ddp(lines) == []
    assert status == 0


def test_explicit_ignore_replaces_flake8_default_ignore(tmp_path: Path) -> None:
    """flake8 behaviour the README warns about: `--ignore` drops the default ignore list, which holds
    the off-by-default codes, so they come on. Use `--extend-ignore` instead."""
    _, lines = flake8(tmp_path, "--ignore", "E501")
    assert (LABEL_LINE, 9, "DDP901") in ddp(lines)


def test_noqa_on_reported_line_suppresses(tmp_path: Path) -> None:
    source = MODEL.replace("self.pooler = nn.Linear(4, 4)", "self.pooler = nn.Linear(4, 4)  # noqa: DDP001")
    status, lines = flake8(tmp_path, "--select", "DDP", source=source)
    assert ddp(lines) == [(LABEL_LINE, 9, "DDP901")]


def test_noqa_for_another_code_does_not_suppress(tmp_path: Path) -> None:
    source = MODEL.replace("self.pooler = nn.Linear(4, 4)", "self.pooler = nn.Linear(4, 4)  # noqa: DDP002")
    _, lines = flake8(tmp_path, source=source)
    assert ddp(lines) == [(POOLER_LINE, 9, "DDP001")]


def test_noqa_on_another_line_does_not_suppress(tmp_path: Path) -> None:
    source = MODEL.replace("self.body = nn.Linear(4, 4)", "self.body = nn.Linear(4, 4)  # noqa: DDP001")
    source = source.replace("class Net(nn.Module):", "class Net(nn.Module):  # noqa: DDP001")
    _, lines = flake8(tmp_path, source=source)
    assert ddp(lines) == [(POOLER_LINE, 9, "DDP001")]


def test_disable_noqa_shows_suppressed(tmp_path: Path) -> None:
    source = MODEL.replace("self.pooler = nn.Linear(4, 4)", "self.pooler = nn.Linear(4, 4)  # noqa: DDP001")
    _, lines = flake8(tmp_path, "--disable-noqa", source=source)
    assert ddp(lines) == [(POOLER_LINE, 9, "DDP001")]


def test_clean_model_exits_zero(tmp_path: Path) -> None:
    source = MODEL.replace("self.pooler = nn.Linear(4, 4)\n", "")
    status, lines = flake8(tmp_path, "--select", "DDP0,DDP1", source=source)
    assert (status, lines) == (0, [])


@pytest.mark.parametrize("source", [
    "def f(:\n    pass\n",  # syntax error: flake8 says E999, the plugin must not crash the run
    "import torch\nx = (" + "(" * 90 + ")" * 90 + ")\n",
    "",
])
def test_plugin_never_crashes_flake8(tmp_path: Path, source: str) -> None:
    (tmp_path / "model.py").write_text(source, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "model.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr and "DDP999" not in proc.stdout, proc.stdout + proc.stderr


def test_stdin_with_display_name(tmp_path: Path) -> None:
    """Editors pipe the buffer to flake8 as `-`; findings carry the display name."""
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "DDP0",
                           "--stdin-display-name", "pkg/model.py", "-"], input=MODEL, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.startswith("pkg/model.py:8:9: DDP001 "), proc.stdout + proc.stderr


def test_examples_directory_as_in_readme(root: Path) -> None:
    """README: `flake8 examples/` shows the DDP finding of the bundled example."""
    proc = subprocess.run([sys.executable, "-m", "flake8", "examples/"], cwd=root, capture_output=True,
                          text=True, timeout=120)
    # the exact output is the README demo (tests/test_docs.py); here: the finding is there, at column 9
    assert re.search(r"^examples/bert_classifier\.py:\d+:9: DDP001 self\.pooler in Encoder", proc.stdout, re.M), \
        proc.stdout
