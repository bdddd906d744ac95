"""``docs/rules.md``, generated from the rule registry, and the demo output in README.md.

Regenerate after any change to a rule or to examples/:   python -m flake8_ddp_unused.docs
Check without writing (exit 1 if stale):                 python -m flake8_ddp_unused.docs --check

The README demo is the real output of ``flake8 examples/`` run in the repository root; it sits between
the markers ``<!-- demo:start -->`` and ``<!-- demo:end -->`` (nothing is written without them).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from .registry import Rule, all_rules

REGENERATE = "python -m flake8_ddp_unused.docs"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "docs" / "rules.md"
README = ROOT / "README.md"
DEMO_START, DEMO_END = "<!-- demo:start -->", "<!-- demo:end -->"
CODES_START, CODES_END = "<!-- codes:start -->", "<!-- codes:end -->"
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
        "flake8 matches code prefixes, and `DDP` starts with pydocstyle's `D`: `extend-ignore = D` switches "
        "every DDP code off and `extend-select = D` switches the off-by-default codes on. Name pydocstyle's "
        "codes instead (`extend-ignore = D1,D2,D4`) or add `extend-select = DDP`; the plugin warns on stderr "
        "when a configuration does this.",
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


def demo_block(root: Path = ROOT) -> str:
    """The README demo: `flake8 examples/` and its real output, as a fenced block."""
    proc = subprocess.run([sys.executable, "-m", "flake8", "examples/"], cwd=root, capture_output=True,
                          text=True, timeout=300)
    return f"```console\n$ flake8 examples/\n{proc.stdout}```"


def replace_between(text: str, start: str, end: str, block: str) -> str:
    """``text`` with what stands between the markers replaced by ``block``; unchanged without markers."""
    if start not in text or end not in text:
        return text
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{block}\n{end}{tail}"


def refresh_readme(text: str, block: str) -> str:
    """README text with the demo between the markers replaced by ``block``; unchanged without markers."""
    return replace_between(text, DEMO_START, DEMO_END, block)


def codes_table(rules: Optional[Sequence[Rule]] = None) -> str:
    """The README's table of codes, one line each, from the registry (no links: a package index shows the
    README without the repository, where a relative link leads nowhere)."""
    rows = ["| code | on by default | what it finds |", "|---|---|---|"]
    for rule in rules if rules is not None else all_rules():
        summary = rule.summary.replace("(Off by default.) ", "").replace("|", "\\|")
        default = "yes" if rule.default_on else "no"
        rows.append(f"| `{rule.code}` `{rule.name}` | {default} | {summary} |")
    return "\n".join(rows)


def refresh_codes(text: str) -> str:
    return replace_between(text, CODES_START, CODES_END, codes_table())


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flake8_ddp_unused.docs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="default: %(default)s")
    parser.add_argument("--readme", type=Path, default=README, help="default: %(default)s")
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is stale, write nothing")
    args = parser.parse_args(argv)
    wanted = {args.output: render()}
    if args.readme.is_file():
        readme = args.readme.read_text(encoding="utf-8")
        if DEMO_START in readme:
            readme = refresh_readme(readme, demo_block(args.readme.parent))
        wanted[args.readme] = refresh_codes(readme)
    status = 0
    for path, text in wanted.items():
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        if args.check:
            print(f"{path} is stale: run `{REGENERATE}`", file=sys.stderr)
            status = 1
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
