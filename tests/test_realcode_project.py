"""A package whose layers are driven from other files (issue 10): a parent calls child.sample() before
child(i), a criterion calls model.get_normalized_probs(), a base class is only built as a subclass that
deletes what the base's forward would miss. Checked through real flake8 and against torch gradients."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Set, Tuple

from tests.conftest import expected_findings
from tests.fixture_runtime import runtime_culprits

PROJECT = Path(__file__).resolve().parent / "projects" / "realcode_pkg"
PACKAGE = PROJECT / "rcpkg"


def test_findings_are_exactly_the_expected_ones() -> None:
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "DDP", "rcpkg"],
                          cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    got: Set[Tuple[str, int, str]] = set()
    for line in proc.stdout.splitlines():
        path, row, _, rest = line.split(":", 3)
        got.add((Path(path).name, int(row), rest.split()[0]))
    expected = {(p.name, line, code) for p in sorted(PACKAGE.glob("*.py")) for line, code in expected_findings(p)}
    assert got == expected, proc.stdout


def test_runtime_agrees() -> None:
    sys.path.insert(0, str(PROJECT))
    try:
        from rcpkg.train import build
        missing = runtime_culprits(build())
    finally:
        sys.path.remove(str(PROJECT))
    # only the probe's debug head, which nothing calls, is left without gradient
    assert missing == {"probe.debug_probe.weight", "probe.debug_probe.bias"}


def test_recipe_outside_the_package_trains_the_optional_decoder() -> None:
    """speechbrain TransformerST: the recipe (not linted, outside the package) calls forward_asr() in every
    step, so asr_decoder gets a gradient (the linter is silent about it); asr_ctc, reported, gets none."""
    sys.path.insert(0, str(PROJECT))
    try:
        from recipe_st import build
        missing = runtime_culprits(build())
    finally:
        sys.path.remove(str(PROJECT))
    assert missing == {"asr_ctc.weight", "asr_ctc.bias"}
