"""The torch.nn knowledge table (which layers own parameters) checked against real torch."""
from __future__ import annotations

import inspect
import warnings
from typing import Optional

import pytest
import torch.nn as nn

from flake8_ddp_unused.torchnn import (
    CONDITIONAL_PARAMETERS,
    CONTAINERS,
    PARAMETER_LAYERS,
    PARAMETERLESS_LAYERS,
)

NOT_LAYERS = {"Module", "Container", "DataParallel", "RNNBase", "RNNCellBase", "Buffer", "Parameter",
              "UninitializedParameter", "UninitializedBuffer"} | set(CONTAINERS)


def build(cls: type, **extra: object) -> Optional[nn.Module]:
    """An instance with small values for the required arguments, or None when that is not possible."""
    try:
        signature = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return None
    args = {p.name: 2 for p in list(signature.parameters.values())[1:]
            if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    if "encoder_layer" in args:
        args["encoder_layer"] = nn.TransformerEncoderLayer(2, 1)
    if "decoder_layer" in args:
        args["decoder_layer"] = nn.TransformerDecoderLayer(2, 1)
    if "cutoffs" in args:
        args["cutoffs"] = [1]
    if "output_size" in args and cls.__name__.startswith("Fractional"):
        args["output_size"] = 1
    args.update(extra)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cls(**args)
    except Exception:  # noqa: BLE001 - some layers need real shapes; they are checked by name only
        return None


LAYERS = sorted(name for name in dir(nn) if not name.startswith("_") and inspect.isclass(getattr(nn, name))
                and issubclass(getattr(nn, name), nn.Module) and name not in NOT_LAYERS)


def test_every_table_name_is_a_torch_nn_class() -> None:
    for name in PARAMETER_LAYERS | PARAMETERLESS_LAYERS | set(CONDITIONAL_PARAMETERS):
        assert hasattr(nn, name), name


@pytest.mark.parametrize("name", LAYERS)
def test_layer_is_classified_as_torch_builds_it(name: str) -> None:
    cls = getattr(nn, name)
    module = build(cls)
    if module is None:
        assert name in PARAMETER_LAYERS | PARAMETERLESS_LAYERS | set(CONDITIONAL_PARAMETERS), name
        return
    owns = any(True for _ in module.parameters())
    if name in CONDITIONAL_PARAMETERS:
        keyword, _, default = CONDITIONAL_PARAMETERS[name]
        assert owns == default, f"{name}: default {keyword}={default}"
        for value in (True, False):
            flipped = build(cls, **{keyword: value})
            if flipped is not None:
                assert any(True for _ in flipped.parameters()) == value, f"{name}({keyword}={value})"
    elif owns:
        assert name in PARAMETER_LAYERS, f"{name} owns parameters"
    else:
        assert name in PARAMETERLESS_LAYERS, f"{name} owns no parameters"
