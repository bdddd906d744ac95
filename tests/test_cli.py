"""The standalone command: the console script and ``python -m``, exit status, select/ignore, explain,
skipped files, progress, --fix/--diff wiring."""
from __future__ import annotations

import dataclasses
import io
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import List, Tuple

import pytest

from flake8_ddp_unused.cli import main
from flake8_ddp_unused.registry import all_rules, rules_by_code

from .test_flake8_e2e import MODEL


def run(*args: str, cwd: Path) -> Tuple[int, str, str]:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        out, err = io.StringIO(), io.StringIO()
        status = main(list(args), out, err)
        return status, out.getvalue(), err.getvalue()
    finally:
        os.chdir(old)


def codes(out: str) -> List[str]:
    return [line.split(": ", 1)[1].split()[0] for line in out.splitlines()]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "model.py").write_text(MODEL, encoding="utf-8")
    (tmp_path / "pkg" / "clean.py").write_text("import torch\n", encoding="utf-8")
    return tmp_path


def test_python_dash_m_and_console_script(project: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "flake8_ddp_unused", "--isolated", "pkg"], cwd=project,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stdout.startswith("pkg/model.py:8:9: DDP001 self.pooler in Net"), proc.stdout + proc.stderr
    script = shutil.which("flake8-ddp-unused", path=sysconfig.get_path("scripts")) or shutil.which(
        "flake8-ddp-unused")
    assert script, "console script flake8-ddp-unused not installed (pip install -e .)"
    proc2 = subprocess.run([script, "--isolated", "pkg"], cwd=project, capture_output=True, text=True,
                           timeout=120)
    assert (proc2.returncode, proc2.stdout) == (proc.returncode, proc.stdout)


def test_default_path_is_current_directory(project: Path) -> None:
    status, out, _ = run("--isolated", cwd=project)
    assert status == 1 and out.startswith("pkg/model.py:8:9: DDP001")


def test_exit_zero_when_clean(project: Path) -> None:
    assert run("--isolated", "pkg/clean.py", cwd=project) == (0, "", "")


def test_select_ignore_prefixes(project: Path) -> None:
    assert codes(run("--isolated", "--extend-select", "DDP901", cwd=project)[1]) == ["DDP001", "DDP901"]
    assert codes(run("--isolated", "--select", "DDP9", cwd=project)[1]) == ["DDP901"]
    assert codes(run("--isolated", "--select", "DDP", cwd=project)[1]) == ["DDP001", "DDP901"]
    # as flake8: `ignore` replaces flake8's default ignore list, which holds the off-by-default DDP9xx codes
    assert codes(run("--isolated", "--ignore", "DDP0", cwd=project)[1]) == ["DDP901"]
    assert run("--isolated", "--extend-ignore", "DDP0", cwd=project)[:2] == (0, "")
    assert run("--isolated", "--extend-ignore", "DDP", cwd=project)[:2] == (0, "")


def test_unparsable_file_is_skipped_with_a_message(project: Path) -> None:
    (project / "pkg" / "broken.py").write_text("import torch\ndef f(:\n", encoding="utf-8")
    status, out, err = run("--isolated", "pkg", cwd=project)
    assert status == 1 and codes(out) == ["DDP001"]
    assert "pkg/broken.py: cannot parse, skipped (SyntaxError" in err


@pytest.mark.parametrize("content", [
    b"# -*- coding: latin-1 -*-\nimport torch\nname = '\xe9'\n",
    b"\xef\xbb\xbfimport torch\n",
    b"import torch\x00\n",
    b"import torch\nx = " + b"(" * 300 + b")" * 300 + b"\n",
    b"\xff\xfe not utf-8 torch\n",
    b"# coding: no-such-codec\nimport torch\n",
])
def test_odd_files_never_crash(project: Path, content: bytes) -> None:
    (project / "pkg" / "odd.py").write_bytes(content)
    status, out, err = run("--isolated", "pkg", cwd=project)
    assert status == 1 and codes(out) == ["DDP001"], err
    assert "Traceback" not in err


def test_missing_path_is_a_usage_error(project: Path) -> None:
    status, _, err = run("--isolated", "nope", cwd=project)
    assert status == 2 and "nope" in err


def test_excludes_apply_while_walking(project: Path) -> None:
    (project / ".venv").mkdir()
    (project / ".venv" / "model.py").write_text(MODEL, encoding="utf-8")
    assert run("--isolated", "--extend-exclude", ".venv", ".", cwd=project)[1].count("DDP001") == 1
    assert run("--isolated", "--extend-exclude", "pkg/model.py,.venv", ".", cwd=project)[:2] == (0, "")
    (project / "setup.cfg").write_text("[flake8]\nextend-exclude = .venv,pkg/model.py\n", encoding="utf-8")
    assert run(".", cwd=project)[:2] == (0, "")
    assert run("pkg/model.py", cwd=project)[0] == 1  # a file named on the command line is linted


def test_explain(capsys: pytest.CaptureFixture[str]) -> None:
    for rule in all_rules():
        out = io.StringIO()
        assert main(["explain", rule.code.lower()], out) == 0
        text = out.getvalue()
        assert text.startswith(f"## {rule.code} `{rule.name}`")
        for section in ("What it does", "Why is this bad?", "Example", "Use instead", "Known limits",
                        "Options", "Fix safety"):
            assert f"### {section}" in text
    assert main(["explain", "DDP000"], io.StringIO()) == 2
    assert "known codes: DDP001" in capsys.readouterr().err


def test_progress_on_stderr(project: Path) -> None:
    status, out, err = run("--isolated", "--progress", "pkg", cwd=project)
    assert "[1/2] pkg/clean.py" in err and "[2/2] pkg/model.py" in err
    assert codes(out) == ["DDP001"]
    assert run("--isolated", "pkg", cwd=project)[2] == ""  # not a terminal: no progress


def test_fix_and_diff_are_wired(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--fix/--diff call flake8_ddp_unused.fixes when present; a clear message when it is not."""
    try:
        import flake8_ddp_unused.fixes  # noqa: F401
    except ImportError:
        status, _, err = run("--isolated", "--diff", "pkg", cwd=project)
        assert status == 2 and "flake8_ddp_unused.fixes" in err and "Traceback" not in err
        return
    status, _, err = run("--isolated", "--diff", "pkg", cwd=project)
    assert status in (0, 1) and "Traceback" not in err


def test_fix_calls_fix_source(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a stand-in fixes module: --diff prints diff_source's text, --fix writes fix_source's result."""
    import types

    import flake8_ddp_unused.cli as cli

    fake = types.ModuleType("fixes")
    fake.fix_source = lambda source, filename, settings, max_line_length: source.replace(  # type: ignore
        "        self.pooler = nn.Linear(4, 4)\n", "")
    fake.diff_source = lambda source, filename, settings, max_line_length: (  # type: ignore[attr-defined]
        f"--- {filename}\n+++ {filename}\n")
    monkeypatch.setattr(cli, "_fix_functions", lambda: (fake.fix_source, fake.diff_source))
    fixable = {code: dataclasses.replace(rule, fixable=True) for code, rule in rules_by_code().items()}
    monkeypatch.setattr(cli, "rules_by_code", lambda: fixable)
    status, out, _ = run("--isolated", "--diff", "pkg/model.py", cwd=project)
    assert (status, out) == (1, "--- pkg/model.py\n+++ pkg/model.py\n")
    assert (project / "pkg" / "model.py").read_text(encoding="utf-8") == MODEL
    status, out, _ = run("--isolated", "--fix", "pkg/model.py", cwd=project)
    assert (status, out) == (0, "")
    assert "pooler" not in (project / "pkg" / "model.py").read_text(encoding="utf-8")


def test_same_findings_as_flake8_on_the_examples(root: Path) -> None:
    """One engine: the standalone command and the plugin agree on examples/ (cross-file launch sites too)."""
    flake8 = subprocess.run([sys.executable, "-m", "flake8", "--select", "DDP", "examples/"], cwd=root,
                            capture_output=True, text=True, timeout=300)
    standalone = subprocess.run([sys.executable, "-m", "flake8_ddp_unused", "--select", "DDP", "examples/"],
                                cwd=root, capture_output=True, text=True, timeout=300)
    assert standalone.stdout == flake8.stdout and flake8.stdout
    assert standalone.returncode == flake8.returncode == 1


def test_fix_and_diff_with_the_real_fixes(root: Path, tmp_path: Path) -> None:
    """examples/fastnlp_app: --diff shows the launch-site fix, --fix applies it, the model finding stays."""
    app = tmp_path / "fastnlp_app"
    shutil.copytree(root / "examples" / "fastnlp_app", app, ignore=shutil.ignore_patterns("__pycache__"))
    before = {path.name: path.read_text(encoding="utf-8") for path in app.glob("*.py")}
    status, diff, err = run("--isolated", "--diff", "fastnlp_app", cwd=tmp_path)
    assert status == 1 and "find_unused_parameters" in diff and diff.startswith("--- "), err
    assert {path.name: path.read_text(encoding="utf-8") for path in app.glob("*.py")} == before
    status, out, err = run("--isolated", "--fix", "fastnlp_app", cwd=tmp_path)
    assert "DDP201" not in out and "DDP001" in out and status == 1, out + err
    changed = [name for name, text in before.items() if (app / name).read_text(encoding="utf-8") != text]
    assert changed == ["train.py"]
    assert run("--isolated", "--diff", "fastnlp_app", cwd=tmp_path)[:2] == (0, "")  # idempotent
