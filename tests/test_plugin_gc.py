"""The flake8 adapter pauses the cycle collector while it analyses a file (issue 9/13's whole-run cost) and
hands the collector back as it found it, whatever the analysis did."""
from __future__ import annotations

import ast
import gc
from typing import Iterator, List

import pytest

from flake8_ddp_unused import lint
from flake8_ddp_unused.plugin import DDPChecker

SOURCE = """import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.used = nn.Linear(2, 2)
        self.unused = nn.Linear(2, 2)

    def forward(self, x):
        return self.used(x)
"""


def _run() -> List[str]:
    lines = SOURCE.splitlines(keepends=True)
    return [text for _, _, text, _ in DDPChecker(ast.parse(SOURCE), lines, "net.py").run()]


@pytest.fixture()
def collector() -> Iterator[None]:
    was = gc.isenabled()
    yield
    gc.enable() if was else gc.disable()


def test_collector_paused_during_the_analysis_and_restored(collector: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: List[bool] = []
    analyze = lint.analyze_tree

    def spying(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return analyze(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(lint, "analyze_tree", spying)
    gc.enable()
    texts = _run()
    assert any(text.startswith("DDP001") and "self.unused" in text for text in texts)
    assert seen == [False] and gc.isenabled()
    gc.disable()  # a caller that runs without the collector keeps it off
    _run()
    assert seen == [False, False] and not gc.isenabled()


def test_collector_restored_when_the_analysis_fails(collector: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(lint, "analyze_tree", failing)
    gc.enable()
    texts = _run()
    assert texts and texts[0].startswith("DDP999") and gc.isenabled()
