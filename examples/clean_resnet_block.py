"""A residual block that DDP trains without complaint: nothing to report.

Every submodule reaches the output; the projection shortcut is built only when it is used; the
stochastic-depth branch scales the residual instead of skipping modules, so every parameter still gets a
gradient.
"""
import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1, drop_path: float = 0.1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        self.drop_path = drop_path

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.shortcut is None else self.shortcut(x)
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.training and self.drop_path > 0:
            keep = torch.rand(x.shape[0], 1, 1, 1, device=x.device) >= self.drop_path
            out = out * keep / (1 - self.drop_path)
        return torch.relu(out + identity)
