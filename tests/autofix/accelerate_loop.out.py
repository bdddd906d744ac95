import torch
from accelerate import Accelerator, DistributedDataParallelKwargs
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 8)
        self.pooler = nn.Linear(8, 8)  # expect: DDP001

    def forward(self, x):
        return self.encoder(x)


def main():
    accelerator = Accelerator(mixed_precision="fp16",
                              kwargs_handlers=[DistributedDataParallelKwargs(
                                  find_unused_parameters=True)])
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model, opt = accelerator.prepare(model, opt)


def fixed():
    handler = DistributedDataParallelKwargs(find_unused_parameters=True)
    accelerator = Accelerator(kwargs_handlers=[handler])
    model = accelerator.prepare(Net())


def wrong_flag():
    accelerator = Accelerator(kwargs_handlers=[DistributedDataParallelKwargs(bucket_cap_mb=25, find_unused_parameters=True)])
    model = accelerator.prepare_model(Net())


def not_prepared():
    accelerator = Accelerator()
    return accelerator, Net()
