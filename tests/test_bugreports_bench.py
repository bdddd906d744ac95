"""The bug-report recall benchmark (benchmarks/bugreports): its case file, its scoring, and the runtime truth of
its reconstructions (torch CPU). Fetching and linting the pinned packages is the benchmark's own job (network)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "benchmarks" / "bugreports" / "run.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bugreports_run", RUN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


run = _load()
CASES = run.load_cases()
RECONSTRUCTED = [c for c in CASES if c.source == "reconstructed"]


def test_case_file_meets_the_brief() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)
    assert len(RECONSTRUCTED) * 3 <= len(CASES)  # at most a third rebuilt by hand
    assert any(c.side == "training" for c in CASES)
    for case in CASES:
        assert case.evidence in {"maintainer", "DETAIL", "fix-commit", "inferred"}, case.id
        assert case.url.startswith("https://github.com/"), case.id
        assert case.culprits and all("." in name for name in case.culprits), case.id
        assert all(req.count("==") == 1 for req in case.packages), case.id
        if case.source == "pypi":
            assert case.packages and case.lint, case.id
        else:
            assert case.source == "reconstructed" and (RUN.parent / case.file).is_file(), case.id
            # the runtime truth lives in cases.toml: in the linted file its dotted names would read as uses
            assert case.no_grad and "RUNTIME_NO_GRAD" not in (RUN.parent / case.file).read_text(), case.id


def test_parse_reads_model_and_launch_findings() -> None:
    out = (
        "m.py:12:9: DDP001 self.pooler in Encoder is never used by forward(), so ...\n"
        "t.py:16:13: DDP201 DDP(model) starts DDP ..., but self.encoder.pooler, self.aux in Classifier gets no ...\n"
        "m.py:1:1: E501 line too long\n"
    )
    findings = run.parse(out)
    assert [f.code for f in findings] == ["DDP001", "DDP201"]
    assert findings[0].names == ["Encoder.pooler"]
    assert findings[1].names == ["Classifier.encoder.pooler", "Classifier.aux"]
    assert run.names_culprit(findings[1], ["Classifier.encoder.pooler"])
    assert run.names_culprit(findings[0], ["Encoder.pooler"])
    assert not run.names_culprit(findings[0], ["Encoder.pool"])  # a prefix of the name is not the culprit


def _needs(case: "run.Case") -> None:
    if any(req.startswith("transformers==") for req in case.packages):
        pytest.importorskip("transformers")


@pytest.mark.parametrize("case", RECONSTRUCTED, ids=[c.id for c in RECONSTRUCTED])
def test_reconstruction_leaves_exactly_the_reported_parameters_without_gradient(case: "run.Case") -> None:
    _needs(case)
    ok, detail = run.verify(case)
    assert ok, detail
