"""The project's own code passes flake8 with the project's configuration (setup.cfg), this plugin included."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_own_code_is_flake8_clean(root: Path) -> None:
    tests = sorted(str(path.relative_to(root)) for path in (root / "tests").glob("*.py"))
    paths = ["flake8_ddp_unused", "benchmarks", *tests]
    proc = subprocess.run([sys.executable, "-m", "flake8", *paths], cwd=root, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
