"""A loop over a ModuleList whose last item's output is kept only in part (flow.py ``_peel_last_item``):
reported through real flake8 naming the last item (``self.blocks[-1].txt_mlp``), and silent where the loop
is not a plain chain of calls (a jump, the item used otherwise, a list of mixed classes)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flake8_ddp_unused.lint import analyze_source

FIXTURE = Path(__file__).parent / "fixtures" / "summaries_last_item_stream.py"

SOURCE = """\
import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.img = nn.Linear(dim, dim)
        self.txt = nn.Linear(dim, dim)

    def forward(self, image, text):
        image = self.img(image + text)
        return self.txt(text), image


class Net(nn.Module):
    def __init__(self, dim=8, depth=2):
        super().__init__()
        self.blocks = BUILT

    def forward(self, image, text):
        for block in self.blocks:
            LOOP
        return image
"""
COMPREHENSION = "nn.ModuleList([Block(dim) for _ in range(depth)])"
CALL = "text, image = block(image, text)"


def _findings(loop: str, built: str = COMPREHENSION) -> list:
    source = SOURCE.replace("BUILT", built).replace("LOOP", loop)
    return [f.text for f in analyze_source(source, "net.py")]


def test_flake8_names_the_last_item() -> None:
    out = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select=DDP", str(FIXTURE)],
                         capture_output=True, text=True, check=False).stdout
    lines = sorted(line.split(": ", 1)[1] for line in out.splitlines())
    assert lines == [
        f"DDP004 self.blocks[-1].{name} in DualStreamNet gets no gradient: forward() keeps only [1] of "
        "self.blocks[-1](...); set find_unused_parameters=True" for name in ("txt_mlp", "txt_out")]


def test_plain_chain_is_reported() -> None:
    assert [t.split(" in ")[0] for t in _findings(CALL)] == ["DDP004 self.blocks[-1].txt"]


@pytest.mark.parametrize("loop", [
    CALL + "\n            if image.sum() > 0:\n                break",  # the last item run may be any item
    CALL + "\n            if image.sum() > 0:\n                continue",
    CALL + "\n            image = image + block.txt(text)",  # the item used otherwise than called
    CALL + "\n            text, image = block(image, text)",  # called twice
])
def test_other_loops_stay_silent(loop: str) -> None:
    assert _findings(loop) == []


def test_mixed_items_stay_silent() -> None:
    # a literal list of items of any classes: one item's summary says nothing of the last
    assert _findings(CALL, "nn.ModuleList([Block(dim), Block(dim)])") == []
    # the comprehension's list grown, or an item replaced, after it is built: the last item may be another class
    assert _findings(CALL, f"{COMPREHENSION}\n        self.blocks.append(nn.Identity())") == []
    assert _findings(CALL, f"{COMPREHENSION}\n        self.blocks[-1] = nn.Identity()") == []
    assert _findings(CALL, f"{COMPREHENSION}\n        self.blocks = nn.ModuleList()") == []


LAST_DIFFERS = """\
import torch.nn as nn


class Layer(nn.Module):
    def __init__(self, dim, updates_text=True):
        super().__init__()
        self.updates_text = updates_text
        self.img = nn.Linear(dim, dim)
        if updates_text:
            self.txt = nn.Linear(dim, dim)

    def forward(self, image, text):
        image = self.img(image + text)
        if self.updates_text:
            text = self.txt(text)
        return text, image


class Encoder(nn.Module):
    def __init__(self, dim=8, depth=3):
        super().__init__()
        self.layers = nn.ModuleList([Layer(dim, updates_text=(i != depth - 1)) for i in range(depth)])

    def forward(self, image, text):
        for layer in self.layers:
            text, image = layer(image, text)
        return image
"""


def test_last_item_built_otherwise_is_silent() -> None:
    """transformers 5.x ESMFold2's MSA encoder builds its last layer without the MSA stream (the argument reads
    the comprehension's variable): the other items' summary does not speak for it, and torch agrees that every
    parameter gets a gradient."""
    assert [f.text for f in analyze_source(LAST_DIFFERS, "enc.py")] == []
    import torch

    namespace: dict = {}
    exec(compile(LAST_DIFFERS, "enc.py", "exec"), namespace)
    model = namespace["Encoder"]()
    model(torch.randn(2, 8), torch.randn(2, 8)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    same = LAST_DIFFERS.replace("updates_text=(i != depth - 1)", "updates_text=True")
    assert [f.code for f in analyze_source(same, "enc.py")] == ["DDP004"]  # every item alike: the last's text


ENUMERATED = SOURCE.replace("for block in self.blocks:", "for i, block in enumerate(self.blocks):")


def test_enumerated_chain_is_reported_and_torch_agrees() -> None:
    """``for i, block in enumerate(self.blocks)`` with ``i`` unread is the same chain (diffusers-style loops)."""
    source = ENUMERATED.replace("BUILT", COMPREHENSION).replace("LOOP", CALL)
    assert [f.text.split(" in ")[0] for f in analyze_source(source, "net.py")] == ["DDP004 self.blocks[-1].txt"]
    import torch

    namespace: dict = {}
    exec(compile(source, "net.py", "exec"), namespace)
    model = namespace["Net"]()
    model(torch.randn(2, 8), torch.randn(2, 8)).sum().backward()
    assert [n for n, p in model.named_parameters() if p.grad is None] == ["blocks.1.txt.weight", "blocks.1.txt.bias"]


@pytest.mark.parametrize("loop", [
    CALL + "\n            if i == 0:\n                image = image * 2",  # the position singles out items
    CALL + "\n            text = text + i",
])
def test_enumerated_loop_reading_the_position_stays_silent(loop: str) -> None:
    source = ENUMERATED.replace("BUILT", COMPREHENSION).replace("LOOP", loop)
    assert [f.text for f in analyze_source(source, "net.py")] == []
