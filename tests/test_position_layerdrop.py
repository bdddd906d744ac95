"""LayerDrop that spares the first layer (WavLM: ``skip = self.training and i > 0 and (p < layerdrop)``): every
other layer is still skipped at random, so some layer gets no gradient in some batch and DDP crashes. The
finding names the container (``self.layers``); torch confirms a layer past the first goes without gradient,
and that the first always gets one."""
from __future__ import annotations

import importlib.util
import random
import textwrap
from pathlib import Path
from typing import List, Set

import pytest
import torch

from flake8_ddp_unused.lint import analyze_source

TEMPLATE = """\
import random

import torch
from torch import nn


class Encoder(nn.Module):
    def __init__(self, depth=4, layerdrop=0.5, use_skip=False):
        super().__init__()
        self.layerdrop = layerdrop
        self.use_skip = use_skip
        self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(depth)])

    def forward(self, x):
        for i, layer in enumerate(self.layers):
{body}
        return x
"""

RANDOM_PAST_FIRST = [
    # WavLM 4.36: the test assigned to a name, then negated
    "p = torch.rand([])\nskip = self.training and i > 0 and (p < self.layerdrop)\nif not skip:\n    x = layer(x)",
    # the same through a conditional expression
    "skip = True if self.training and i > 0 and (random.random() < self.layerdrop) else False\n"
    "if not skip:\n    x = layer(x)",
    # written in the test itself
    "if self.training and i >= 1 and torch.rand([]) < self.layerdrop:\n    continue\nx = layer(x)",
]
NOT_RANDOM = [
    # a position test beside a switch of the constructor (off by default): nothing random
    "if i > 0 and self.use_skip:\n    continue\nx = layer(x)",
    # the position alone picks which layer runs where: every layer runs in every batch
    "x = layer(x) if i > 0 else layer(x) * 2",
]


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "encoder.py"
    path.write_text(TEMPLATE.format(body=textwrap.indent(body, " " * 12)), encoding="utf-8")
    return path


def _no_grad_by_batch(path: Path) -> List[Set[str]]:
    spec = importlib.util.spec_from_file_location(f"enc_{abs(hash(str(path)))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    random.seed(0)
    model = module.Encoder(module.EncoderConfig()) if hasattr(module, "EncoderConfig") else module.Encoder()
    model.train()
    missing = []
    for _ in range(12):
        model.zero_grad(set_to_none=True)
        model(torch.randn(2, 8)).sum().backward()
        missing.append({n for n, p in model.named_parameters() if p.grad is None})
    return missing


@pytest.mark.parametrize("body", RANDOM_PAST_FIRST)
def test_random_skip_past_the_first_layer_is_reported(tmp_path: Path, body: str) -> None:
    path = _write(tmp_path, body)
    missing = _no_grad_by_batch(path)
    assert any(missing), "some layer must go without gradient in some batch"
    assert all(not any(n.startswith("layers.0.") for n in batch) for batch in missing)  # the first never
    findings = analyze_source(path.read_text(encoding="utf-8"), str(path))
    assert [(f.line, f.code) for f in findings] == [(12, "DDP101")], [f.message for f in findings]
    assert findings[0].message.startswith("self.layers in Encoder gets no gradient in some batches")


@pytest.mark.parametrize("body", NOT_RANDOM)
def test_position_tests_without_randomness_are_silent(tmp_path: Path, body: str) -> None:
    path = _write(tmp_path, body)
    assert not any(_no_grad_by_batch(path))
    assert analyze_source(path.read_text(encoding="utf-8"), str(path)) == []


CONFIGURED = """\
import torch
from torch import nn


class EncoderConfig:
    def __init__(self, layerdrop={layerdrop}):
        self.layerdrop = layerdrop


class Encoder(nn.Module):
    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = config
        self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(4)])

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            dropout_probability = torch.rand([])
            skip_the_layer = self.training and i > 0 and (dropout_probability < self.config.layerdrop)
            if not skip_the_layer:
                x = layer(x)
        return x
"""


@pytest.mark.parametrize("layerdrop, reported", [(0.5, True), (0.0, False)])
def test_configured_rate_decides(tmp_path: Path, layerdrop: float, reported: bool) -> None:
    """The rate read from a configuration's default: 0.0 never skips (silent), 0.5 does (reported)."""
    path = tmp_path / "encoder.py"
    path.write_text(CONFIGURED.format(layerdrop=layerdrop), encoding="utf-8")
    assert any(_no_grad_by_batch(path)) == reported
    findings = analyze_source(path.read_text(encoding="utf-8"), str(path))
    assert [(f.line, f.code) for f in findings] == ([(14, "DDP101")] if reported else []), [
        f.message for f in findings]
    if reported:
        assert "(default layerdrop=0.5)" in findings[0].message
