"""Helpers shared by the runtime tests: load a fixture by path, run its step, map findings to parameters."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Dict, Iterable, List, Optional, Set

import torch
from torch import nn

from flake8_ddp_unused.lint import analyze_source

Step = Callable[[nn.Module, Any], torch.Tensor]
MODEL_CODE_PREFIXES = ("DDP0", "DDP1", "DDP9")
_ITEM_PATH = re.compile(r"self\.\w+\[(?P<index>-?\d+)\]\.(?P<path>[\w.]+)$")


def load_fixture(path: Path) -> ModuleType:
    """Import a fixture file under a unique name (fixtures are not a package)."""
    spec = importlib.util.spec_from_file_location(f"ddp_fixture_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def has_ground_truth(path: Path) -> bool:
    """Fixtures opt out with a module-level ``GROUND_TRUTH = False`` (they cannot be imported)."""
    text = path.read_text(encoding="utf-8")
    return "def build(" in text and "GROUND_TRUTH = False" not in text


def registered(model: nn.Module) -> Set[str]:
    """The parameters DDP registers when it wraps the model: those requiring a gradient then, before the
    training loop's `model.train()` (which a `train()` override may use to freeze some: DDP103)."""
    return {n for n, p in model.named_parameters() if p.requires_grad}


def runtime_culprits(spec: Dict[str, Any]) -> Set[str]:
    """Registered parameters left without gradient in at least one batch (DESIGN.md §1)."""
    model: nn.Module = spec["model"]
    step: Step = spec["step"]
    waited_for = registered(model)
    model.train()
    missing: Set[str] = set()
    for batch in spec["batches"]:
        model.zero_grad(set_to_none=True)
        step(model, batch).backward()
        missing |= {n for n, p in model.named_parameters() if n in waited_for and p.grad is None}
    return missing


def _classes(module: nn.Module) -> Iterable[str]:
    return (klass.__name__ for klass in type(module).__mro__)


def _element_prefixes(container: nn.Module, prefix: str, elements: Iterable[object]) -> List[str]:
    out = []
    for element in elements:
        if isinstance(element, int) and element < 0:
            element = len(container) + element  # type: ignore[arg-type]
        out.append(f"{prefix}.{element}")
    return out


def expected_culprits(path: Path, model: nn.Module, params: Optional[Set[str]] = None) -> Set[str]:
    """Parameter names of the analyser's model findings, as the runtime names them, among ``params`` (the
    registered parameters; by default those requiring a gradient now)."""
    findings = analyze_source(path.read_text(encoding="utf-8"), str(path))
    if params is None:
        params = registered(model)
    expected: Set[str] = set()
    for finding in findings:
        if not finding.code.startswith(MODEL_CODE_PREFIXES):
            continue
        for name, sub in model.named_modules():
            if finding.cls not in set(_classes(sub)):
                continue
            path = finding.attr_name
            if finding.attr.startswith("self.") and not set("[, ") & set(finding.attr):
                path = finding.attr[len("self."):]  # a child's parameters: self.bert.pooler
            attr = f"{name}.{path}" if name else path
            prefixes = [attr]
            item = _ITEM_PATH.match(finding.attr)
            if item:  # self.blocks[-1].txt_mlp: a path inside one item of a container
                container = model.get_submodule(attr)
                position = int(item["index"]) % len(container)  # type: ignore[arg-type]
                prefixes = [f"{attr}.{position}.{item['path']}"]
            elif finding.elements:
                prefixes = _element_prefixes(model.get_submodule(attr), attr, finding.elements)
            expected |= {p for p in params if any(p == x or p.startswith(x + ".") for x in prefixes)}
    return expected


def qualified_known_silent(module: ModuleType, model: nn.Module, params: Optional[Set[str]] = None) -> Set[str]:
    """Parameters named by ``KNOWN_SILENT = {"Class.attr"}``: culprits the linter deliberately leaves alone."""
    names: Set[str] = set(getattr(module, "KNOWN_SILENT", set()))
    params = registered(model) if params is None else params
    out: Set[str] = set()
    for entry in names:
        cls, attr = entry.split(".", 1)
        for name, sub in model.named_modules():
            if cls in set(_classes(sub)):
                full = f"{name}.{attr}" if name else attr
                out |= {p for p in params if p == full or p.startswith(full + ".")}
    return out
