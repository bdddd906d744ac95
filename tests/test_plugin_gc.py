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


def _run_lines(source: str) -> List[str]:
    lines = source.splitlines(keepends=True)
    return [text for _, _, text, _ in DDPChecker(ast.parse(source), lines, "net.py").run()]


def test_freed_memory_handed_back_after_a_large_file_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """After a file long enough for its libcst trees to matter, the heap memory the analysis freed is handed
    back (glibc's malloc_trim); after a small one nothing is done (it costs ~0.5 ms a call)."""
    calls: List[int] = []
    monkeypatch.setattr(plugin, "_malloc_trim", [calls.append])
    assert _run_lines(SOURCE) and calls == []
    padded = SOURCE + "\n" * plugin._TRIM_MIN_LINES
    assert _run_lines(padded) == _run_lines(SOURCE) and calls == [0]  # the padded file only
    monkeypatch.setattr(plugin, "_malloc_trim", [None])  # no malloc_trim in this C library: nothing happens
    assert _run_lines(padded) == _run_lines(SOURCE)


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_trim_returns_freed_heap_to_the_system() -> None:
    """The real call, on this machine's C library: medium blocks freed below a live one stay in the heap (the
    process's resident memory) until malloc_trim gives their pages back."""
    plugin._return_freed_memory()
    if plugin._malloc_trim[0] is None:
        pytest.skip("the C library has no malloc_trim")
    blocks = [bytearray(3000) for _ in range(8000)]  # ~24 MB of heap blocks (under glibc's mmap threshold)
    pin = bytearray(3000)  # live above them: the heap cannot simply shrink from its top
    del blocks
    before = _rss_mb()
    plugin._return_freed_memory()
    after = _rss_mb()
    assert before - after > 8, (before, after)
    del pin
