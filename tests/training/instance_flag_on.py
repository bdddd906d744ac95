"""The instance actually built decides: the auxiliary head is used because this script turns it on."""
import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self, use_aux=False):
        super().__init__()
        self.body = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)
        self.aux = nn.Linear(8, 2)  # expect: DDP102
        self.use_aux = use_aux

    def forward(self, x):
        h = torch.relu(self.body(x))
        out = self.head(h)
        if self.use_aux:
            out = out + self.aux(h)
        return out


def train(model, loader, optimizer):
    for x, y in loader:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main(loader):
    model = torch.nn.parallel.DistributedDataParallel(Net(use_aux=True))
    train(model, loader, torch.optim.SGD(model.parameters(), lr=0.1))


def _runtime():
    main([(torch.randn(4, 8), torch.randint(0, 2, (4,))) for _ in range(3)])
