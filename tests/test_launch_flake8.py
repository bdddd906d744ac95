"""Through the real flake8 executable: line, column, message, noqa."""
from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

PROJECT = Path(__file__).resolve().parent / "projects" / "fastnlp_app"


def _flake8(*args: str, cwd: Path) -> str:
    # the flake8 executable of the interpreter running the tests (a flake8 elsewhere on PATH may lack the plugin)
    exe = shutil.which("flake8", path=sysconfig.get_path("scripts"))
    cmd = [exe] if exe else [sys.executable, "-m", "flake8"]
    done = subprocess.run(cmd + ["--select", "DDP", *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def test_flake8_reports_launch_on_the_call_line(tmp_path: Path) -> None:
    shutil.copytree(PROJECT, tmp_path / "proj")
    root = tmp_path / "proj"
    out = _flake8("app/train.py", cwd=root)
    lines = out.splitlines()
    # flake8 adds 1 to the plugin's 0-based column: `trainer = Trainer(` -> the call starts at column 15
    assert any(line.startswith("app/train.py:8:15: DDP201 Trainer(...): self.unused_head in Net gets no gradient")
               and 'torch_kwargs={"ddp_kwargs": {"find_unused_parameters": True}}' in line
               for line in lines), out
    assert any(line.startswith("app/train.py:11:5: DDP202") for line in lines), out

    train = root / "app" / "train.py"
    text = train.read_text().replace("optimizers=opt)  # expect: DDP201", "optimizers=opt)  # noqa: DDP201")
    train.write_text(text)
    out = _flake8("app/train.py", "--jobs", "2", cwd=root)
    assert "app/train.py:8:" not in out and "app/train.py:10:5: DDP201" in out, out
