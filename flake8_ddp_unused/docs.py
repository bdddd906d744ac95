"""``docs/rules.md``, generated from the rule registry.

Regenerate after any change to a rule:   python -m flake8_ddp_unused.docs
Check without writing (exit 1 if stale): python -m flake8_ddp_unused.docs --check
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from .registry import Rule, all_rules

REGENERATE = "python -m flake8_ddp_unused.docs"
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
MISSING = "_Not documented yet._"


def _code_block(text: str) -> str:
    return f"```python\n{text.rstrip()}\n```" if text.strip() else MISSING


def _text(text: str) -> str:
    return text.strip() or MISSING


def rule_sections(rule: Rule) -> List[str]:
    """The documentation of one rule as Markdown sections (shared by docs/rules.md and ``explain``)."""
    default = "on" if rule.default_on else f"off (enable with `--extend-select {rule.code}`)"
    return [
        f"## {rule.code} `{rule.name}`",
        f"Default: **{default}**. Autofix: **{'yes' if rule.fixable else 'no'}**.",
        f"Message: `{rule.code} {rule.message}`",
        f"### What it does\n\n{_text(rule.summary)}",
        f"### Why is this bad?\n\n{_text(rule.why)}",
        f"### Example\n\n{_code_block(rule.example)}",
        f"### Use instead\n\n{_code_block(rule.use_instead)}",
        f"### Known limits\n\n{_text(rule.known_limits) if rule.known_limits else 'None known.'}",
        f"### Options\n\n{_text(rule.options) if rule.options else 'None.'}",
        f"### Fix safety\n\n{_text(rule.fix_safety)}",
    ]


def render_rule(rule: Rule) -> str:
    return "\n\n".join(rule_sections(rule)) + "\n"


def render(rules: Optional[Sequence[Rule]] = None) -> str:
    rules = tuple(all_rules() if rules is None else rules)
    header = [
        "# Rules",
        f"<!-- Generated from flake8_ddp_unused/registry.py by `{REGENERATE}`. Do not edit by hand. -->",
        "Every code this plugin reports. Codes marked *off* are enabled with `--extend-select CODE` "
        "(flake8 and `flake8-ddp-unused` alike). Suppress one finding with `# noqa: CODE` on the "
        "reported line. `flake8-ddp-unused explain CODE` prints a section of this page.",
        "| code | name | default | autofix | what it does |\n|---|---|---|---|---|\n" + "\n".join(
            f"| [{r.code}](#{r.code.lower()}-{r.name}) | `{r.name}` | {'on' if r.default_on else 'off'} | "
            f"{'yes' if r.fixable else 'no'} | {r.summary.replace('|', chr(92) + '|')} |"
            for r in rules),
    ]
    return "\n\n".join(header) + "\n\n" + "\n".join(render_rule(rule) for rule in rules)


def missing_sections(rules: Optional[Sequence[Rule]] = None) -> List[str]:
    """``CODE: section`` for every rule whose documentation leaves a section empty."""
    out = []
    for rule in all_rules() if rules is None else rules:
        for section in ("summary", "why", "example", "use_instead"):
            if not getattr(rule, section).strip():
                out.append(f"{rule.code}: {section}")
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flake8_ddp_unused.docs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="default: %(default)s")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale, write nothing")
    args = parser.parse_args(argv)
    text = render()
    current = args.output.read_text(encoding="utf-8") if args.output.is_file() else None
    if args.check:
        if current != text:
            print(f"{args.output} is stale: run `{REGENERATE}`", file=sys.stderr)
            return 1
        return 0
    if current != text:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
