"""Reconstructed, not the original code: GMMSeg's decode head on top of an mmseg-style base decode head.

Report: https://github.com/leonnnop/GMMSeg/issues/8 (the maintainer pinned the explanation: GMMSegHead inherits
`BaseDecodeHead`, whose `__init__` builds `self.conv_seg`, and GMMSegHead never calls it; `del self.conv_seg`
lets `find_unused_parameters=False` work). The base class mirrors mmseg's `BaseDecodeHead`.
"""
import torch
import torch.nn as nn


class BaseDecodeHead(nn.Module):
    def __init__(self, in_channels=8, channels=8, num_classes=3):
        super().__init__()
        self.in_channels = in_channels
        self.channels = channels
        self.conv_seg = nn.Conv2d(channels, num_classes, kernel_size=1)

    def cls_seg(self, feat):
        return self.conv_seg(feat)

    def forward(self, inputs):
        return self.cls_seg(inputs)


class GMMSegHead(BaseDecodeHead):
    """Classifies pixels with Gaussian mixture components instead of the 1x1 conv of the base class."""

    def __init__(self, num_components=2, **kwargs):
        super().__init__(**kwargs)
        self.feat_proj = nn.Conv2d(self.in_channels, self.channels, 3, padding=1)
        self.means = nn.Parameter(torch.randn(3 * num_components, self.channels))

    def forward(self, inputs):
        feat = self.feat_proj(inputs)
        flat = feat.permute(0, 2, 3, 1).reshape(-1, self.channels)
        logits = -torch.cdist(flat, self.means)
        return logits


def build():
    torch.manual_seed(0)
    model = GMMSegHead()
    batches = [torch.randn(2, 8, 4, 4) for _ in range(2)]
    return {"model": model, "step": lambda m, x: m(x).logsumexp(-1).mean(), "batches": batches}
