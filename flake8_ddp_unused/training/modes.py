"""Task or mode arguments that training code passes as literals: ``encoder("fwd", x=x1)``.

A model whose ``forward`` dispatches on a string argument (``if mode == "fwd": ... elif mode == "predict":``)
runs, for each call, only the branch its caller chose. When every call of one instance in a training step
passes a literal mode, the step runs exactly those modes: a submodule used only in the other modes gets no
gradient in any iteration (XLM's encoder, built with an output layer but only ever called in "fwd" mode).
The class's own flow is run again per call with the literal bound (the tests on it are constants) and with
the call's shape; an attribute used under the call's shape alone but not once the literal is bound is one
that only the mode switches off.
"""
from __future__ import annotations

import ast
from typing import Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

import libcst as cst

from .. import callsites
from ..flow import code_of
from ..index import ClassInfo, FunctionNode, walk
from ..summaries import InstanceFlow, _child_class, _ctor_call, _init_facts
from ..values import ALWAYS, NEVER, FlowResult, Guard, Val
from .outputs import call_shape


def literal_modes(func: FunctionNode, call: ast.Call) -> Dict[str, str]:
    """Parameters of the model's entry that the call passes as a string literal."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return {}
    found: Dict[str, str] = {}
    names = [a.arg for a in func.args.posonlyargs + func.args.args][1:] + [a.arg for a in func.args.kwonlyargs]
    for name in names:
        arg = callsites.bound_argument(func, call, name, skip_self=True)
        if arg is None and name in {a.arg for a in func.args.kwonlyargs}:
            arg = next((k.value for k in call.keywords if k.arg == name), None)
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found[name] = arg.value
    return found


class _ModeFlow(InstanceFlow):
    """The instance flow with some entry parameters bound to string literals: tests comparing them with
    strings are decided."""

    def __init__(self, info: ClassInfo, init: object, flags: Dict[str, bool],
                 call_args: Optional[Tuple[int, Tuple[str, ...]]], literals: Dict[str, str]) -> None:
        mro, complete = info.module.mro(info)
        super().__init__(info.module, info, mro, init, complete, flags, call_args)
        self.literals = literals
        self.markers: Dict[str, Val] = {}

    def _bind_params(self, params: cst.Parameters,  # type: ignore[override]
                     args: Sequence[Val], kwargs: Dict[str, Val],
                     env: Dict[str, Val], entry: bool, skip_self: bool = True) -> None:
        super()._bind_params(params, args, kwargs, env, entry, skip_self)
        if entry and not self.markers:
            for name in self.literals:
                if name in env:
                    # a value of its own: the test below knows it is still the caller's literal
                    self.markers[name] = env[name] = Val(origin=frozenset({"const", f"mode:{name}"}))

    def _classify_test(  # type: ignore[no-untyped-def,override]
            self, test: cst.BaseExpression, env: Dict[str, Val], frame) -> Tuple[Guard, ...]:
        truth = self._decided(test, env)
        if truth is not None:
            return (Guard(ALWAYS if truth else NEVER, code_of(test)),)
        return super()._classify_test(test, env, frame)

    def _decided(self, test: cst.BaseExpression, env: Dict[str, Val]) -> Optional[bool]:
        if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.left, cst.Name)):
            return None
        name = test.left.value
        if name not in self.markers or env.get(name) is not self.markers[name]:
            return None
        value = self.literals[name]
        comparison = test.comparisons[0]
        right = comparison.comparator
        if isinstance(right, cst.SimpleString):
            options: Optional[FrozenSet[object]] = frozenset({right.evaluated_value})
        elif isinstance(right, (cst.Tuple, cst.List, cst.Set)) and right.elements and all(
                isinstance(e.value, cst.SimpleString) for e in right.elements):
            options = frozenset(e.value.evaluated_value for e in right.elements)  # type: ignore[attr-defined]
        else:
            return None
        op = comparison.operator
        if isinstance(op, cst.Equal) and isinstance(right, cst.SimpleString) or isinstance(op, cst.In):
            return value in options
        if isinstance(op, cst.NotEqual) and isinstance(right, cst.SimpleString) or isinstance(op, cst.NotIn):
            return value not in options
        return None


def _used(flow: FlowResult) -> Set[str]:
    return {u.attr for u in flow.uses if not u.test_only and not any(g.kind == NEVER for g in u.guards)}


def _always_used(flow: FlowResult) -> Set[str]:
    """Attributes with a use that runs on every call (no guard left undecided)."""
    return {u.attr for u in flow.uses if not u.test_only and all(g.kind == ALWAYS for g in u.guards)}


def mode_unused(info: ClassInfo, init: object, flags: Dict[str, bool], entry: str,
                calls: Sequence[ast.Call]) -> Tuple[Set[str], Dict[str, Set[str]], Set[str]]:
    """For every call of one instance in a training step: the attributes that the literal modes switch off
    in all of them, the modes each parameter was called with, and the attributes some call uses on every
    iteration. Empty when a call passes no literal mode, or a flow stops at its limits (nothing is
    claimed then)."""
    func = next((o.methods[entry] for o in info.module.mro(info)[0] if entry in o.methods), None)
    if func is None:
        return set(), {}, set()
    without: Set[str] = set()
    with_modes: Set[str] = set()
    always: Set[str] = set()
    modes: Dict[str, Set[str]] = {}
    for call in calls:
        literals = literal_modes(func, call)
        if not literals:
            return set(), {}, set()
        shape = call_shape(call)
        plain = _ModeFlow(info, init, flags, shape, {}).run(entry)
        bound = _ModeFlow(info, init, flags, shape, literals).run(entry)
        if plain.silent or bound.silent:
            return set(), {}, set()
        without |= _used(plain)
        with_modes |= _used(bound)
        always |= _always_used(bound)
        for name, value in literals.items():
            modes.setdefault(name, set()).add(value)
    return without - with_modes, modes, always


# torch.nn layers whose parameters are known by name (a tied weight leaves the others on their own)
_LEAF_PARAMETERS = {"Linear": ("weight", "bias"), "Bilinear": ("weight", "bias"), "Conv1d": ("weight", "bias"),
                    "Conv2d": ("weight", "bias"), "Conv3d": ("weight", "bias"), "Embedding": ("weight",)}


def _tying_targets(info: ClassInfo) -> Set[Tuple[str, ...]]:
    """``self.pred_layer.proj.weight = self.embeddings.weight`` in the class's methods: the tied paths."""
    found: Set[Tuple[str, ...]] = set()
    for owner in info.module.mro(info)[0]:
        for func in owner.methods.values():
            for node in walk(func):
                if not isinstance(node, ast.Assign):
                    continue
                for target in node.targets:
                    path: List[str] = []
                    while isinstance(target, ast.Attribute):
                        path.insert(0, target.attr)
                        target = target.value
                    if isinstance(target, ast.Name) and target.id == "self" and len(path) > 1:
                        found.add(tuple(path))
    return found


def untied_parts(info: ClassInfo, name: str) -> List[Tuple[str, ...]]:
    """The parts of a shared attribute that no tying assignment touches (``pred_layer.proj.bias`` when only
    ``pred_layer.proj.weight`` is tied); empty when it is shared some other way or the parts are unknown."""
    tied = {p for p in _tying_targets(info) if p[0] == name}
    if not tied:
        return []
    out: List[Tuple[str, ...]] = []

    def expand(cls: ClassInfo, path: Tuple[str, ...], depth: int) -> bool:
        """Adds the untied parts under ``path`` (an attribute of ``cls``); False when they are unknown."""
        if depth > 3:
            return False
        attr = _init_facts(cls).attrs.get(path[-1])
        if attr is None:
            return False
        owner = next((c for c in cls.module.mro(cls)[0] if c.name == attr.owner), cls)
        call = _ctor_call(owner, attr)
        if call is None:
            return False
        leaf = attr.built.ctor.rsplit(".", 1)[-1]
        if attr.built.kind == "layer" and leaf in _LEAF_PARAMETERS:
            names = list(_LEAF_PARAMETERS[leaf])
            bias = next((k.value for k in call.keywords if k.arg == "bias"), None)
            if isinstance(bias, ast.Constant) and bias.value is False:
                names.remove("bias")
            out.extend(path + (n,) for n in names if path + (n,) not in tied)
            return True
        child = _child_class(owner.module, call)
        if child is None:
            return False
        for sub in _init_facts(child).attrs:
            here = path + (sub,)
            if here in tied:
                continue
            if any(t[:len(here)] == here for t in tied):
                if not expand(child, here, depth + 1):
                    return False
            else:
                out.append(here)
        return True

    return out if expand(info, (name,), 0) else []
