"""Negatives for per-scene criterion objects: the box output reaches the loss on every batch (times 0 when no scene
has boxes), and a batch the training loop skips whole (no forward, no backward) drops nothing."""
import torch
import torch.nn.functional as F
from torch import nn


class SceneDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 8)
        self.out_cls = nn.Linear(8, 3)
        self.out_bboxes = nn.Linear(8, 6)

    def forward(self, scenes):
        cls_preds, bboxes = [], []
        for points in scenes:
            query = torch.relu(self.proj(points))
            cls_preds.append(self.out_cls(query))
            bboxes.append(self.out_bboxes(query))
        return {"cls_preds": cls_preds, "bboxes": bboxes}


class ZeroWeightedCriterion:
    """The box head stays in the graph on a batch without boxes: its output times 0."""

    def __call__(self, pred, targets):
        cls_loss = torch.stack([F.cross_entropy(c, t["classes"]) for c, t in zip(pred["cls_preds"], targets)]).mean()
        box_losses = []
        for bbox, target in zip(pred["bboxes"], targets):
            if len(target["boxes"]) == 0:
                continue
            box_losses.append(F.l1_loss(bbox[:len(target["boxes"])], target["boxes"]))
        if len(box_losses):
            box_loss = torch.stack(box_losses).mean()
        else:
            box_loss = torch.stack([bbox.sum() for bbox in pred["bboxes"]]).sum() * 0
        return {"loss": cls_loss + box_loss}


def train_one_epoch(model, criterion, loader, optimizer):
    for scenes, targets in loader:
        loss = criterion(model(scenes), targets)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def train_skipping_empty_batches(model, loader, optimizer):
    """Batches without any box are skipped before the forward: the model runs only on batches that use it all."""
    for scenes, targets in loader:
        if sum(len(t["boxes"]) for t in targets) == 0:
            continue
        out = model(scenes)
        loss = torch.stack([c.sum() for c in out["cls_preds"]]).sum() + torch.stack(
            [b.sum() for b in out["bboxes"]]).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main(loader):
    model = torch.nn.parallel.DistributedDataParallel(SceneDecoder())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train_one_epoch(model, ZeroWeightedCriterion(), loader, optimizer)
    train_skipping_empty_batches(model, loader, optimizer)


def _scene(n_boxes):
    return {"classes": torch.randint(0, 3, (5,)), "boxes": torch.rand(n_boxes, 6)}


def _runtime():
    with_boxes = ([torch.randn(5, 4), torch.randn(5, 4)], [_scene(2), _scene(0)])
    without = ([torch.randn(5, 4), torch.randn(5, 4)], [_scene(0), _scene(0)])
    main([with_boxes, without, with_boxes])
