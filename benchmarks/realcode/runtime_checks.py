"""Runtime ground truth for the labels marked ``cpu`` in labels.csv.

    python benchmarks/realcode/runtime_checks.py

Each check takes the class (and the helpers it needs) out of the pinned package source with ``ast`` (the
packages themselves are not installed: their dependencies are heavy), builds it with a small configuration,
runs one training step the way the package's own code drives it, calls ``backward()`` and reports which of
the labelled parameters are left with ``grad is None``. A check prints the verdict it supports; it fails
(exit 1) when the runtime disagrees with the label.
"""
from __future__ import annotations

import ast
import math
import sys
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import BY_NAME, read_labels, source_dir  # noqa: E402


class _Registry:
    """Stands in for mmengine-style registries: ``@MODELS.register_module()`` returns the class unchanged."""

    @staticmethod
    def register_module(*_args: object, **_kwargs: object) -> Callable[[type], type]:
        return lambda cls: cls


def load(package: str, path: str, *names: str) -> Dict[str, object]:
    """Execute only the named top-level classes/functions of a package file, with torch in scope."""
    source = (source_dir(BY_NAME[package]) / path).read_text()
    namespace: Dict[str, object] = {"torch": torch, "nn": nn, "F": F, "math": math, "MODELS": _Registry,
                                    "spectral_norm": nn.utils.spectral_norm}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name in names:
            exec(compile(ast.Module([node], []), path, "exec"), namespace)
    return namespace


def no_grad_params(module: nn.Module, names: List[str]) -> List[str]:
    params = dict(module.named_parameters())
    return [n for n in names if params[n].grad is None]


# Each check: (package, file, class, attribute as labelled, function returning the attribute's grad-less state)
def layer_select() -> bool:
    g = load("fairseq", "fairseq/examples/latent_depth/latent_depth_src/modules/latent_layers.py", "LayerSelect")
    m = g["LayerSelect"](num_layers=4, num_logits=3)
    m.sample(1)  # the parent model samples once per batch, then each layer calls forward(i)
    sum(m(i) for i in range(4)).backward()
    return bool(no_grad_params(m, ["layer_logits"]))


def attn_head_selector() -> bool:
    g = load("fairseq", "fairseq/examples/attention_head_selection/src/modules/attn_head_selector.py",
             "AttnHeadSelector")
    m = g["AttnHeadSelector"](num_tasks=2, num_layers=3, total_num_heads=8, num_heads=4)
    nn.init.uniform_(m.head_logits)
    m.head_select(task_ids=torch.tensor([0, 1]))  # called by the parent per batch
    _, weights = m(1)
    weights.sum().backward()
    return bool(no_grad_params(m, ["head_logits"]))


def grn(attr: str) -> Callable[[], bool]:
    def check() -> bool:
        g = load("mmpretrain", "mmpretrain/models/utils/norm.py", "GRN")
        missing = False
        for data_format, shape in (("channel_first", (2, 8, 4, 4)), ("channel_last", (2, 4, 4, 8))):
            m = g["GRN"](8)
            m(torch.randn(*shape), data_format=data_format).sum().backward()
            missing = missing or bool(no_grad_params(m, [attr]))
        return missing
    return check


def metric_discriminator() -> bool:
    g = load("speechbrain", "speechbrain/lobes/models/MetricGAN_U.py", "xavier_init_layer", "MetricDiscriminator")
    m = g["MetricDiscriminator"]()
    m(torch.rand(2, 1, 100, 257)).sum().backward()
    return bool(no_grad_params(m, ["BN.weight"]))


CHECKS: List[Tuple[Tuple[str, str, str, str, str], Callable[[], bool]]] = [
    (("fairseq", "fairseq/examples/latent_depth/latent_depth_src/modules/latent_layers.py", "LayerSelect",
      "self.layer_logits", "DDP001"), layer_select),
    (("fairseq", "fairseq/examples/attention_head_selection/src/modules/attn_head_selector.py", "AttnHeadSelector",
      "self.head_logits", "DDP001"), attn_head_selector),
    (("mmpretrain", "mmpretrain/models/utils/norm.py", "GRN", "self.gamma", "DDP101"), grn("gamma")),
    (("mmpretrain", "mmpretrain/models/utils/norm.py", "GRN", "self.beta", "DDP101"), grn("beta")),
    (("speechbrain", "speechbrain/lobes/models/MetricGAN_U.py", "MetricDiscriminator", "self.BN", "DDP001"),
     metric_discriminator),
]


def main() -> int:
    labels = read_labels()
    failures = 0
    for key, check in CHECKS:
        torch.manual_seed(0)
        no_grad = check()
        runtime = "TRUE" if no_grad else "FALSE"
        label = labels.get(key)
        if label is None:
            # the finding may be gone after a fix: the runtime fact still holds, keep it printed
            status = "no label (finding gone)"
        else:
            status = "agrees" if label.verdict == runtime else f"DISAGREES with label {label.verdict}"
            failures += label.verdict != runtime
        print(f"{runtime:5}  {key[0]}/{key[1]} {key[2]} {key[3]}: "
              f"{'no gradient' if no_grad else 'gets a gradient'}; {status}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
