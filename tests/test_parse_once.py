"""Cost: the project-wide resolution (launch sites, training code across files, call sites of functions and
classes) parses each file at most once per process. One flake8 process lints every file of the split
training projects (model, losses, engine and main in different files, each resolving the others); every
``ast.parse`` of a file by the linter is counted."""
from __future__ import annotations

import ast
import collections
from pathlib import Path
from typing import Counter, List

import pytest
from flake8.main import cli

from flake8_ddp_unused import project

HERE = Path(__file__).parent
PROJECTS = [HERE / "training" / "detr_app", HERE / "projects" / "fastnlp_app", HERE / "projects" / "script_app"]


SHARED_MODEL = """\
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 4)
        self.aux = nn.Linear(4, 2)

    def forward(self, x):
        h = self.body(x)
        return h, self.aux(h)
"""
# two scripts launching the same model: models.py is resolved while linting each of them
SCRIPT = """\
import torch
from torch.nn.parallel import DistributedDataParallel as DDP
from models import Net


def train_one_epoch(model, x):
    out, aux = model(x)
    out.sum().backward()


def main():
    model = DDP(Net())
    train_one_epoch(model, torch.randn(2, 4))
"""


def _files(tmp_path: Path) -> List[str]:
    shared = tmp_path / "shared_app"
    shared.mkdir()
    (shared / "models.py").write_text(SHARED_MODEL, encoding="utf-8")
    for name in ("train_a.py", "train_b.py"):
        (shared / name).write_text(SCRIPT, encoding="utf-8")
    return sorted(str(p) for root in PROJECTS + [shared] for p in root.rglob("*.py"))


def test_each_file_parsed_at_most_once(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    project.clear_cache()
    parses: Counter[str] = collections.Counter()
    real_parse = ast.parse

    def counting_parse(source, filename="<unknown>", *args, **kwargs):  # type: ignore[no-untyped-def]
        parses[str(filename)] += 1
        return real_parse(source, filename, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting_parse)
    files = _files(tmp_path)
    cli.main(["--isolated", "--select=DDP", "--jobs=1", *files])
    # the launch sites and training code really resolved across files (else nothing was looked up)
    out = capsys.readouterr().out
    assert "DDP2" in out
    assert out.count("train_a.py:12:13: DDP201") == out.count("train_b.py:12:13: DDP201") == 1, out
    by_linter = {name: count for name, count in parses.items() if name.endswith(".py")}
    assert str(tmp_path / "shared_app" / "models.py") in by_linter, by_linter
    assert all(count == 1 for count in by_linter.values()), by_linter
