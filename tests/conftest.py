"""Shared test helpers: fixtures carry their expectations as ``# expect: DDP001`` trailing comments."""
from __future__ import annotations

import re
from pathlib import Path
from typing import List, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXPECT = re.compile(r"#\s*expect:\s*([A-Z]{3}\d{3}(?:\s*,\s*[A-Z]{3}\d{3})*)")


def expected_findings(path: Path) -> Set[Tuple[int, str]]:
    """(line, code) pairs announced by ``# expect: CODE[, CODE]`` comments."""
    found: Set[Tuple[int, str]] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            for code in match.group(1).split(","):
                found.add((number, code.strip()))
    return found


def fixture_files() -> List[Path]:
    return sorted(p for p in FIXTURES.glob("*.py") if not p.name.startswith("_"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
