import torch

from detr.engine import train_one_epoch
from detr.losses import SetCriterion
from detr.models import build_model


def main(data_loader, device="cpu"):
    model = build_model(num_classes=3)
    model.to(device)
    model = torch.nn.parallel.DistributedDataParallel(model)  # expect: DDP201
    criterion = SetCriterion({"loss_ce": 1.0, "loss_bbox": 5.0})
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    train_one_epoch(model, criterion, data_loader, optimizer, device)


def _runtime():
    batches = [(torch.randn(4, 8), {"labels": torch.randint(0, 3, (4,)), "boxes": torch.rand(4, 4)})
               for _ in range(3)]
    main(batches)
