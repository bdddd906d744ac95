"""A criterion object (a plain class with ``__call__``, as detection registries build them) computes the box loss
scene by scene and skips the scenes without ground truth; when no scene of a batch has boxes it adds a constant
0, so the box head gets no gradient on that batch (the shape of filaPro/unidet3d#8)."""
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


class PerSceneCriterion:
    def __init__(self, box_weight=1.0):
        self.box_weight = box_weight

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
            box_loss = 0
        return {"loss": cls_loss + self.box_weight * box_loss}


def train_one_epoch(model, criterion, loader, optimizer):
    for scenes, targets in loader:
        loss = criterion(model(scenes), targets)["loss"]  # expect: DDP207
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main(loader):
    model = torch.nn.parallel.DistributedDataParallel(SceneDecoder())  # expect: DDP201
    criterion = PerSceneCriterion()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train_one_epoch(model, criterion, loader, optimizer)


def _scene(n_boxes):
    return {"classes": torch.randint(0, 3, (5,)), "boxes": torch.rand(n_boxes, 6)}


def _runtime():
    with_boxes = ([torch.randn(5, 4), torch.randn(5, 4)], [_scene(2), _scene(0)])
    without = ([torch.randn(5, 4), torch.randn(5, 4)], [_scene(0), _scene(0)])
    main([with_boxes, without, with_boxes])
