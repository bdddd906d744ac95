"""The instance state ``__init__`` leaves behind, where it decides a test of ``forward``.

A wrapper that trains a copy of the module it is given (peft's ``ModulesToSaveWrapper``) keeps the original,
puts a deep copy into a module container under a key, and stores the same key as the active one; ``forward``
runs the original only when ``self.active not in self.copies``. Nothing in that test is data: after
``__init__`` the key is in the container, so the original never runs (and gets no gradient).

Two facts are collected while ``InitCollector`` walks ``__init__`` and the methods it calls, both keyed by a
*token* naming one argument value (the parameter of the function that received it, followed through
``self.method(name)`` calls):

- ``held``: ``self.x = name`` stores the argument itself (assigned once, in that walk only);
- ``keys``: ``nn.ModuleDict({name: ...})``, ``self.c.update(...)``, ``self.c[name] = ...`` put the argument
  in as a key of the container ``self.c``.

An argument is a module when the class deep-copies it into a module container (``nn.ModuleDict`` values
must be modules); its parameters are then trainable state of the wrapper unless frozen, as torch leaves them.
Whatever any other method of the class writes (``self.x = ...``, ``self.c.pop(...)``) is not decided.
"""
from __future__ import annotations

import ast
from typing import Dict, FrozenSet, Iterator, List, Optional, Set, Tuple

from .index import walk

# container methods that change which keys it holds
_MUTATORS = {"update", "pop", "popitem", "clear", "setdefault", "__setitem__", "__delitem__", "add_module",
             "register_module", "append", "extend", "insert"}


def written_attributes(func: ast.AST, in_place_only: bool = False) -> FrozenSet[str]:
    """`self.<name>` written in one function: assigned, stored into, deleted from, or mutated ("*" for
    `setattr`/`delattr`). With ``in_place_only``, a plain `self.<name> = value` does not count: what is left
    changes the object `self.<name>` holds (`self.names.append(n)`, `self.names += [n]`, `self.d[k] = v`)."""
    written: Set[str] = set()
    for node in walk(func):
        targets: list = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
            if in_place_only:
                targets = [t for t in targets if not (isinstance(t, ast.Attribute) and isinstance(
                    t.value, ast.Name) and t.value.id == "self")]
        elif isinstance(node, ast.AnnAssign) and in_place_only:
            targets = []
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = list(node.targets)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                node.func.attr in _MUTATORS):
            targets = [node.func.value]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
                "setattr", "delattr"):
            written.add("*")
        for target in targets:
            root = _self_root(target)
            if root:
                written.add(root)
    return frozenset(written)


def in_place_writes(func: ast.AST, name: str) -> List[ast.AST]:
    """The nodes of one function that change the object ``self.<name>`` holds in place (the calls of its
    mutators, augmented assignments, stores into it, deletions), as ``written_attributes(in_place_only=True)``
    counts them."""
    return [node for node, roots in _in_place(func) if name in roots]


def in_place_changed(func: ast.AST) -> FrozenSet[str]:
    """Every ``<name>`` of which ``in_place_writes(func, name)`` finds a node."""
    return frozenset(root for _, roots in _in_place(func) for root in roots)


def _in_place(func: ast.AST) -> Iterator[Tuple[ast.AST, Set[str]]]:
    for node in walk(func):
        targets: list = []
        if isinstance(node, ast.Assign):
            targets = [t for t in node.targets if not (isinstance(t, ast.Attribute) and isinstance(
                t.value, ast.Name) and t.value.id == "self")]
        elif isinstance(node, ast.AugAssign):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = list(node.targets)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _MUTATORS:
            targets = [node.func.value]
        roots = {_self_root(t) for t in targets} - {""}
        if roots:
            yield node, roots


def _self_root(node: ast.expr) -> str:
    """`x` for `self.x`, `self.x[k]`, `self.x.y`."""
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            return node.attr
        node = node.value
    return ""


def dict_keys(node: ast.expr) -> Optional[list]:
    """The key expressions of `{k: v}` or `nn.ModuleDict({k: v})` / `dict(...)` around one."""
    if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
        node = node.args[0]
    if isinstance(node, ast.Dict) and all(k is not None for k in node.keys):
        return list(node.keys)
    return None


def membership(held: Dict[str, str], keys: Dict[str, FrozenSet[str]], member: str, container: str) -> Optional[bool]:
    """`self.<member> in self.<container>` as ``__init__`` leaves them: True when the member holds an argument
    that ``__init__`` also put into the container as a key; None when that is not known."""
    token = held.get(member)
    if token is None or container not in keys:
        return None
    return True if token in keys[container] else None
