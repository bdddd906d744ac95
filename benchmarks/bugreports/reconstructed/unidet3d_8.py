"""Reconstructed, not the original code: UniDet3D's decoder (unidet3d/encoder.py) and criterion (unidet3d/criterion.py).

Report: https://github.com/filaPro/unidet3d/issues/8. DETAIL: `decoder.out_bboxes.linear.bias, .weight` did not
receive grad, "halfway into the training". The maintainer: some datasets have scenes with 0 GT boxes; when every
scene of a GPU's batch is such a scene, the criterion skips each scene's bbox loss and uses the constant
`bbox_loss = 0` (criterion.py L138), so the last regression layer gets no gradient on that step. The shapes kept:
per-scene lists of queries, a box head read by the matcher only under `no_grad`, and the per-scene `continue`.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class PredBBox(nn.Module):
    def __init__(self, d_model, n_bbox_outs):
        super().__init__()
        self.linear = nn.Linear(d_model, n_bbox_outs)

    def forward(self, x):
        x = self.linear(x)
        return torch.hstack((torch.exp(x[:, :6]), x[:, 6:]))


class UniDet3DEncoder(nn.Module):
    def __init__(self, in_channels=4, d_model=8, n_classes=3):
        super().__init__()
        self.input_proj = nn.Sequential(nn.Linear(in_channels, d_model), nn.ReLU(), nn.Linear(d_model, d_model))
        self.out_norm = nn.LayerNorm(d_model)
        self.outs_cls = nn.Sequential(nn.Linear(d_model, d_model), nn.ReLU(), nn.Linear(d_model, n_classes + 1))
        self.out_bboxes = PredBBox(d_model, 6)

    def forward(self, x):
        cls_preds, pred_bboxes = [], []
        for y in x:
            norm_query = self.out_norm(self.input_proj(y))
            cls_preds.append(self.outs_cls(norm_query))
            pred_bboxes.append(self.out_bboxes(norm_query))
        return dict(cls_preds=cls_preds, bboxes=pred_bboxes)


class UniDet3D(nn.Module):
    def __init__(self):
        super().__init__()
        self.decoder = UniDet3DEncoder()

    def forward(self, x):
        return self.decoder(x)


class UniDet3DCriterion:
    """Per-scene losses as in UniDet3DCriterion.get_layer_loss; the matcher takes the first n_gt queries."""

    def __init__(self, loss_weight=(1.0, 1.0)):
        self.loss_weight = loss_weight

    @torch.no_grad()
    def match(self, pred_bboxes, labels):
        n = len(labels)
        return torch.arange(n), torch.arange(n)

    def __call__(self, pred, insts):
        cls_preds, pred_bboxes = pred["cls_preds"], pred["bboxes"]
        indices = [self.match(bbox, inst["labels"]) for bbox, inst in zip(pred_bboxes, insts)]
        cls_losses = []
        for cls_pred, inst, (idx_q, idx_gt) in zip(cls_preds, insts, indices):
            num_classes = cls_pred.shape[1] - 1
            cls_target = cls_pred.new_full((len(cls_pred),), num_classes, dtype=torch.long)
            cls_target[idx_q] = inst["labels"][idx_gt]
            cls_losses.append(F.cross_entropy(cls_pred, cls_target))
        cls_loss = torch.mean(torch.stack(cls_losses))
        bbox_losses = []
        for bbox, inst, (idx_q, idx_gt) in zip(pred_bboxes, insts, indices):
            if len(inst["labels"]) == 0 or len(idx_q) == 0:
                continue
            bbox_losses.append(F.l1_loss(bbox[idx_q], inst["boxes"][idx_gt]))
        if len(bbox_losses):
            bbox_loss = torch.stack(bbox_losses).mean()
        else:
            bbox_loss = 0
        loss = self.loss_weight[0] * cls_loss + self.loss_weight[1] * bbox_loss
        return {"det_loss": loss}


def train_step(model, criterion, points, insts):
    loss = criterion(model(points), insts)["det_loss"]
    loss.backward()
    return loss


def build():
    torch.manual_seed(0)
    model = UniDet3D()
    criterion = UniDet3DCriterion()

    def scene(n_gt):
        return {"labels": torch.randint(0, 3, (n_gt,)), "boxes": torch.rand(n_gt, 6)}

    # the second batch holds only scenes without GT boxes (as some datasets' scenes are)
    batches = [([torch.randn(5, 4), torch.randn(6, 4)], [scene(2), scene(3)]),
               ([torch.randn(5, 4), torch.randn(6, 4)], [scene(0), scene(0)])]
    return {"model": model, "step": lambda m, b: criterion(m(b[0]), b[1])["det_loss"], "batches": batches}
