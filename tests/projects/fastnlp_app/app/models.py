import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(16, 16)
        self.head = nn.Linear(16, 2)
        self.unused_head = nn.Linear(16, 2)  # expect: DDP001

    def forward(self, x, y):
        return {"loss": nn.functional.cross_entropy(self.head(self.encoder(x)), y)}


class Clean(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(16, 2)

    def forward(self, x, y):
        return {"loss": nn.functional.cross_entropy(self.head(x), y)}
