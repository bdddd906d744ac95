"""A segmentation model returning an OrderedDict with "out" and, with aux_loss=True, "aux"."""
from collections import OrderedDict
from typing import Any, Dict, Optional

import torch.nn as nn
from torch import Tensor

from .._api import register_model

__all__ = ["SegNet", "segnet", "PassedSeg", "passed_seg"]


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


class Head(nn.Sequential):
    def __init__(self, in_features: int, classes: int) -> None:
        super().__init__(nn.Linear(in_features, in_features), nn.ReLU(), nn.Linear(in_features, classes))


class PassedSeg(nn.Module):
    """Like torchvision's FCN/DeepLabV3: the factory builds the heads and passes them in."""

    def __init__(self, backbone: nn.Module, classifier: nn.Module, aux_classifier: Optional[nn.Module] = None) -> None:
        super().__init__()
        self.backbone = backbone
        self.classifier = classifier
        self.aux_classifier = aux_classifier

    def forward(self, x: Tensor) -> Dict[str, Tensor]:
        features = self.backbone(x)
        result = OrderedDict()
        result["out"] = self.classifier(features)
        if self.aux_classifier is not None:
            result["aux"] = self.aux_classifier(features)
        return result


class SegWeights:
    @classmethod
    def verify(cls, obj: Any) -> Any:
        return obj


def _ovewrite_value_param(param: str, actual: Optional[Any], expected: Any) -> Any:
    return expected if actual is None else actual


def _passed_seg(num_classes: int, aux: Optional[bool]) -> PassedSeg:
    aux_classifier = Head(8, num_classes) if aux else None
    return PassedSeg(nn.Linear(8, 8), Head(8, num_classes), aux_classifier)


@register_model()
def passed_seg(*, weights: Optional[str] = None, num_classes: Optional[int] = None,
               aux_loss: Optional[bool] = None, **kwargs: Any) -> PassedSeg:
    weights = SegWeights.verify(weights)
    if weights is not None:
        num_classes = _ovewrite_value_param("num_classes", num_classes, 4)
        aux_loss = _ovewrite_value_param("aux_loss", aux_loss, True)
    elif num_classes is None:
        num_classes = 4
    model = _passed_seg(num_classes, aux_loss)
    return model
