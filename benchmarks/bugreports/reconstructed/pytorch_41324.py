"""Reconstructed, not the original code: the model of the report itself, with a training step around it.

Report: https://github.com/pytorch/pytorch/issues/41324 ("In this model, net1 is not used"): `net1`'s bias is
replaced by the model's own parameter `bias`, and `forward` calls only `net2`, so `net1.weight` and the shared `bias`
never get a gradient and DDP stops with the unused-parameter error.
"""
import torch
import torch.nn as nn


class ToyModel(nn.Module):
    def __init__(self):
        super(ToyModel, self).__init__()
        self.net1 = nn.Linear(10, 5, bias=False)
        self.bias = nn.Parameter(torch.zeros(5))
        self.net1.bias = self.bias
        self.net2 = nn.Linear(10, 5)

    def forward(self, x):
        return self.net2(x)


def build():
    torch.manual_seed(0)
    model = ToyModel()
    batches = [(torch.randn(20, 10), torch.randn(20, 5)) for _ in range(2)]
    return {"model": model, "step": lambda m, b: nn.MSELoss()(m(b[0]), b[1]), "batches": batches}
