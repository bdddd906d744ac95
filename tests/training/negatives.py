"""Negatives: all outputs in the loss, every call site passes the argument, the flag set."""
import torch
import torch.nn.functional as F
from torch import nn


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)
        self.aux_head = nn.Linear(8, 2)

    def forward(self, x):
        h = self.body(x)
        return self.head(h), self.aux_head(h)


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


def train_all_outputs(model, loader):
    for x, y in loader:
        logits, aux = model(x)
        loss = F.cross_entropy(logits, y) + 0.4 * F.cross_entropy(aux, y)
        loss.backward()


def train_tagger(model, loader):
    for batch in loader:
        model(batch["x"], labels=batch["labels"]).sum().backward()


def _backward(loss, scaler=None):
    (scaler.scale(loss) if scaler is not None else loss).backward()


def train_all_outputs_with_helper(model, loader):
    for x, y in loader:
        logits, aux = model(x)
        _backward(F.cross_entropy(logits, y) + 0.4 * F.cross_entropy(aux, y))


def train_dropping(model, loader):
    for x, y in loader:
        out = model(x)  # expect: DDP203
        F.cross_entropy(out[0], y).backward()


def main(loader):
    train_all_outputs(torch.nn.parallel.DistributedDataParallel(TwoHeads()), loader)
    train_all_outputs_with_helper(torch.nn.parallel.DistributedDataParallel(TwoHeads()), loader)
    tolerant = torch.nn.parallel.DistributedDataParallel(TwoHeads(), find_unused_parameters=True)
    train_dropping(tolerant, loader)


def _runtime():
    main([(torch.randn(4, 8), torch.randint(0, 2, (4,))) for _ in range(3)])
    train_tagger(torch.nn.parallel.DistributedDataParallel(Tagger()),
                 [{"x": torch.randn(4, 8), "labels": torch.randn(4, 8)} for _ in range(3)])
