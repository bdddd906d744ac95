"""The flake8 adapter pauses the cycle collector while it analyses a file (issue 9/13's whole-run cost) and
hands the collector back as it found it, whatever the analysis did."""
from __future__ import annotations

import ast
import gc
import os
import weakref
from pathlib import Path
from typing import Iterator, List

import pytest

from flake8_ddp_unused import lint, plugin, project
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


# The trees of other files kept between linted files are frozen out of the collector's full collections.
HELPERS = "".join(f"\n\ndef helper_{i}(x):\n    return x + {i}\n" for i in range(40))
BASE = """import torch.nn as nn


class Base(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(2, 2)
""" + HELPERS
NET = """from .base import Base
import torch.nn as nn


class Net{n}(Base):
    def __init__(self):
        super().__init__()
        self.used = nn.Linear(2, 2)

    def forward(self, x):
        return self.head(self.used(x))
"""


class _Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture()
def package(tmp_path: Path, collector: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "base.py").write_text(BASE)
    for n in (1, 2):
        (root / f"net{n}.py").write_text(NET.format(n=n))
    project.clear_cache()
    monkeypatch.setattr(plugin, "_frozen_at", [0, 0])
    monkeypatch.setattr(plugin, "_REFREEZE_MIN_LINES", 10)
    yield root
    gc.unfreeze()
    project.clear_cache()


def _lint(path: Path) -> List[str]:
    source = path.read_text()
    lines = source.splitlines(keepends=True)
    return [text for _, _, text, _ in DDPChecker(ast.parse(source), lines, str(path)).run()]


def _kept_tree(path: Path) -> ast.Module:
    _, _, index = project._FILES[os.path.abspath(path)]
    assert index is not None
    return index.tree


def _collected(monkeypatch: pytest.MonkeyPatch) -> List[int]:
    calls: List[int] = []
    collect = gc.collect

    def spying(*args: int) -> int:
        calls.append(1)
        return collect(*args)

    monkeypatch.setattr(gc, "collect", spying)
    return calls


def test_kept_trees_frozen_and_garbage_collected_first(package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gc.enable()
    garbage = _Cycle()
    gone = weakref.ref(garbage)
    del garbage
    collections = _collected(monkeypatch)
    assert _lint(package / "net1.py") == []  # self.head of the base is used: the base file was read
    tree = _kept_tree(package / "base.py")
    assert collections == [1] and gc.isenabled()
    assert gone() is None  # cyclic garbage made before the freeze was collected, not frozen
    assert gc.get_freeze_count() > 0 and not any(obj is tree for obj in gc.get_objects())
    # the next file reads the same kept tree: no new lines, no new collection
    assert _lint(package / "net2.py") == []
    assert collections == [1] and _kept_tree(package / "base.py") is tree


def test_nothing_frozen_for_a_caller_without_the_collector(package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gc.disable()
    collections = _collected(monkeypatch)
    frozen = gc.get_freeze_count()
    assert _lint(package / "net1.py") == []
    assert collections == [] and gc.get_freeze_count() == frozen and not gc.isenabled()
    assert any(obj is _kept_tree(package / "base.py") for obj in gc.get_objects())
