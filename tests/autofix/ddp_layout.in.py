"""Layouts of a launch call that the fix keeps: comments stay once, one argument per line stays so,
trailing commas stay, the closing bracket does not move, no trailing whitespace."""
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(2, 2)
        self.b = nn.Linear(2, 2)

    def forward(self, x):
        return self.a(x)


def one():
    return DDP(
        Net(),  # the model
    )


def two():
    return DDP(Net(),  # the model
               device_ids=[0])


def three():
    return DDP(
        Net(), device_ids=[0]
    )


def four():
    return DDP(
        Net(),
        device_ids=[0],
    )


def five():
    return DDP(Net(), device_ids=[0])


def six():
    return DDP(
        Net()
    )


def seven():
    return DDP(Net(),
               device_ids=[0],  # gpu
               )
