"""Public methods other than the training entry: the project's training or loss code may call them.

fairseq's criterions call ``model.get_normalized_probs(...)``; a parent module calls ``child.sample()``, which
caches a tensor on ``self`` for ``forward`` to read. The linter cannot follow which object such a call
reaches, so a public method whose name the project calls (``project_calls``) counts as a possible entry:
an attribute that it *produces a gradient-carrying value from* (returned, or stored on ``self``) is not
reported as unused. Methods ``__init__`` calls (construction helpers) and uses that only initialise or
inspect a module (their value is neither returned nor kept) do not count.

An attribute that ``__init__`` builds only under an option (``if asr_weight > 0: self.asr_decoder = ...``)
and that ``forward`` leaves alone exists for the public method that runs it (speechbrain's
``TransformerST.forward_asr``): whoever sets the option calls that method, often from training code outside
the package (a recipe), so for such an attribute every public method counts, called in the package or not.
"""
from __future__ import annotations

import ast
from typing import Callable, Dict, FrozenSet, List, Optional, Set, Tuple

from .values import NEVER, FlowResult
from .index import ClassInfo, FunctionNode, walk

_NOT_ENTRIES = {"forward", "extra_repr"}
_DECORATORS_NOT_CALLED_ON_INSTANCES = {"staticmethod", "classmethod", "property"}


def public_methods(mro: List[ClassInfo], entry: str) -> Dict[str, Tuple[ClassInfo, FunctionNode]]:
    """The most derived definition of each public method, except the entry and what ``__init__`` calls."""
    found: Dict[str, Tuple[ClassInfo, FunctionNode]] = {}
    for owner in mro:
        for name, func in owner.methods.items():
            if name not in found:
                found[name] = (owner, func)
    inits = [(owner, owner.methods["__init__"]) for owner in mro if "__init__" in owner.methods]
    construction = _called_from_init(found, inits)
    return {name: pair for name, pair in found.items()
            if not name.startswith("_") and name != entry and name not in _NOT_ENTRIES
            and name not in construction and not _decorated_away(pair[1])}


def _decorated_away(func: FunctionNode) -> bool:
    for decorator in func.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in _DECORATORS_NOT_CALLED_ON_INSTANCES or name.endswith("setter"):
            return True
    return False


def _self_calls(owner: ClassInfo, func: FunctionNode) -> FrozenSet[str]:
    """The ``self.m(...)`` calls of one method of ``owner`` (read once per method, not per subclass)."""
    return owner.fact(("other_entries.self_calls", id(func)), lambda: frozenset(
        node.func.attr for node in walk(func)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name) and node.func.value.id == "self"))


def _called_from_init(methods: Dict[str, Tuple[ClassInfo, FunctionNode]],
                      inits: List[Tuple[ClassInfo, FunctionNode]]) -> Set[str]:
    """Methods reached from any ``__init__`` of the hierarchy through ``self.m(...)`` calls (transitively)."""
    todo = [name for owner, func in inits for name in _self_calls(owner, func)]
    seen: Set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in methods:
            continue
        seen.add(name)
        todo.extend(_self_calls(*methods[name]))
    return seen


def mentions(owner: ClassInfo, func: FunctionNode, attr: str) -> bool:
    """``self.<attr>`` appears in the method (its ``self`` attributes read once per method)."""
    return attr in owner.fact(("other_entries.self_attributes", id(func)), lambda: frozenset(
        node.attr for node in walk(func)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"))


def _reaches(methods: Dict[str, Tuple[ClassInfo, FunctionNode]], name: str, attr: str, limit: int = 16) -> bool:
    """``self.<attr>`` appears in the method or in a method of the class it calls through ``self.m(...)``,
    transitively (mmpretrain's ``ITCHead.loss`` reads ``self.temp`` in ``self._get_loss(...)``)."""
    todo, seen = [name], set()
    while todo and len(seen) < limit:
        current = todo.pop()
        if current in seen or current not in methods:
            continue
        seen.add(current)
        if mentions(*methods[current], attr):
            return True
        todo.extend(sorted(_self_calls(*methods[current])))
    return False


def produces_from(flow: FlowResult, attr: str) -> bool:
    """A use of ``attr`` whose gradient-carrying value the method returns or keeps on ``self``."""
    if flow.silent:
        return True  # the method cannot be followed: what it does with the attribute is unknown
    for use in flow.uses:
        if use.attr != attr or use.no_grad or use.test_only or any(g.kind == NEVER for g in use.guards):
            continue
        if flow.result.get(use.id) is False or use.id in flow.stored:
            return True
    return False


def rescuer(mro: List[ClassInfo], entry: str, called: FrozenSet[str],
            run: Callable[[str], FlowResult], optional: FrozenSet[str] = frozenset()) -> Callable[[str], bool]:
    """attr -> whether some public method that the project calls by name (any public method, for the
    ``optional`` attributes: built only under an option) produces a gradient-carrying value from it (flows
    computed on demand, cached)."""
    methods = public_methods(mro, entry)
    flows: Dict[str, Optional[FlowResult]] = {}
    every: Dict[str, Tuple[ClassInfo, FunctionNode]] = {}
    for owner in mro:
        for name, func in owner.methods.items():
            every.setdefault(name, (owner, func))

    def rescued(attr: str) -> bool:
        for name, (owner, func) in sorted(methods.items()):
            if name not in called and attr not in optional or not _reaches(every, name, attr):
                continue
            if name not in flows:
                flows[name] = run(name)
            flow = flows[name]
            if flow is not None and produces_from(flow, attr):
                return True
        return False

    return rescued
