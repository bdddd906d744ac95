"""An accelerate script that imports accelerate inside main() and drops the auxiliary output."""
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)
        self.aux = nn.Linear(8, 2)

    def forward(self, x):
        h = torch.relu(self.body(x))
        return self.head(h), self.aux(h)


def main(loader):
    from accelerate import Accelerator

    accelerator = Accelerator()  # expect: DDP201
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    for x, y in loader:
        logits, aux = model(x)  # expect: DDP203
        loss = nn.functional.cross_entropy(logits, y)
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()


def fixed(loader):
    from accelerate import Accelerator, DistributedDataParallelKwargs

    accelerator = Accelerator(kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)])
    model = accelerator.prepare(Net())
    for x, y in loader:
        logits, aux = model(x)  # expect: DDP203
        accelerator.backward(nn.functional.cross_entropy(logits, y))


def _runtime():
    main([(torch.randn(4, 8), torch.randint(0, 2, (4,))) for _ in range(3)])
