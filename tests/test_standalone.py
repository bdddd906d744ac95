"""The standalone command where it goes beyond flake8 or must say more than it: default excludes and
.gitignore, --force-exclude, --exit-zero, exit statuses, typos in options and configuration, notebooks,
SARIF columns and rule links, the pydocstyle ``D`` prefix warning, explain --help, --fix summary, and
--output-file errors."""
from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from flake8_ddp_unused import output
from flake8_ddp_unused.cli import char_column, main

from .test_flake8_e2e import MODEL


def run(*args: str, cwd: Path, stdin: bytes = b"") -> Tuple[int, str, str]:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        out, err = io.StringIO(), io.StringIO()
        status = main(list(args), out, err, io.BytesIO(stdin))
        return status, out.getvalue(), err.getvalue()
    finally:
        os.chdir(old)


def paths(out: str) -> List[str]:
    return sorted({line.split(":", 1)[0] for line in out.splitlines()})


def write(root: Path, files: Dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


# ---- what is walked ----

def test_default_excludes_skip_environments_and_build_output(tmp_path: Path) -> None:
    write(tmp_path, {name: MODEL for name in (
        "src/model.py", ".venv/lib/python3.11/site-packages/torch/model.py", "venv/model.py",
        "node_modules/x/model.py", "lib/site-packages/model.py", "dist/model.py", "build/keep.py",
        "myenv/model.py", "myenv/pyvenv.cfg", ".tox/py/model.py", "__pypackages__/model.py")})
    status, out, err = run("--isolated", ".", cwd=tmp_path)
    assert status == 1 and paths(out) == ["build/keep.py", "src/model.py"], err
    # a path named on the command line is linted (as ruff does) unless --force-exclude (for pre-commit)
    assert paths(run("--isolated", "venv/model.py", cwd=tmp_path)[1]) == ["venv/model.py"]
    assert run("--isolated", "--force-exclude", "venv/model.py", cwd=tmp_path)[:2] == (0, "")
    assert run("--isolated", "--force-exclude", "--extend-exclude", "src", "src/model.py", cwd=tmp_path)[:2] == (
        0, "")


def test_exclude_replaces_the_defaults_but_environments_stay_skipped(tmp_path: Path) -> None:
    write(tmp_path, {"dist/model.py": MODEL, "src/model.py": MODEL, "env/model.py": MODEL, "env/pyvenv.cfg": ""})
    assert paths(run("--isolated", "--exclude", "src", ".", cwd=tmp_path)[1]) == ["dist/model.py"]


def git(cwd: Path, *args: str) -> None:
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", HOME=str(cwd))
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, timeout=60)


def test_gitignore_is_honoured_in_a_git_work_tree(tmp_path: Path) -> None:
    write(tmp_path, {"src/model.py": MODEL, "generated/model.py": MODEL, "scratch.py": MODEL,
                     ".gitignore": "generated/\nscratch.py\n"})
    git(tmp_path, "init", "-q")
    status, out, _ = run("--isolated", ".", cwd=tmp_path)
    assert status == 1 and paths(out) == ["src/model.py"]
    assert paths(run("--isolated", "--no-respect-gitignore", ".", cwd=tmp_path)[1]) == [
        "generated/model.py", "scratch.py", "src/model.py"]
    assert paths(run("--isolated", "src", cwd=tmp_path)[1]) == ["src/model.py"]  # from a subdirectory too
    # an ignored directory named on the command line is linted, as a named file is (unless --force-exclude)
    assert paths(run("--isolated", "generated", cwd=tmp_path)[1]) == ["generated/model.py"]
    (tmp_path / "pyproject.toml").write_text("[tool.flake8-ddp-unused]\nrespect-gitignore = false\n",
                                             encoding="utf-8")
    assert len(paths(run(".", cwd=tmp_path)[1])) == 3


def test_nested_repository_is_walked(tmp_path: Path) -> None:
    """git lists a nested repository (or a submodule) as one entry: its files are still linted."""
    write(tmp_path, {"src/model.py": MODEL, "vendor/lib/model.py": MODEL, "vendor/lib/.gitignore": "skip.py\n",
                     "vendor/lib/skip.py": MODEL})
    git(tmp_path, "init", "-q")
    git(tmp_path / "vendor" / "lib", "init", "-q")
    walked = paths(run("--isolated", ".", cwd=tmp_path)[1])
    assert walked == ["src/model.py", "vendor/lib/model.py", "vendor/lib/skip.py"]
    assert paths(run("--isolated", "vendor/lib", cwd=tmp_path)[1]) == ["vendor/lib/model.py"]


def test_empty_directory_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    status, out, err = run("--isolated", "empty", cwd=tmp_path)
    assert (status, out) == (0, "") and "no Python files (*.py, *.ipynb) found under empty" in err
    status, _, err = run("--isolated", "nope", cwd=tmp_path)
    assert status == 2 and "no such file or directory: nope" in err


# ---- exit statuses ----

def test_exit_zero_keeps_configuration_errors(tmp_path: Path) -> None:
    write(tmp_path, {"model.py": MODEL})
    status, out, _ = run("--isolated", "--exit-zero", ".", cwd=tmp_path)
    assert status == 0 and "DDP001" in out
    assert run("--isolated", "--exit-zero", "--select", "DPP", ".", cwd=tmp_path)[0] == 2


# ---- typos ----

def test_unknown_select_prefix_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, {"model.py": MODEL})
    status, out, err = run("--isolated", "--select", "DPP", ".", cwd=tmp_path)
    assert (status, out) == (2, "")
    assert "--select DPP: no flake8-ddp-unused code starts with this prefix" in err
    assert "selects no flake8-ddp-unused code" in err
    status, out, err = run("--isolated", "--extend-select", "DDP9O1", ".", cwd=tmp_path)
    assert status == 2 and "'DDP9O1' is not a code prefix" in err
    status, out, err = run("--isolated", "--extend-ignore", "DDP301", ".", cwd=tmp_path)  # a warning only
    assert status == 1 and "--extend-ignore DDP301: no flake8-ddp-unused code starts" in err


@pytest.mark.parametrize("table, message", [
    ('ddp-entry-point = ["compute_loss"]\n', "unknown key 'ddp-entry-point' (did you mean ddp-entry-points?)"),
    ("selct = ['DDP']\n", "unknown key 'selct' (did you mean select?)"),
    ("ddp-entry-points = 123\n", "ddp-entry-points must be a string or an array of strings, not 123"),
    ("extend-select = [901]\n", "extend-select must be a string or an array of strings"),
    ('ddp-module-bases = ["mylib..Base"]\n', "'mylib..Base' is not a qualified name"),
    ('ddp-entry-points = ["compute-loss"]\n', "'compute-loss' is not a method name"),
    ("force-exclude = 'yes'\n", "force-exclude must be true or false"),
])
def test_pyproject_table_errors(tmp_path: Path, table: str, message: str) -> None:
    write(tmp_path, {"model.py": MODEL, "pyproject.toml": "[tool.flake8-ddp-unused]\n" + table})
    status, out, err = run(".", cwd=tmp_path)
    assert (status, out) == (2, "") and message in err, err
    assert "pyproject.toml [tool.flake8-ddp-unused]" in err


def test_flake8_section_errors(tmp_path: Path) -> None:
    write(tmp_path, {"model.py": MODEL, "setup.cfg": "[flake8]\nddp-entrypoints = compute_loss\n"})
    status, _, err = run(".", cwd=tmp_path)
    assert status == 2 and "unknown key 'ddp-entrypoints' (did you mean ddp-entry-points?)" in err
    write(tmp_path, {"setup.cfg": "[flake8]\nmax-complexity = 10\nextend-ignore = ddp001\n"})
    status, _, err = run(".", cwd=tmp_path)
    assert status == 2 and "'ddp001' is not a code prefix" in err
    write(tmp_path, {"setup.cfg": "[flake8]\nmax-complexity = 10\nselect = E,F,W\n"})  # flake8 would skip DDP
    status, _, err = run(".", cwd=tmp_path)
    assert status == 2 and "select E, F, W" in err and "add DDP to select" in err


def test_plugin_warns_on_invalid_names_once(tmp_path: Path) -> None:
    write(tmp_path, {"model.py": MODEL, "b.py": MODEL,
                     "setup.cfg": "[flake8]\nddp-module-bases = mylib..Base, good.Base\n"})
    proc = subprocess.run([sys.executable, "-m", "flake8", "-j2", "--select", "DDP", "."], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.stderr.count("ddp-module-bases: 'mylib..Base' is not a qualified name") == 1, proc.stderr
    assert proc.stdout.count("DDP001") == 2  # the rest of the configuration still applies


# ---- the D prefix ----

@pytest.mark.parametrize("config, expected, findings", [
    ("extend-ignore = D\n", "ignoring the prefix D also switches off every DDP code", 0),
    ("extend-select = D\n", "selecting the prefix D also switches on the off-by-default DDP901", 2),
    ("extend-ignore = D\nextend-select = DDP\n", "", 1),
    ("extend-ignore = D1,D2,D4\n", "", 1),
])
def test_d_prefix_warning_in_flake8_and_standalone(tmp_path: Path, config: str, expected: str,
                                                   findings: int) -> None:
    write(tmp_path, {"model.py": MODEL, "other.py": MODEL.replace("Net", "Other"), ".flake8": "[flake8]\n" + config})
    proc = subprocess.run([sys.executable, "-m", "flake8", "-j2", "."], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    standalone = run(".", cwd=tmp_path)
    for out, err in ((proc.stdout, proc.stderr), standalone[1:]):
        assert out.count("model.py:") == findings, out
        if expected:
            assert err.count(expected) == 1, err  # once, not once per file or per worker
        else:
            assert "prefix" not in err, err


# ---- notebooks ----

NOTEBOOK_CELLS = [
    ["%load_ext autoreload\n", "import torch\n", "import torch.nn as nn"],
    ["!pip install nothing\n", "class Net(nn.Module):\n", "    def __init__(self):\n",
     "        super().__init__()\n", "        self.body = nn.Linear(4, 4)\n",
     "        self.pooler = nn.Linear(4, 4)  # noqa: E501\n", "\n", "    def forward(self, x):\n",
     "        return self.body(x)\n"],
    ["%%timeit\n", "x = undefined_name(\n"],
    ["Net?\n", "net = Net()\n"],
]


def notebook(cells: List[List[str]]) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                                  "source": cell} for cell in cells] + [
        {"cell_type": "markdown", "metadata": {}, "source": ["text"]}], "metadata": {}, "nbformat": 4,
        "nbformat_minor": 5})


def test_notebook_is_linted_with_cell_positions(tmp_path: Path) -> None:
    write(tmp_path, {"nb.ipynb": notebook(NOTEBOOK_CELLS), "nbs/other.ipynb": notebook(NOTEBOOK_CELLS)})
    status, out, err = run("--isolated", "nb.ipynb", cwd=tmp_path)
    assert status == 1, err
    assert out.startswith("nb.ipynb:cell_2:6:9: DDP001 self.pooler in Net gets no gradient"), out
    assert paths(run("--isolated", ".", cwd=tmp_path)[1]) == ["nb.ipynb", "nbs/other.ipynb"]  # walked too
    sarif = json.loads(run("--isolated", "--format", "sarif", "nb.ipynb", cwd=tmp_path)[1])
    result = sarif["runs"][0]["results"][0]
    assert result["properties"] == {"cell": 2}
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 6


def test_broken_notebook_is_named_and_skipped(tmp_path: Path) -> None:
    write(tmp_path, {"bad.ipynb": "{not json", "good.py": MODEL})
    status, out, err = run("--isolated", ".", cwd=tmp_path)
    assert status == 1 and paths(out) == ["good.py"]
    assert "bad.ipynb: not a notebook: invalid JSON" in err


# ---- SARIF ----

def test_sarif_columns_are_code_points(tmp_path: Path) -> None:
    source = MODEL.replace("        self.pooler = nn.Linear(4, 4)\n",
                           "        é = 'ü'; self.pooler = nn.Linear(4, 4)\n")
    write(tmp_path, {"model.py": source})
    status, out, _ = run("--isolated", "model.py", cwd=tmp_path)
    assert out.startswith("model.py:8:20: DDP001")  # flake8's column: UTF-8 bytes, 'é' and 'ü' are 2 each
    sarif = json.loads(run("--isolated", "--format", "sarif", "model.py", cwd=tmp_path)[1])
    region = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 8, "startColumn": 18}
    assert sarif["runs"][0]["columnKind"] == "unicodeCodePoints"
    assert source.splitlines()[7][17:].startswith("self.pooler")


def test_char_column() -> None:
    assert char_column("abc", 2) == 2
    assert char_column("éa", 3) == 2
    assert char_column("", 1) == 1


def test_sarif_links_only_pages_the_package_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "project_urls", lambda: {})
    driver = json.loads(output.format_sarif([]))["runs"][0]["tool"]["driver"]
    assert "informationUri" not in driver and all("helpUri" not in rule for rule in driver["rules"])
    assert driver["rules"][0]["help"]["markdown"].startswith("## DDP001 `unused-submodule`")
    monkeypatch.setattr(output, "project_urls", lambda: {
        "homepage": "https://example.org/ddp", "documentation": "https://example.org/ddp/rules"})
    driver = json.loads(output.format_sarif([]))["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == "https://example.org/ddp"
    assert driver["rules"][0]["helpUri"] == "https://example.org/ddp/rules#ddp001-unused-submodule"


# ---- explain, --fix, --output-file ----

def test_explain_help(tmp_path: Path) -> None:
    status, out, err = run("explain", "--help", cwd=tmp_path)
    assert status == 0 and out.startswith("usage: flake8-ddp-unused explain CODE") and "DDP001" in out
    assert err == ""
    assert run("explain", cwd=tmp_path)[0] == 2


def test_fix_prints_a_summary(root: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(root / "examples" / "fastnlp_app", tmp_path / "app",
                    ignore=shutil.ignore_patterns("__pycache__"))
    status, out, err = run("--isolated", "--fix", "app", cwd=tmp_path)
    assert "flake8-ddp-unused: fixed 1 finding in 1 file; 1 remaining" in err, err
    assert status == 1 and "DDP001" in out
    assert "fixed 0 findings in 0 files; 1 remaining" in run("--isolated", "--fix", "app", cwd=tmp_path)[2]


def test_bad_output_file_is_one_error(tmp_path: Path) -> None:
    write(tmp_path, {"model.py": MODEL, "blocker": ""})
    status, out, err = run("--isolated", "--output-file", "blocker/report.sarif", ".", cwd=tmp_path)
    assert status == 2 and out == ""
    assert err.count("cannot write --output-file blocker/report.sarif") == 1 and err.count("\n") == 1, err
    status, _, _ = run("--isolated", "--output-file", "new/dir/report.txt", ".", cwd=tmp_path)
    assert status == 1 and "DDP001" in (tmp_path / "new" / "dir" / "report.txt").read_text(encoding="utf-8")


# ---- messages ----

def test_messages_are_short(root: Path) -> None:
    """The problem-panel budget: median under 140 characters over every finding of examples/ and the
    fixtures (benchmarks/message_stats.py prints the same figures), each naming its culprit first."""
    proc = subprocess.run([sys.executable, "-m", "flake8_ddp_unused", "--isolated", "--select", "DDP", "--format",
                           "json", "examples", "tests/fixtures"], cwd=root, capture_output=True, text=True,
                          timeout=600)
    items = json.loads(proc.stdout)
    lengths = [len(f"{item['code']} {item['message']}") for item in items]
    assert len(lengths) > 50 and statistics.median(lengths) < 140, statistics.median(lengths)
    assert max(lengths) < 260
    model = [item for item in items if item["code"] < "DDP2"]
    assert all(item["message"].startswith("self.") for item in model)


def test_pre_commit_hook_of_this_repository(root: Path) -> None:
    text = (root / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "entry: flake8-ddp-unused --force-exclude" in text
    assert "types_or: [python, jupyter]" in text


def test_stdin_without_a_name(tmp_path: Path) -> None:
    status, out, _ = run("--isolated", "-", cwd=tmp_path, stdin=MODEL.encode("utf-8"))
    assert status == 1 and out.startswith("stdin:8:9: DDP001")
    status, out, _ = run("--isolated", "-", cwd=tmp_path, stdin=b"# coding: latin-1\nx = '\xe9'\n" + MODEL.encode())
    assert status == 1 and out.startswith("stdin:10:9: DDP001")


def test_python_dash_m_help() -> None:
    """`python -m flake8_ddp_unused` is the same command, with the options the README documents."""
    proc = subprocess.run([sys.executable, "-m", "flake8_ddp_unused", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and "--force-exclude" in proc.stdout and "--exit-zero" in proc.stdout
