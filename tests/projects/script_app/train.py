import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from models import TwoHeads, build


def main(x, y):
    model = DistributedDataParallel(build())  # expect: DDP201
    out = model(x)  # expect: DDP203
    loss = F.cross_entropy(out.logits, y)
    loss.backward()


def both(x, y):
    model = TwoHeads()
    out = model(x)
    loss = F.cross_entropy(out["logits"], y) + F.cross_entropy(out["aux_logits"], y)
    loss.backward()
