import torch
from torch import nn


class TinyDETR(nn.Module):
    def __init__(self, num_classes=3, aux_loss=True):
        super().__init__()
        self.backbone = nn.Linear(8, 8)
        self.class_embed = nn.Linear(8, num_classes)
        self.bbox_embed = nn.Linear(8, 4)
        self.aux_class_embed = nn.Linear(8, num_classes)
        self.aux_loss = aux_loss

    def forward(self, samples):
        h = torch.relu(self.backbone(samples))
        out = {"pred_logits": self.class_embed(h), "pred_boxes": self.bbox_embed(h).sigmoid()}
        out["aux_outputs"] = self.aux_class_embed(h)
        return out


def build_model(num_classes):
    return TinyDETR(num_classes=num_classes)
