import torch.nn.functional as F
from torch import nn


class SetCriterion(nn.Module):
    def __init__(self, weight_dict):
        super().__init__()
        self.weight_dict = weight_dict

    def loss_labels(self, outputs, targets):
        return {"loss_ce": F.cross_entropy(outputs["pred_logits"], targets["labels"])}

    def loss_boxes(self, outputs, targets):
        return {"loss_bbox": F.l1_loss(outputs["pred_boxes"], targets["boxes"])}

    def forward(self, outputs, targets):
        losses = {}
        losses.update(self.loss_labels(outputs, targets))
        losses.update(self.loss_boxes(outputs, targets))
        return losses
