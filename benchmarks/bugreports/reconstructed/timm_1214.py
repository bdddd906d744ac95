"""Reconstructed, not the original code: a multi-task model on a ViT feature extractor.

Report: https://github.com/huggingface/pytorch-image-models/issues/1214 (TORCH_DISTRIBUTED_DEBUG=DETAIL names
`encoder.head.bias, encoder.head.weight`). The reporter builds `vit_base_patch16_224` and uses it as a feature
extractor for several task heads, so the classifier head the model was built with never runs. timm's
VisionTransformer is replaced by a minimal stand-in with the same `forward_features`/`head` layout.
"""
import torch
import torch.nn as nn


class VisionTransformer(nn.Module):
    def __init__(self, dim=8, num_classes=10):
        super().__init__()
        self.patch_embed = nn.Linear(12, dim)
        self.blocks = nn.Sequential(nn.Linear(dim, dim), nn.GELU())
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward_features(self, x):
        return self.norm(self.blocks(self.patch_embed(x)))[:, 0]

    def forward(self, x):
        return self.head(self.forward_features(x))


class MultiTaskModel(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.encoder = VisionTransformer(dim)
        self.heads = nn.ModuleList([nn.Linear(dim, 2), nn.Linear(dim, 3)])

    def forward(self, x):
        feats = self.encoder.forward_features(x)
        return [head(feats) for head in self.heads]


def build():
    torch.manual_seed(0)
    model = MultiTaskModel()
    batches = [torch.randn(2, 4, 12) for _ in range(2)]
    return {"model": model, "step": lambda m, x: sum(o.sum() for o in m(x)), "batches": batches}
