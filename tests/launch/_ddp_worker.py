"""Real DDP on CPU (gloo, 2 processes on 127.0.0.1): ``python _ddp_worker.py MODE PORT``.

Prints ``RESULT ok`` or ``RESULT error: <first line>`` for rank 0. ``train_unused`` is the launch the
autofix is checked on: tests run this file as written (crash) and after ``fix_source`` (trains).
"""
import datetime
import os
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.checkpoint import checkpoint


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 8)
        self.pooler = nn.Linear(8, 8)

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


class Ckpt(nn.Module):
    def __init__(self, reentrant):
        super().__init__()
        self.pre = nn.Linear(8, 8)
        self.block = nn.Linear(8, 8)
        self.head = nn.Linear(8, 8)
        self.reentrant = reentrant

    def forward(self, x):
        return self.head(checkpoint(self.block, self.pre(x), use_reentrant=self.reentrant))


def train_unused():
    model = Net()
    ddp = DDP(model)
    return ddp


MODES = {
    "ckpt-reentrant-unused": (lambda: Ckpt(True), {"find_unused_parameters": True}),
    "ckpt-reentrant-default": (lambda: Ckpt(True), {}),
    "ckpt-reentrant-static": (lambda: Ckpt(True), {"static_graph": True}),
    "ckpt-nonreentrant-unused": (lambda: Ckpt(False), {"find_unused_parameters": True}),
    "dropped-default": (TwoHeads, {}),
    "dropped-static": (TwoHeads, {"static_graph": True}),
    "dropped-unused": (TwoHeads, {"find_unused_parameters": True}),
}


def worker(rank, mode, port):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=2, timeout=datetime.timedelta(seconds=120))
    torch.manual_seed(0)
    try:
        if mode == "unused":
            ddp = train_unused()
        else:
            make, kwargs = MODES[mode]
            ddp = DDP(make(), **kwargs)
        opt = torch.optim.SGD(ddp.parameters(), lr=0.01)
        for _ in range(4):
            out = ddp(torch.randn(4, 8))
            loss = (out[0] if isinstance(out, tuple) else out).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        # both ranks finished: wait for each other before exiting, else the first to exit can close the
        # connection while the other still reads its last allreduce (a broken pipe under load)
        dist.barrier()
        result = "ok"
    except RuntimeError as error:
        result = "error: " + str(error).splitlines()[0]
    if rank == 0:
        print("RESULT", result, flush=True)
    os._exit(0)  # do not wait for the other rank in the process-group teardown after an error


if __name__ == "__main__":
    mp.spawn(worker, args=(sys.argv[1], int(sys.argv[2])), nprocs=2, join=True)
