"""A segmentation model returning an OrderedDict with "out" and, with aux_loss=True, "aux"."""
from collections import OrderedDict
from typing import Any, Dict, Optional

import torch.nn as nn
from torch import Tensor

from .._api import register_model

__all__ = ["SegNet", "segnet"]


class SegNet(nn.Module):
    def __init__(self, width: int = 8, aux_loss: bool = False) -> None:
        super().__init__()
        self.backbone = nn.Linear(8, width)
        self.classifier = nn.Linear(width, 4)
        if aux_loss:
            self.aux_classifier = nn.Linear(width, 4)
        else:
            self.aux_classifier = None

    def forward(self, x: Tensor) -> Dict[str, Tensor]:
        features = self.backbone(x)
        result = OrderedDict()
        result["out"] = self.classifier(features)
        if self.aux_classifier is not None:
            result["aux"] = self.aux_classifier(features)
        return result


@register_model()
def segnet(*, weights: Optional[str] = None, aux_loss: Optional[bool] = None, **kwargs: Any) -> SegNet:
    return SegNet(aux_loss=bool(aux_loss), **kwargs)
