"""Same files, same output: across runs, hash seeds (set and dict orders) and ``--jobs``."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from synth import synthetic_source  # noqa: E402


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> List[str]:
    """The fixtures, the examples, the launch and project test trees, and a synthetic model file."""
    synthetic = tmp_path_factory.mktemp("determinism") / "synthetic.py"
    synthetic.write_text(synthetic_source(600))
    paths = [ROOT / "tests" / name for name in ("fixtures", "launch", "projects")] + [ROOT / "examples", synthetic]
    return [str(p) for p in paths if p.exists()]


def flake8(paths: List[str], seed: str, jobs: int) -> List[str]:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", f"--jobs={jobs}", "--select", "DDP",
         "--extend-select", "DDP9", *paths], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1), result.stderr
    return result.stdout.splitlines()


def test_output_is_identical_across_hash_seeds_and_jobs(corpus: List[str]) -> None:
    reference = flake8(corpus, "0", 1)
    assert reference, "the corpus has findings"
    assert not [line for line in reference if " DDP999 " in line], reference
    # flake8 prints files in the order given, findings of a file sorted: the whole output must match.
    assert flake8(corpus, "12345", 1) == reference
    assert flake8(corpus, "987", 2) == reference
