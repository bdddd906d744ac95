
from accelerate import Accelerator
from torch import nn
from accelerate import DistributedDataParallelKwargs


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 8)
        self.pooler = nn.Linear(8, 8)

    def forward(self, x):
        return self.encoder(x)


def main():
    accelerator = Accelerator(
        mixed_precision="fp16",
        gradient_accumulation_steps=2,
        kwargs_handlers=[DistributedDataParallelKwargs(
            find_unused_parameters=True)],
    )
    model = accelerator.prepare(Net())
