"""The flow-analysis fixes of issue 9 through the real ``flake8`` executable: each fixture's findings are
exactly the lines and codes its ``# expect:`` comments announce (the same fixtures are checked against
torch gradients in test_ground_truth.py)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import FIXTURES, expected_findings

FLOW_FIX_FIXTURES = ["flow_container_references", "flow_per_batch_sizes", "flow_detached_stores",
                     "init_deepcopy_networks", "init_filled_containers", "init_frozen_elsewhere",
                     "flow_dead_stores", "init_state_wrappers", "init_state_switched", "callers_omit_argument",
                     "init_class_constructors", "flow_getattr_names", "init_computed_names",
                     "summaries_handed_modules", "init_held_parameters", "init_handed_to_functions",
                     "init_handed_to_containers"]


def test_flow_fix_fixtures_through_flake8() -> None:
    paths = [FIXTURES / f"{name}.py" for name in FLOW_FIX_FIXTURES]
    cmd = [sys.executable, "-m", "flake8", "--isolated", "--select", "DDP", *[p.name for p in paths]]
    proc = subprocess.run(cmd, cwd=FIXTURES, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    got = {name: set() for name in FLOW_FIX_FIXTURES}
    for line in proc.stdout.splitlines():
        path, row, _, rest = line.split(":", 3)
        got[Path(path).stem].add((int(row), rest.split()[0]))
    for name, path in zip(FLOW_FIX_FIXTURES, paths):
        assert got[name] == expected_findings(path), (name, proc.stdout)
    assert sum(len(found) for found in got.values()) >= 20
