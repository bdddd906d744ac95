"""A submodule used only when labels are given: the training code decides whether it is per batch."""
import torch
from torch import nn


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 8)
        self.label_proj = nn.Linear(8, 8)  # expect: DDP901

    def forward(self, x, labels=None):
        out = self.body(x)
        if labels is not None:
            out = out + self.label_proj(labels)
        return out


def train_maybe(model, loader, optimizer):
    for batch in loader:
        loss = model(batch["x"], labels=batch.get("labels")).sum()  # expect: DDP208
        loss.backward()
        optimizer.step()


def main(loader):
    model = torch.nn.parallel.DistributedDataParallel(Tagger())  # expect: DDP201
    train_maybe(model, loader, torch.optim.SGD(model.parameters(), lr=0.1))


def _runtime():
    main([{"x": torch.randn(4, 8), "labels": torch.randn(4, 8)}, {"x": torch.randn(4, 8)},
          {"x": torch.randn(4, 8), "labels": torch.randn(4, 8)}])
