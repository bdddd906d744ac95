"""Generated programs: the analyser never raises and always says the same thing about the same code.

Two sources of programs: hypothesmith (any valid Python, which rarely holds an ``nn.Module``), and our
own grammar of realistic module classes (layers, containers, flags, guards, ``no_grad``, helpers,
``super()``, ``getattr``, tuple/dict returns, ...). Example counts are bounded for CI; raise them with
``HYPOTHESIS_PROFILE=long`` (e.g. ``HYPOTHESIS_PROFILE=long python -m pytest tests/test_hypothesis_programs.py``).
"""
from __future__ import annotations

import ast
import os
from typing import Callable, List, Sequence, Tuple

import hypothesmith
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flake8_ddp_unused import project
from flake8_ddp_unused.lint import analyze_tree

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
SETTINGS = dict(deadline=None, derandomize=not LONG, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large])


def analyse(source: str) -> List[Tuple[int, int, str]]:
    """Findings as flake8 would print them; exceptions propagate (that is what is under test)."""
    tree = ast.parse(source)
    findings = analyze_tree(tree, source.splitlines(keepends=True), "generated.py")
    return [(f.line, f.col, f.text) for f in findings]


def check(source: str) -> None:
    first = analyse(source)
    project.clear_cache()
    assert analyse(source) == first, "same source, different findings"
    line_count = max(1, len(source.splitlines()))
    assert all(1 <= line <= line_count and col >= 0 for line, col, _ in first), first


# ---- hypothesmith: arbitrary valid Python ---------------------------------------------------------
@settings(max_examples=200 if LONG else 15, **SETTINGS)  # type: ignore[arg-type]
@given(hypothesmith.from_grammar())
def test_arbitrary_python_never_raises(source: str) -> None:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return  # flake8 reports E999 and never calls the plugin
    check(source)


@settings(max_examples=100 if LONG else 5, **SETTINGS)  # type: ignore[arg-type]
@given(hypothesmith.from_node())
def test_arbitrary_statements_never_raise(source: str) -> None:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    check(source)


# ---- our grammar of module classes --------------------------------------------------------------
KINDS = ("linear", "list", "dict", "param", "seq", "act", "sub", "maybe", "factory", "frozen", "none")
CTORS = {
    "linear": "nn.Linear(4, 4)",
    "list": "nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])",
    "dict": 'nn.ModuleDict({"a": nn.Linear(4, 4), "b": nn.Linear(4, 4)})',
    "param": "nn.Parameter(torch.zeros(4))",
    "seq": "nn.Sequential(nn.Linear(4, 4), nn.ReLU())",
    "act": "nn.ReLU()",
    "sub": "Sub()",
    "maybe": "nn.Linear(4, 4) if use_aux else None",
    "factory": "build_layer(4)",
    "frozen": "nn.Linear(4, 4).requires_grad_(False)",
    "none": "None",
}
GUARDS = (
    "self.training", "not self.training", "self.use_aux", "not self.use_aux", "h.sum() > 0", "mask.any()",
    "random.random() < 0.5", "torch.rand(1).item() < self.drop", "labels is not None", "labels is None",
    'task == "a"', "torch.jit.is_scripting()", "isinstance(h, tuple)", "h.dim() == 2", "self.cfg.flag",
    "self.training and random.random() < 0.1", "self.aux is not None", "hasattr(self, 'aux')",
    "torch.distributed.get_rank() == 0", "i > 0",
)
BASES = ("nn.Module", "Base", "pl.LightningModule", "mylib.Unknown", "nn.Module, Mixin", "torch.nn.Module")


def use(attr: str, kind: str, draw: Callable) -> str:  # type: ignore[type-arg]
    """One statement that reads ``self.<attr>`` the way real code reads that kind of attribute."""
    if kind == "param":
        return draw(st.sampled_from([f"h = h * self.{attr}", f"h = h + self.{attr}.sum()",
                                     f"h = torch.matmul(h, self.{attr}.unsqueeze(-1)).squeeze(-1)"]))
    if kind == "list":
        return draw(st.sampled_from([
            f"for m in self.{attr}:\n    h = m(h)",
            f"for i, m in enumerate(self.{attr}):\n    if i > 0:\n        h = m(h)",
            f"h = self.{attr}[0](h)", f"h = self.{attr}[-1](h)",
            f"for m in self.{attr}[:-1]:\n    h = m(h)",
            f"h = sum(m(h) for m in self.{attr})",
            f"outs = [m(h) for m in self.{attr}]\nh = torch.stack(outs).sum(0)",
        ]))
    if kind == "dict":
        return draw(st.sampled_from([
            f'h = self.{attr}["a"](h)', f"h = self.{attr}[task](h)",
            f"for name, m in self.{attr}.items():\n    h = m(h)",
            f"h = self.{attr}[task](h) if task in self.{attr} else h",
        ]))
    return draw(st.sampled_from([
        f"h = self.{attr}(h)", f"h = h + self.{attr}(h)", f"aux = self.{attr}(h)",
        f"aux = self.{attr}(h).detach()", f"h = getattr(self, '{attr}')(h)",
        f"outs.append(self.{attr}(h))", f"h = checkpoint(self.{attr}, h)",
        f"f = lambda t: self.{attr}(t)\nh = f(h)", f"h = self._helper(self.{attr}, h)",
        f"if self.{attr} is not None:\n    h = self.{attr}(h)", f"h, aux = self.{attr}(h), h",
        f"h = F.linear(h, self.{attr}.weight)", f"self.cache = self.{attr}(h)",
    ]))


@st.composite
def block(draw: Callable, attrs: Sequence[Tuple[str, str]], depth: int,  # type: ignore[type-arg]
          in_loop: bool = False) -> List[str]:
    lines: List[str] = []
    for _ in range(draw(st.integers(1, 4))):
        choice = draw(st.integers(0, 9 if depth > 0 else 5))
        if choice <= 3 and attrs:
            attr, kind = draw(st.sampled_from(list(attrs)))
            lines += use(attr, kind, draw).split("\n")
        elif choice == 4:
            lines.append(draw(st.sampled_from([
                "h = F.relu(h)", "pass", "h = h.view(h.size(0), -1)", "assert h is not None",
                "h = self.helper(h)", "h = super().forward(h)", "del aux", "h = torch.cat([h, h], -1)[..., :4]",
                "return h", "return h, aux", 'return {"loss": h.sum(), "aux": aux}', "raise ValueError(task)",
            ])))
        elif choice == 5:
            jumps = ["continue", "break"] if in_loop else []
            lines.append(draw(st.sampled_from(jumps + ["h = h.detach()", "h = h.clone()"])))
        elif choice in (6, 7):
            guard = draw(st.sampled_from(GUARDS))
            body = draw(block(attrs, depth - 1, in_loop))
            lines.append(f"if {guard}:")
            lines += ["    " + line for line in body]
            if draw(st.booleans()):
                lines.append("else:")
                lines += ["    " + line for line in draw(block(attrs, depth - 1, in_loop))]
        elif choice == 8:
            header = draw(st.sampled_from(["with torch.no_grad():", "with torch.inference_mode():",
                                           "with torch.autocast('cpu'):", "for _ in range(2):",
                                           "while h.sum() > 0:", "try:"]))
            lines.append(header)
            loop = header.startswith(("for", "while")) or (in_loop and not header.startswith("with"))
            lines += ["    " + line for line in draw(block(attrs, depth - 1, loop or in_loop))]
            if header == "try:":
                lines += ["except Exception:", "    h = h"]
        else:
            lines.append("def inner(t):")
            lines += ["    " + line for line in draw(block(attrs, depth - 1))] + ["    return t"]
            lines.append("h = inner(h)")
    return lines


@st.composite
def module_program(draw: Callable) -> str:  # type: ignore[type-arg]
    names = draw(st.lists(st.sampled_from(["enc", "head", "aux", "layers", "heads", "scale", "proj", "norm",
                                           "pool", "teacher"]), min_size=1, max_size=6, unique=True))
    attrs = [(name, draw(st.sampled_from(KINDS))) for name in names]
    base = draw(st.sampled_from(BASES))
    entry = "training_step" if base.startswith("pl.") and draw(st.booleans()) else draw(
        st.sampled_from(["forward", "forward", "train_step"]))
    init = ["def __init__(self, use_aux=False, drop=0.1):", "    super().__init__()",
            "    self.use_aux = use_aux", "    self.drop = drop"]
    init += [f"    self.{name} = {CTORS[kind]}" for name, kind in attrs]
    if draw(st.booleans()):
        frozen = draw(st.sampled_from(names))
        init += [f"    for p in self.{frozen}.parameters():", "        p.requires_grad = False"]
    params = draw(st.sampled_from(["self, h", "self, h, labels=None", "self, h, task='a', mask=None",
                                   "self, batch, batch_idx"]))
    prologue = ["h = batch[0]"] if "batch" in params else []
    body = prologue + ["outs = []", "aux = h"] + draw(block(attrs, 3)) + [draw(st.sampled_from([
        "return h", "return h, aux", 'return {"loss": h.sum(), "aux": aux}', "return h + sum(outs)",
        "return self.head(h) if hasattr(self, 'head') else h"]))]
    helpers = ["def _helper(self, m, t):", "    return m(t)", "def helper(self, t):"]
    helpers += ["    " + line for line in draw(block(attrs, 1))] + ["    return t"]
    prop = ["@property", "def out_dim(self):", "    return 4"]
    cls = [f"class Net({base}):"] + ["    " + line for line in init + [f"def {entry}({params}):"]]
    cls += ["        " + line for line in body]
    cls += ["    " + line for line in helpers + prop]
    prelude = [
        "import random", "import torch", "import torch.nn as nn", "import torch.nn.functional as F",
        "import lightning.pytorch as pl", "import mylib", "from torch.utils.checkpoint import checkpoint",
        "from mylib import build_layer", "", "class Mixin:", "    pass", "",
        "class Sub(nn.Module):", "    def __init__(self):", "        super().__init__()",
        "        self.w = nn.Linear(4, 4)", "    def forward(self, x):", "        return self.w(x)", "",
        "class Base(nn.Module):", "    def __init__(self, *args, **kwargs):", "        super().__init__()",
        "        self.base_fc = nn.Linear(4, 4)", "    def forward(self, h):", "        return self.base_fc(h)", "",
    ]
    launch = draw(st.sampled_from([
        [], ["model = torch.nn.parallel.DistributedDataParallel(Net())"],
        ["model = torch.nn.parallel.DistributedDataParallel(Net(use_aux=True), find_unused_parameters=False)"],
    ]))
    return "\n".join(prelude + cls + [""] + launch) + "\n"


@settings(max_examples=400 if LONG else 40, **SETTINGS)  # type: ignore[arg-type]
@given(module_program())
def test_generated_module_classes_never_raise_and_are_deterministic(source: str) -> None:
    try:
        compile(source, "generated.py", "exec")
    except SyntaxError:
        return  # e.g. `continue` outside a loop: Python itself rejects it
    check(source)
