"""Plain PyTorch DDP launch (torchrun --nproc_per_node=2 examples/train_ddp.py) of the classifier in
bert_classifier.py, whose encoder builds a pooler it never uses."""
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP

from bert_classifier import Classifier


def main() -> None:
    dist.init_process_group("nccl")
    rank = int(os.environ["LOCAL_RANK"])
    model = Classifier().cuda(rank)
    model = DDP(model, device_ids=[rank])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    for step in range(1000):
        ids = torch.randint(0, 1000, (8, 32), device=rank)
        loss = model(ids).logsumexp(-1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


if __name__ == "__main__":
    main()
