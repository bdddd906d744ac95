"""Every fixture with a build(): the analyser's findings name exactly the parameters torch leaves without grad."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from .conftest import fixture_files
from .fixture_runtime import (expected_culprits, has_ground_truth, load_fixture, qualified_known_silent,
                              registered, runtime_culprits)

GROUND_TRUTH_FIXTURES = [p for p in fixture_files() if has_ground_truth(p)]


@pytest.mark.parametrize("path", GROUND_TRUTH_FIXTURES, ids=lambda p: p.stem)
def test_findings_match_runtime(path: Path) -> None:
    module = load_fixture(path)
    torch.manual_seed(0)
    spec = module.build()
    assert "step" in spec, f"{path.name}: build() must provide a step"
    model = spec["model"]
    waited_for = registered(model)  # before train(): what DDP registers when it wraps the model
    runtime = runtime_culprits(spec)
    silent = qualified_known_silent(module, model, waited_for)
    expected = expected_culprits(path, model, waited_for) - silent
    runtime -= silent
    assert runtime == expected, (
        f"{path.name}\n  runtime-only (missed by the linter): {sorted(runtime - expected)}"
        f"\n  linter-only (false alarms): {sorted(expected - runtime)}"
    )


def test_most_fixtures_have_ground_truth() -> None:
    opted_out = [p for p in fixture_files() if not has_ground_truth(p)]
    assert len(opted_out) <= max(2, len(fixture_files()) // 5), opted_out
