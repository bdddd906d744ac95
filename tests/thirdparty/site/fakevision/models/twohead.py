"""A model whose training output is a typing.NamedTuple; a private helper that star imports skip."""
from typing import Any, NamedTuple

import torch.nn as nn
from torch import Tensor

from ._api import register_model


class TwoHeadOutput(NamedTuple):
    main: Tensor
    extra: Tensor


class TwoHead(nn.Module):
    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self.body = nn.Linear(8, width)
        self.main_head = nn.Linear(width, 3)
        self.extra_head = nn.Linear(width, 3)

    def forward(self, x: Tensor) -> TwoHeadOutput:
        h = self.body(x)
        return TwoHeadOutput(self.main_head(h), self.extra_head(h))


def _private_builder(**kwargs: Any) -> TwoHead:
    return TwoHead(**kwargs)


@register_model()
def twohead(**kwargs: Any) -> TwoHead:
    return _private_builder(**kwargs)
