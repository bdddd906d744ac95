import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.checkpoint import checkpoint


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 8)
        self.pooler = nn.Linear(8, 8)  # expect: DDP001

    def forward(self, x):
        return self.encoder(x)


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)
        self.aux_head = nn.Linear(8, 2)

    def forward(self, x):
        h = self.body(x)
        return self.head(h), self.aux_head(h)


class Clean(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(x)


def build_model():
    return Net()


def train(rank, data, y, unknown):
    model = Net().to(rank)
    ddp = DDP(model, device_ids=[rank], find_unused_parameters=True)
    torch.nn.parallel.DistributedDataParallel(build_model(),
                                              find_unused_parameters=True)
    DDP(module=model, find_unused_parameters=True)
    kw = dict(broadcast_buffers=False)
    DDP(model, **kw)
    DDP(model, static_graph=True)  # never-called layer: the unused set is static
    DDP(model, find_unused_parameters=True)
    DDP(Clean())
    DDP(unknown)
    DDP(model, find_unused_parameters=unknown)
    two = DDP(TwoHeads(), find_unused_parameters=True)
    logits, aux = two(data)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    return ddp


def train_index(data, y):
    model = TwoHeads()
    out = model(data)
    F.cross_entropy(out[0], y).backward()


def train_both(data, y):
    model = TwoHeads()
    logits, aux = model(data)
    (F.cross_entropy(logits, y) + F.cross_entropy(aux, y)).backward()


class Checkpointed(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = nn.Linear(8, 8)
        self.unused = nn.Linear(8, 8)  # expect: DDP001

    def forward(self, x):
        return checkpoint(self.block, x)


def train_checkpointed():
    DDP(Checkpointed(), find_unused_parameters=True)
    DDP(Checkpointed())
