"""docs/rules.md is generated from the registry; README snippets match what the tests run."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import json

import yaml

from flake8_ddp_unused.docs import DEMO_END, DEMO_START, REGENERATE, demo_block, refresh_readme, render
from flake8_ddp_unused.registry import all_rules

from .test_config import CUSTOM, HEAD, POOLER, README_FLAKE8_CONFIG, cli_codes
from .test_lsp import PYLSP_SETTINGS


def readme(root: Path) -> str:
    return (root / "README.md").read_text(encoding="utf-8")


def fenced(text: str, language: str) -> list:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_rules_md_is_up_to_date(root: Path) -> None:
    path = root / "docs" / "rules.md"
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    assert current == render(), f"docs/rules.md is stale: run `{REGENERATE}` and commit docs/rules.md"


def test_every_rule_has_every_section() -> None:
    text = render()
    for rule in all_rules():
        section = text.split(f"## {rule.code} ", 1)[1].split("\n## ", 1)[0]
        for heading in ("What it does", "Why is this bad?", "Example", "Use instead", "Known limits",
                        "Options", "Fix safety"):
            assert f"### {heading}" in section, (rule.code, heading)
        assert ("Default: **on**" in section) is rule.default_on


def test_check_mode_reports_staleness(tmp_path: Path) -> None:
    stale = tmp_path / "rules.md"
    stale.write_text("old\n", encoding="utf-8")
    no_readme = str(tmp_path / "README.md")
    proc = subprocess.run([sys.executable, "-m", "flake8_ddp_unused.docs", "--check", "--output", str(stale),
                           "--readme", no_readme], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and REGENERATE in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "flake8_ddp_unused.docs", "--output", str(stale),
                           "--readme", no_readme],
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


def test_readme_demo_is_real_output(root: Path) -> None:
    text = readme(root)
    assert DEMO_START in text and DEMO_END in text
    assert refresh_readme(text, demo_block(root)) == text, (
        f"the README demo differs from the real `flake8 examples/` output: run `{REGENERATE}`")


def test_refresh_readme_without_markers_changes_nothing() -> None:
    assert refresh_readme("# x\n", "block") == "# x\n"


def test_readme_flake8_config_is_the_tested_one(root: Path) -> None:
    assert README_FLAKE8_CONFIG in fenced(readme(root), "ini")


def test_readme_pyproject_snippet_works(root: Path, tmp_path: Path) -> None:
    (snippet,) = [block for block in fenced(readme(root), "toml") if "[tool.flake8-ddp-unused]" in block]
    (tmp_path / "pyproject.toml").write_text(snippet, encoding="utf-8")
    assert cli_codes(tmp_path, CUSTOM) == [f"{HEAD}:DDP001", f"{POOLER}:DDP001"]


def test_readme_pylsp_settings_are_the_tested_ones(root: Path) -> None:
    blocks = [json.loads(block) for block in fenced(readme(root), "json")]
    assert PYLSP_SETTINGS in blocks
    vscode = next(block for block in blocks if "flake8.importStrategy" in block)
    assert vscode["flake8.importStrategy"] == "fromEnvironment"


def test_readme_pre_commit_snippets_name_real_hooks(root: Path) -> None:
    hooks = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    configs = [yaml.safe_load(block) for block in fenced(readme(root), "yaml") if "hooks:" in block and
               "repos:" in block]
    used = {hook["id"]: hook for config in configs for repo in config["repos"] for hook in repo["hooks"]}
    assert set(used) == {hook["id"] for hook in hooks} | {"flake8"}
    assert used["flake8"]["additional_dependencies"] == ["flake8==7.*", "/path/to/flake8-ddp-unused"]
    # the local standalone hook runs what this repository's hook runs
    (ours,) = hooks
    for key in ("entry", "language", "types_or", "require_serial"):
        assert used["flake8-ddp-unused"][key] == ours[key], key


def test_readme_ci_snippets_use_tested_commands(root: Path) -> None:
    workflows = [yaml.safe_load(block) for block in fenced(readme(root), "yaml") if "jobs:" in block]
    steps = [step for workflow in workflows for job in workflow["jobs"].values() for step in job["steps"]]
    runs = [step["run"] for step in steps if "run" in step]
    assert "flake8-ddp-unused --format github ." in runs
    assert "flake8-ddp-unused --exit-zero --format sarif --output-file ddp.sarif ." in runs
    assert not any("|| true" in run for run in runs)  # it would hide configuration errors (exit 2)


def test_readme_codes_table_is_current(root: Path) -> None:
    from flake8_ddp_unused.docs import refresh_codes

    text = (root / "README.md").read_text(encoding="utf-8")
    assert "<!-- codes:start -->" in text
    assert refresh_codes(text) == text, f"README.md's table of codes is stale: run `{REGENERATE}`"
