"""Reconstructed, not the original code: PoolFormer's detection backbone (fork_feat) under a DETR-like detector.

Report: https://github.com/sail-sg/poolformer/issues/16 (TORCH_DISTRIBUTED_DEBUG=DETAIL names
`backbone.norm0.weight, backbone.norm0.bias`). The backbone adds one norm layer per output stage with
`add_module(f"norm{i}")` and fetches it with `getattr`; the detector keeps only the last three feature maps,
so the first stage's norm layer never reaches the loss.
"""
import torch
import torch.nn as nn


class PoolFormer(nn.Module):
    def __init__(self, dims=(4, 8, 8, 8), fork_feat=True):
        super().__init__()
        self.fork_feat = fork_feat
        blocks = []
        for i, dim in enumerate(dims):
            blocks.append(nn.Conv2d(dims[i - 1] if i else 3, dim, 3, padding=1))
            blocks.append(nn.Identity())
        self.network = nn.ModuleList(blocks)
        if self.fork_feat:
            self.out_indices = [0, 2, 4, 6]
            for i_emb, i_layer in enumerate(self.out_indices):
                layer = nn.GroupNorm(1, dims[i_emb])
                layer_name = f"norm{i_layer}"
                self.add_module(layer_name, layer)

    def forward(self, x):
        outs = []
        for idx, block in enumerate(self.network):
            x = block(x)
            if self.fork_feat and idx in self.out_indices:
                norm_layer = getattr(self, f"norm{idx}")
                outs.append(norm_layer(x))
        return outs


class DeformableDETRLike(nn.Module):
    """The detector: a multi-scale neck over the last three backbone outputs."""

    def __init__(self):
        super().__init__()
        self.backbone = PoolFormer()
        self.neck = nn.ModuleList([nn.Conv2d(8, 8, 1) for _ in range(3)])
        self.head = nn.Linear(8, 2)

    def forward(self, img):
        feats = self.backbone(img)[1:]
        pooled = sum(conv(f).mean(dim=(2, 3)) for conv, f in zip(self.neck, feats))
        return self.head(pooled)


def build():
    torch.manual_seed(0)
    model = DeformableDETRLike()
    batches = [torch.randn(2, 3, 8, 8) for _ in range(2)]
    return {"model": model, "step": lambda m, x: m(x).sum(), "batches": batches}
