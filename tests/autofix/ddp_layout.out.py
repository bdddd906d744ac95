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
        find_unused_parameters=True,
    )


def two():
    return DDP(Net(),  # the model
               device_ids=[0], find_unused_parameters=True)


def three():
    return DDP(
        Net(), device_ids=[0], find_unused_parameters=True
    )


def four():
    return DDP(
        Net(),
        device_ids=[0],
        find_unused_parameters=True,
    )


def five():
    return DDP(Net(), device_ids=[0], find_unused_parameters=True)


def six():
    return DDP(
        Net(),
        find_unused_parameters=True
    )


def seven():
    return DDP(Net(),
               device_ids=[0],  # gpu
               find_unused_parameters=True,
               )
