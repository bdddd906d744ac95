"""Output formats of the standalone command: default (as flake8 prints), json, sarif (2.1.0), github."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

from . import __version__
from .registry import Rule, all_rules, rules_by_code

FORMATS = ("default", "json", "sarif", "github")
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/flake8-ddp-unused/"


@dataclass(frozen=True)
class Result:
    """One finding of one file, with the 1-based column flake8 prints."""

    path: str  # as the user named it, with forward slashes
    line: int
    column: int  # 1-based
    code: str
    message: str
    fixable: bool = False

    @property
    def name(self) -> str:
        rule = rules_by_code().get(self.code)
        return rule.name if rule else ""


def format_default(results: Sequence[Result]) -> str:
    return "".join(f"{r.path}:{r.line}:{r.column}: {r.code} {r.message}\n" for r in results)


def format_json(results: Sequence[Result]) -> str:
    """A JSON array, one object per finding (keys: path, line, column, code, message, fixable, name)."""
    items = [dict(asdict(r), name=r.name) for r in results]
    return json.dumps(items, indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(results: Sequence[Result]) -> str:
    """GitHub Actions workflow commands: each finding becomes an annotation on the pull request."""
    return "".join(
        f"::error file={_escape_property(r.path)},line={r.line},col={r.column},"
        f"title={_escape_property(r.code)}::{_escape_data(r.code + ' ' + r.message)}\n"
        for r in results
    )


def _sarif_rule(rule: Rule) -> Dict[str, Any]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.why or rule.summary},
        "help": {"text": rule.why or rule.summary,
                 "markdown": f"{rule.summary}\n\n{rule.why}".strip()},
        "defaultConfiguration": {"enabled": rule.default_on, "level": "error"},
        "properties": {"fixable": rule.fixable},
    }


def format_sarif(results: Sequence[Result]) -> str:
    rules = list(all_rules())
    index = {rule.code: i for i, rule in enumerate(rules)}
    sarif_results: List[Dict[str, Any]] = []
    for r in results:
        item: Dict[str, Any] = {
            "ruleId": r.code,
            "level": "error",
            "message": {"text": r.message},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": r.path, "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": r.line, "startColumn": r.column},
                },
            }],
        }
        if r.code in index:
            item["ruleIndex"] = index[r.code]
        sarif_results.append(item)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "flake8-ddp-unused",
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_sarif_rule(rule) for rule in rules],
            }},
            "columnKind": "unicodeCodePoints",
            "results": sarif_results,
        }],
    }
    return json.dumps(log, indent=2) + "\n"


FORMATTERS: Dict[str, Callable[[Sequence[Result]], str]] = {
    "default": format_default,
    "json": format_json,
    "sarif": format_sarif,
    "github": format_github,
}


def render(results: Sequence[Result], fmt: str, skipped: Optional[Sequence[Any]] = None) -> str:
    """``skipped`` (``--verbose``): the JSON report becomes an object, ``{"findings": [...], "skipped": [...]}``,
    each skip with path, line, subject and reason."""
    if fmt == "json" and skipped is not None:
        findings = [dict(asdict(r), name=r.name) for r in results]
        return json.dumps({"findings": findings, "skipped": [s.as_dict() for s in skipped]}, indent=2) + "\n"
    return FORMATTERS[fmt](results)
