"""Output formats of the standalone command: default (as flake8 prints), json, sarif (2.1.0), github."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

from . import __version__
from .registry import Rule, all_rules, rules_by_code

FORMATS = ("default", "json", "sarif", "github")
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
DISTRIBUTION = "flake8-ddp-unused"


@dataclass(frozen=True)
class Result:
    """One finding of one file, with the 1-based column flake8 prints."""

    path: str  # as the user named it, with forward slashes
    line: int  # in a notebook: the line in its cell
    column: int  # 1-based, in UTF-8 bytes as flake8 prints it
    code: str
    message: str
    fixable: bool = False
    char_column: Optional[int] = None  # 1-based, in unicode code points (SARIF); None: same as column
    cell: Optional[int] = None  # the notebook's code cell (1-based), None for a Python file

    @property
    def where(self) -> str:
        """flake8's ``path:line:col``; in a notebook ``path:cell_N:line:col``, as nbqa prints it."""
        cell = f":cell_{self.cell}" if self.cell is not None else ""
        return f"{self.path}{cell}:{self.line}:{self.column}"

    @property
    def name(self) -> str:
        rule = rules_by_code().get(self.code)
        return rule.name if rule else ""


def format_default(results: Sequence[Result]) -> str:
    return "".join(f"{r.where}: {r.code} {r.message}\n" for r in results)


def format_json(results: Sequence[Result]) -> str:
    """A JSON array, one object per finding (keys: path, line, column, code, message, fixable, name, cell)."""
    return json.dumps(_json_items(results), indent=2) + "\n"


def _json_items(results: Sequence[Result]) -> List[Dict[str, Any]]:
    return [{"path": r.path, "line": r.line, "column": r.column, "code": r.code, "message": r.message,
             "fixable": r.fixable, "name": r.name, "cell": r.cell} for r in results]


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(results: Sequence[Result]) -> str:
    """GitHub Actions workflow commands: each finding becomes an annotation on the pull request."""
    return "".join(
        f"::error file={_escape_property(r.path)},line={r.line},col={r.column},"
        f"title={_escape_property(r.code + (f' (cell {r.cell})' if r.cell is not None else ''))}::"
        f"{_escape_data(r.code + ' ' + r.message)}\n"
        for r in results
    )


def project_urls() -> Dict[str, str]:
    """The installed distribution's Project-URL entries (label -> URL); empty when it declares none."""
    try:
        from importlib.metadata import PackageNotFoundError, metadata
    except ImportError:  # pragma: no cover
        return {}
    try:
        entries = metadata(DISTRIBUTION).get_all("Project-URL") or []
    except PackageNotFoundError:
        return {}
    urls = {}
    for entry in entries:
        label, _, url = entry.partition(",")
        if url.strip().startswith(("https://", "http://")):
            urls[label.strip().lower()] = url.strip()
    return urls


def information_uri(urls: Dict[str, str]) -> Optional[str]:
    return urls.get("homepage") or urls.get("repository") or urls.get("source")


def help_uri(rule: Rule, urls: Dict[str, str]) -> Optional[str]:
    """The rule's section of the published rules page, when the package says where that is."""
    docs = urls.get("rules") or urls.get("documentation")
    return f"{docs}#{rule.code.lower()}-{rule.name}" if docs else None


def _sarif_rule(rule: Rule, urls: Dict[str, str]) -> Dict[str, Any]:
    from .docs import render_rule  # the full `explain CODE` text: code scanning shows it beside the alert

    item: Dict[str, Any] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.why or rule.summary},
        "help": {"text": f"{rule.summary}\n\n{rule.why}".strip(), "markdown": render_rule(rule)},
        "defaultConfiguration": {"enabled": rule.default_on, "level": "error"},
        "properties": {"fixable": rule.fixable},
    }
    uri = help_uri(rule, urls)
    if uri:
        item["helpUri"] = uri
    return item


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
                    "region": {"startLine": r.line,
                               "startColumn": r.char_column if r.char_column is not None else r.column},
                },
            }],
        }
        if r.cell is not None:
            item["properties"] = {"cell": r.cell}  # the line is the line in that code cell
        if r.code in index:
            item["ruleIndex"] = index[r.code]
        sarif_results.append(item)
    urls = project_urls()
    driver: Dict[str, Any] = {
        "name": DISTRIBUTION,
        "version": __version__,
        "rules": [_sarif_rule(rule, urls) for rule in rules],
    }
    if information_uri(urls):  # only a page that exists: the one the package metadata names
        driver["informationUri"] = information_uri(urls)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
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
        report = {"findings": _json_items(results), "skipped": [s.as_dict() for s in skipped]}
        return json.dumps(report, indent=2) + "\n"
    return FORMATTERS[fmt](results)
