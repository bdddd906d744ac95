"""A same-file helper that only tests for None (`def exists(val): return val is not None`, common in
research code) is judged like the `is not None` test it stands for: a presence check, never a per-batch
data test."""
from __future__ import annotations

from flake8_ddp_unused.lint import analyze_source

SOURCE = '''
import torch.nn as nn


def exists(val):
    return val is not None


class Net(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.body = nn.Linear(dim, dim)
        self.head = nn.Linear(dim, 2)
        self.distill = nn.Linear(dim, 2)

    def forward(self, x):
        h = self.body(x)
        out = self.head(h)
        extra = self.distill(h)
        if TEST:
            return out, extra
        return out
'''


def codes(test: str) -> set:
    return {(f.line, f.code) for f in analyze_source(SOURCE.replace("TEST", test))}


def test_presence_helper_is_a_presence_check() -> None:
    assert codes("exists(extra)") == codes("extra is not None")
    assert all(code != "DDP101" for _, code in codes("exists(extra)"))


def test_other_helpers_are_not_presence_checks() -> None:
    source = SOURCE.replace("return val is not None", "return val.sum() > 0")
    found = {(f.line, f.code) for f in analyze_source(source.replace("TEST", "exists(extra)"))}
    assert (14, "DDP101") in found  # a data test on the module's output: per batch
