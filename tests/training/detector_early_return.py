"""A detector loss function that returns early, without the box term, on batches without positive anchors."""
import torch
import torch.nn.functional as F
from torch import nn


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(8, 8)
        self.cls_head = nn.Linear(8, 3)
        self.box_head = nn.Linear(8, 4)

    def forward(self, x):
        h = torch.relu(self.backbone(x))
        return self.cls_head(h), self.box_head(h)


def detection_loss(outputs, labels, boxes):
    cls_logits, box_pred = outputs
    loss_cls = F.cross_entropy(cls_logits, labels)
    pos = labels > 0
    if pos.sum() == 0:
        return loss_cls
    return loss_cls + F.l1_loss(box_pred[pos], boxes[pos])


def train(loader):
    model = torch.nn.parallel.DistributedDataParallel(Detector())  # expect: DDP201
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, labels, boxes in loader:
        outputs = model(x)  # expect: DDP207
        loss = detection_loss(outputs, labels, boxes)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def _runtime():
    with_positives = (torch.randn(4, 8), torch.tensor([0, 1, 2, 0]), torch.rand(4, 4))
    without = (torch.randn(4, 8), torch.zeros(4, dtype=torch.long), torch.rand(4, 4))
    train([with_positives, without, with_positives])
