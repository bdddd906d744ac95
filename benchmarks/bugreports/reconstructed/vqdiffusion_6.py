"""Reconstructed, not the original code: the shape of VQ-Diffusion's DiffusionTransformer (diffusion_transformer.py).

Report: https://github.com/microsoft/VQ-Diffusion/issues/6 (the maintainer: `empty_text_embed`, built at
L148 in every configuration, gets no gradient; build it only `if learnable_cf:`). The embedding replaces
the text condition only when `learnable_cf` is on, and the constructor's default is off.
"""
import torch
import torch.nn as nn


class DiffusionTransformer(nn.Module):
    def __init__(self, dim=8, seq=4, learnable_cf=False):
        super().__init__()
        self.transformer = nn.Linear(dim, dim)
        self.empty_text_embed = torch.nn.Parameter(torch.randn(size=(seq, dim), requires_grad=True))
        self.learnable_cf = learnable_cf

    def forward(self, x, cond_emb):
        if self.learnable_cf:
            drop = (torch.rand(cond_emb.shape[0]) < 0.1)[:, None, None]
            cond_emb = torch.where(drop, self.empty_text_embed.unsqueeze(0), cond_emb)
        out = self.transformer(x + cond_emb)
        return {"loss": out.pow(2).mean()}


def build():
    torch.manual_seed(0)
    model = DiffusionTransformer()
    batches = [(torch.randn(2, 4, 8), torch.randn(2, 4, 8)) for _ in range(2)]
    return {"model": model, "step": lambda m, b: m(*b)["loss"], "batches": batches}
