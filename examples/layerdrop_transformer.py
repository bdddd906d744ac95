"""A small encoder with LayerDrop and an optional auxiliary head.

LayerDrop skips whole layers at random during training: the skipped layer's parameters get no gradient in
that iteration, so plain DDP stops after a few steps (DDP101). The auxiliary head is built in every
configuration but only used when `use_aux_head=True`, which is off by default (DDP102).
"""
import random

import torch
import torch.nn as nn


class LayerDropEncoder(nn.Module):
    def __init__(self, dim: int = 256, depth: int = 6, layerdrop: float = 0.1, use_aux_head: bool = False):
        super().__init__()
        self.layers = nn.ModuleList(
            [nn.TransformerEncoderLayer(dim, nhead=8, batch_first=True) for _ in range(depth)]
        )
        self.layerdrop = layerdrop
        self.norm = nn.LayerNorm(dim)
        self.use_aux_head = use_aux_head
        self.aux_head = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            if self.training and random.random() < self.layerdrop:
                continue
            x = layer(x)
        out = self.norm(x)
        if self.use_aux_head:
            out = out + self.aux_head(self.dropout(x))
        return out
