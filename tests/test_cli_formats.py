"""Output formats of the standalone command: default, json, github annotations, SARIF 2.1.0 (validated
against the OASIS schema vendored in tests/data, see tests/data/README.md)."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Tuple

import jsonschema
import pytest

from flake8_ddp_unused.cli import main
from flake8_ddp_unused.output import Result, format_github, format_sarif

from .test_flake8_e2e import MODEL

SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"


def run_cli(tmp_path: Path, *args: str) -> Tuple[int, str, str]:
    (tmp_path / "model.py").write_text(MODEL, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    status = main([*args, "--isolated", str(tmp_path / "model.py")], out, err)
    return status, out.getvalue(), err.getvalue()


def test_default_format_is_flake8s(tmp_path: Path) -> None:
    status, out, _ = run_cli(tmp_path)
    assert status == 1
    prefix = f"{(tmp_path / 'model.py').as_posix()}:8:9: DDP001 self.pooler in Net gets no gradient: unused in "
    assert out == prefix + out.split("unused in ", 1)[1]
    assert out.count("\n") == 1


def test_json_format(tmp_path: Path) -> None:
    status, out, _ = run_cli(tmp_path, "--format", "json", "--extend-select", "DDP901")
    items = json.loads(out)
    assert status == 1
    assert [(i["line"], i["column"], i["code"], i["name"]) for i in items] == [
        (8, 9, "DDP001", "unused-submodule"), (9, 9, "DDP901", "used-only-with-optional-argument")]
    assert set(items[0]) == {"path", "line", "column", "code", "message", "fixable", "name", "cell"}


def test_json_format_empty_is_an_empty_array(tmp_path: Path) -> None:
    status, out, _ = run_cli(tmp_path, "--format", "json", "--select", "DDP2")
    assert (status, json.loads(out)) == (0, [])


def test_github_format(tmp_path: Path) -> None:
    _, out, _ = run_cli(tmp_path, "--format", "github")
    path = (tmp_path / "model.py").as_posix()
    expected = rf"::error file={re.escape(path)},line=8,col=9,title=DDP001::DDP001 self\.pooler [^\n]+\n"
    assert re.fullmatch(expected, out), out


def test_github_format_escapes() -> None:
    out = format_github([Result("a,b:c.py", 1, 2, "DDP001", "50% of\nit")])
    assert out == "::error file=a%2Cb%3Ac.py,line=1,col=2,title=DDP001::DDP001 50%25 of%0Ait\n"


def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def test_sarif_validates_against_the_schema(tmp_path: Path) -> None:
    status, out, _ = run_cli(tmp_path, "--format", "sarif", "--extend-select", "DDP901")
    log = json.loads(out)
    errors = sorted(sarif_validator().iter_errors(log), key=str)
    assert not errors, "\n".join(str(e) for e in errors[:3])
    run = log["runs"][0]
    assert log["version"] == "2.1.0" and status == 1
    results = [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"],
                r["locations"][0]["physicalLocation"]["region"]["startColumn"]) for r in run["results"]]
    assert results == [("DDP001", 8, 9), ("DDP901", 9, 9)]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_without_results_validates() -> None:
    errors = list(sarif_validator().iter_errors(json.loads(format_sarif([]))))
    assert not errors


def test_schema_catches_a_broken_log() -> None:
    """The validation above means something: a wrong version or a 0 line is rejected."""
    log = json.loads(format_sarif([Result("m.py", 1, 1, "DDP001", "x")]))
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert list(sarif_validator().iter_errors(log))
    log = json.loads(format_sarif([]))
    log["version"] = "2.0.0"
    assert list(sarif_validator().iter_errors(log))


@pytest.mark.parametrize("fmt", ["default", "json", "sarif", "github"])
def test_output_file(tmp_path: Path, fmt: str) -> None:
    report = tmp_path / "report.txt"
    status, out, _ = run_cli(tmp_path, "--format", fmt, "--output-file", str(report))
    assert status == 1 and out == ""
    assert "DDP001" in report.read_text(encoding="utf-8")
