"""An Inception-style classifier with two auxiliary heads that only run (and only return) in training."""
from collections import namedtuple
from typing import Any, Optional

import torch
import torch.nn as nn
from torch import Tensor

from ._api import register_model
from ._utils import _overwrite, handle_legacy_interface

__all__ = ["AuxNet", "AuxNetOutputs", "auxnet"]

AuxNetOutputs = namedtuple("AuxNetOutputs", ["logits", "aux_logits2", "aux_logits1"])
_AuxNetOutputs = AuxNetOutputs


class AuxHead(nn.Module):
    def __init__(self, in_features: int, num_classes: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_features, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(torch.relu(x))


class AuxNet(nn.Module):
    def __init__(self, num_classes: int = 10, aux_logits: bool = True, width: int = 16,
                 blocks: Optional[list] = None) -> None:
        super().__init__()
        if blocks is None:
            blocks = [nn.Linear, AuxHead]
        layer, aux_block = blocks[0], blocks[1]
        self.aux_logits = aux_logits
        self.stem = layer(8, width)
        self.block1 = layer(width, width)
        self.block2 = layer(width, width)
        if aux_logits:
            self.aux1 = aux_block(width, num_classes)
            self.aux2 = aux_block(width, num_classes)
        else:
            self.aux1 = None
            self.aux2 = None
        self.fc = nn.Linear(width, num_classes)

    def _forward(self, x: Tensor):
        x = self.stem(x)
        x = self.block1(x)
        aux1: Optional[Tensor] = None
        if self.aux1 is not None:
            if self.training:
                aux1 = self.aux1(x)
        x = self.block2(x)
        aux2: Optional[Tensor] = None
        if self.aux2 is not None:
            if self.training:
                aux2 = self.aux2(x)
        x = self.fc(x)
        return x, aux2, aux1

    def eager_outputs(self, x: Tensor, aux2: Tensor, aux1: Optional[Tensor]) -> AuxNetOutputs:
        if self.training and self.aux_logits:
            return _AuxNetOutputs(x, aux2, aux1)
        else:
            return x  # type: ignore[return-value]

    def forward(self, x: Tensor) -> AuxNetOutputs:
        x, aux2, aux1 = self._forward(x)
        if torch.jit.is_scripting():
            return AuxNetOutputs(x, aux2, aux1)
        return self.eager_outputs(x, aux2, aux1)


@register_model()
@handle_legacy_interface(weights=("pretrained", "DEFAULT"))
def auxnet(*, weights: Optional[str] = None, progress: bool = True, **kwargs: Any) -> AuxNet:
    if weights is not None:
        _overwrite(kwargs, "aux_logits", True)
    model = AuxNet(**kwargs)
    return model
