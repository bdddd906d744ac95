"""The README's snippets run as written: the GitHub Actions commands (after the install step) in a small
project, and the notebook example's output."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import List

import pytest
import yaml

from .test_docs import fenced
from .test_flake8_e2e import MODEL


def readme(root: Path) -> str:
    return (root / "README.md").read_text(encoding="utf-8")


def ci_runs(root: Path, job: str) -> List[str]:
    """The `run:` steps of a README workflow job, without the install step (the package is installed)."""
    for block in fenced(readme(root), "yaml"):
        workflow = yaml.safe_load(block)
        if isinstance(workflow, dict) and job in workflow.get("jobs", {}):
            runs = [step["run"] for step in workflow["jobs"][job]["steps"] if "run" in step]
            assert runs[0].startswith("pip install ./tools/flake8-ddp-unused")
            return runs[1:]
    raise AssertionError(f"no README workflow with a job {job!r}")


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess:
    scripts = sysconfig.get_path("scripts")
    if not shutil.which("flake8-ddp-unused", path=scripts):
        pytest.skip("console script flake8-ddp-unused not installed (pip install -e .)")
    env = dict(os.environ, PATH=os.pathsep.join([scripts, os.environ.get("PATH", "")]))
    return subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def user_project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "model.py").write_text(MODEL, encoding="utf-8")
    return tmp_path


def test_annotations_job(root: Path, user_project: Path) -> None:
    (command,) = ci_runs(root, "lint")
    proc = shell(command, user_project)
    assert proc.returncode == 1, proc.stderr  # the job fails on a finding
    assert proc.stdout.startswith("::error file=src/model.py,line=8,col=9,title=DDP001::DDP001 self.pooler")


def test_code_scanning_job(root: Path, user_project: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from .test_cli_formats import SCHEMA

    (command,) = ci_runs(root, "sarif")
    proc = shell(command, user_project)
    assert proc.returncode == 0, proc.stderr  # findings do not stop the upload step
    log = json.loads((user_project / "ddp.sarif").read_text(encoding="utf-8"))
    jsonschema.validate(log, json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["DDP001"]
    (user_project / "setup.cfg").write_text("[flake8]\nextend-select = ddp901\n", encoding="utf-8")
    assert shell(command, user_project).returncode == 2  # a configuration error still fails the job


def test_notebook_example_output(root: Path, tmp_path: Path) -> None:
    lines = MODEL.splitlines(keepends=True)
    cells = [["%matplotlib inline\n", "import torch\n", "from torch import nn\n"], lines[2:]]
    notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Model"]}] + [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": cell}
        for cell in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "nb.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "flake8_ddp_unused", "--isolated", "nb.ipynb"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    (block,) = [b for b in fenced(readme(root), "console") if "nb.ipynb" in b]
    assert block == f"$ flake8-ddp-unused nb.ipynb\n{proc.stdout}"


def test_notebook_through_nbqa(tmp_path: Path) -> None:
    """README: `nbqa flake8_ddp_unused nb.ipynb` gives the same output; `nbqa flake8-ddp-unused` fails."""
    pytest.importorskip("nbqa")
    lines = MODEL.splitlines(keepends=True)
    cells = [lines[:3], lines[3:]]
    notebook = {"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                           "source": cell} for cell in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "nb.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    ours = subprocess.run([sys.executable, "-m", "flake8_ddp_unused", "--isolated", "nb.ipynb"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    nbqa = subprocess.run([sys.executable, "-m", "nbqa", "flake8_ddp_unused", "nb.ipynb", "--isolated"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert ours.stdout == nbqa.stdout and "nb.ipynb:cell_2:" in ours.stdout
    hyphen = subprocess.run([sys.executable, "-m", "nbqa", "flake8-ddp-unused", "nb.ipynb"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert hyphen.returncode != 0 and "No module named flake8-ddp-unused" in hyphen.stderr
