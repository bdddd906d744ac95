"""docs/rules.md is generated from the registry; README snippets match what the tests run."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from flake8_ddp_unused.docs import REGENERATE, render
from flake8_ddp_unused.registry import all_rules


def test_rules_md_is_up_to_date(root: Path) -> None:
    path = root / "docs" / "rules.md"
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    assert current == render(), f"docs/rules.md is stale: run `{REGENERATE}` and commit docs/rules.md"


def test_every_rule_has_every_section() -> None:
    text = render()
    for rule in all_rules():
        section = text.split(f"## {rule.code} ", 1)[1].split("\n## ", 1)[0]
        for heading in ("What it does", "Why is this bad?", "Example", "Use instead", "Known limits", "Options",
                        "Fix safety"):
            assert f"### {heading}" in section, (rule.code, heading)
        assert ("Default: **on**" in section) is rule.default_on


def test_check_mode_reports_staleness(tmp_path: Path) -> None:
    stale = tmp_path / "rules.md"
    stale.write_text("old\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "flake8_ddp_unused.docs", "--check", "--output", str(stale)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and REGENERATE in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "flake8_ddp_unused.docs", "--output", str(stale)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and stale.read_text(encoding="utf-8") == render()


def test_readme_keeps_the_two_commands(root: Path) -> None:
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "pip install . && flake8 examples/" in readme
    assert "pip install -e '.[test]' && python -m pytest" in readme


def test_readme_links_exist(root: Path) -> None:
    readme = (root / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#:]+)\)", readme):
        assert (root / target).exists(), target
