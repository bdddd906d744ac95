"""Every fixture: the analyser reports exactly the (line, code) pairs its comments announce."""
from __future__ import annotations

from pathlib import Path

import pytest

from flake8_ddp_unused.lint import analyze_source

from .conftest import expected_findings, fixture_files


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.stem)
def test_fixture_findings(path: Path) -> None:
    findings = analyze_source(path.read_text(encoding="utf-8"), str(path))
    got = {(f.line, f.code) for f in findings}
    assert got == expected_findings(path), "\n".join(f"{f.line}:{f.col} {f.text}" for f in findings)


def test_there_are_fixtures() -> None:
    assert len(fixture_files()) >= 1
