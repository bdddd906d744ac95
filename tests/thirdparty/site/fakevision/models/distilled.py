"""A DeiT-style model: a distillation head whose output is returned apart only in distilled training."""
from typing import Any, Callable, Dict

import torch
import torch.nn as nn
from torch import Tensor

from ._api import register_model

__all__ = ["DistilledNet"]  # registered factories are exported by the registry, as in timm


class BaseNet(nn.Module):
    def __init__(self, width: int = 8, num_classes: int = 3, **kwargs: Any) -> None:
        super().__init__()
        self.body = nn.Linear(8, width)
        self.head = nn.Linear(width, num_classes)

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        return x if pre_logits else self.head(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_head(self.body(x))


class DistilledNet(BaseNet):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_dist = nn.Linear(self.head.in_features, self.head.out_features)
        self.distilled_training = False

    def set_distilled_training(self, enable: bool = True) -> None:
        self.distilled_training = enable

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        if pre_logits:
            return x
        x, x_dist = self.head(x), self.head_dist(x)
        if self.distilled_training and self.training and not torch.jit.is_scripting():
            return x, x_dist
        else:
            return (x + x_dist) / 2


def build_model_with_cfg(model_cls: Callable[..., nn.Module], variant: str, pretrained: bool,
                         **kwargs: Any) -> nn.Module:
    cfg: Dict[str, Any] = {"variant": variant, "pretrained": pretrained}
    model = model_cls(**kwargs)
    model.pretrained_cfg = cfg
    return model


def _create(variant: str, pretrained: bool = False, distilled: bool = False, **kwargs: Any) -> nn.Module:
    model_cls = DistilledNet if distilled else BaseNet
    model = build_model_with_cfg(model_cls, variant, pretrained, **kwargs)
    return model


@register_model()
def distilled_tiny(pretrained: bool = False, **kwargs: Any) -> DistilledNet:
    model_args = dict(width=8)
    return _create("distilled_tiny", pretrained=pretrained, distilled=True, **dict(model_args, **kwargs))
