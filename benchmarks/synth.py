"""Synthetic model files of any size, made of realistic module classes (for the linearity benchmark)."""
from __future__ import annotations

from pathlib import Path

HEADER = '''"""Synthetic model zoo for flake8-ddp-unused benchmarks."""
import random

import torch
import torch.nn as nn
import torch.nn.functional as F

'''

BLOCK = '''

class Block{i}(nn.Module):
    def __init__(self, dim: int = 64, depth: int = 4, use_aux: bool = False, drop: float = 0.1):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.layers = nn.ModuleList([nn.Linear(dim, dim) for _ in range(depth)])
        self.proj = nn.Sequential(nn.Linear(dim, dim * 2), nn.GELU(), nn.Linear(dim * 2, dim))
        self.use_aux = use_aux
        self.aux = nn.Linear(dim, 10) if use_aux else None
        self.head = nn.Linear(dim, 10)
        self.unused_pool = nn.Linear(dim, dim)
        self.drop = drop
        self.scale = nn.Parameter(torch.ones(dim))

    def _mix(self, x, y):
        return x * self.scale + y

    def forward_features(self, x):
        x = self.norm(x)
        for i, layer in enumerate(self.layers):
            if self.training and random.random() < self.drop and i > 0:
                continue
            x = F.relu(layer(x))
        return self._mix(self.proj(x), x)

    def forward(self, x, labels=None):
        h = self.forward_features(x)
        out = {{"logits": self.head(h)}}
        if self.aux is not None:
            out["aux"] = self.aux(h)
        with torch.no_grad():
            out["stats"] = h.mean(dim=-1)
        if labels is not None:
            out["loss"] = F.cross_entropy(out["logits"], labels)
        return out


class Net{i}(Block{i}):
    def __init__(self, dim: int = 64):
        super().__init__(dim)
        self.extra = nn.ModuleDict({{"a": nn.Linear(dim, dim), "b": nn.Linear(dim, dim)}})

    def forward(self, x, task: str = "a"):
        h = super().forward(x)["logits"]
        return self.extra[task](x).sum() + h.sum()


def make_{i}(dim: int = 64) -> nn.Module:
    model = Net{i}(dim)
    return model
'''


def synthetic_source(lines: int) -> str:
    """A module of about ``lines`` lines (at least), classes renamed so that each is distinct."""
    parts = [HEADER]
    total = HEADER.count("\n")
    i = 0
    while total < lines:
        block = BLOCK.format(i=i)
        parts.append(block)
        total += block.count("\n")
        i += 1
    return "".join(parts)


def write_synthetic(path: Path, lines: int) -> Path:
    path.write_text(synthetic_source(lines))
    return path
