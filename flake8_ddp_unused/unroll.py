"""Bounded unrolling of loops over literal values, for attribute names built from them.

Backbones register one layer per stage under a computed name and fetch it the same way::

    self.out_indices = [0, 2, 4, 6]
    for i_emb, i_layer in enumerate(self.out_indices):
        self.add_module(f"norm{i_layer}", norm_layer(dims[i_emb]))
    ...
    norm_layer = getattr(self, f"norm{idx}")

When the loop runs over a literal (a list or tuple of ints and strings, ``range`` of literal ints,
``enumerate`` of either, a ``self.<attr>`` that ``__init__`` sets to such a literal) of at most
``MAX_UNROLL`` values, each name is known: ``norm0``, ``norm2``, ... Anything else (a bound from an
argument, a longer loop, a formatted value with a format spec) stays unknown, and the caller stays silent
as before. Pure functions of ``ast`` nodes; the flow interpreter reads libcst code through ``parse_expr``.
"""
from __future__ import annotations

import ast
from typing import Dict, List, Mapping, Optional

MAX_UNROLL = 16
UNKNOWN = ...  # not a literal value


def parse_expr(text: str) -> Optional[ast.expr]:
    """The ``ast`` of one expression's source text, or None."""
    try:
        return ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _simple(value: object) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def const_of(node: ast.expr, consts: Mapping[str, object]) -> object:
    """The int or string an expression surely holds, given the names bound to constants; else UNKNOWN."""
    if isinstance(node, ast.Constant):
        return node.value if _simple(node.value) else UNKNOWN
    if isinstance(node, ast.Name):
        value = consts.get(node.id, UNKNOWN)
        return value if _simple(value) else UNKNOWN
    if isinstance(node, ast.JoinedStr):  # f"norm{i}"
        out = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                out.append(part.value)
                continue
            if not isinstance(part, ast.FormattedValue) or part.conversion not in (-1, ord("s")) or (
                    part.format_spec is not None):
                return UNKNOWN
            value = const_of(part.value, consts)
            if value is UNKNOWN:
                return UNKNOWN
            out.append(str(value))
        return "".join(out)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str" and (
            len(node.args) == 1 and not node.keywords):
        value = const_of(node.args[0], consts)
        return UNKNOWN if value is UNKNOWN else str(value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
        left, right = const_of(node.left, consts), const_of(node.right, consts)
        if isinstance(left, str) and isinstance(right, str) and isinstance(node.op, ast.Add):
            return left + right
        if isinstance(left, int) and isinstance(right, int) and abs(left) < 2 ** 31 and abs(right) < 2 ** 31:
            return left + right if isinstance(node.op, ast.Add) else left - right if isinstance(
                node.op, ast.Sub) else left * right
    return UNKNOWN


def literal_tuple(node: ast.expr, consts: Mapping[str, object]) -> Optional[tuple]:
    """A list or tuple literal of at most MAX_UNROLL ints and strings (``[0, 2, 4, 6]``), else None."""
    if not isinstance(node, (ast.List, ast.Tuple)) or len(node.elts) > MAX_UNROLL:
        return None
    values = [const_of(elt, consts) for elt in node.elts]
    return None if any(v is UNKNOWN for v in values) else tuple(values)


def literal_items(node: ast.expr, consts: Mapping[str, object],
                  self_literals: Mapping[str, tuple]) -> Optional[List[object]]:
    """The values a ``for`` loop over ``node`` takes, when they are literal and at most MAX_UNROLL."""
    found = literal_tuple(node, consts)
    if found is not None:
        return list(found)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        held = self_literals.get(node.attr)
        return list(held) if held is not None else None
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords):
        return None
    if node.func.id == "range" and 1 <= len(node.args) <= 3:
        bounds = [const_of(arg, consts) for arg in node.args]
        if not all(isinstance(b, int) for b in bounds) or bounds[-1] == 0 and len(bounds) == 3:
            return None
        span = range(*bounds)  # type: ignore[arg-type]
        return list(span) if len(span) <= MAX_UNROLL else None
    if node.func.id == "enumerate" and len(node.args) == 1:
        inner = literal_items(node.args[0], consts, self_literals)
        return None if inner is None else [(i, v) for i, v in enumerate(inner)]
    return None


def bind(target: ast.expr, value: object) -> Optional[Dict[str, object]]:
    """The names a loop target binds to one value (``i_emb, i_layer`` to ``(0, 0)``), or None."""
    if isinstance(target, ast.Name):
        return {target.id: value}
    if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, tuple) and len(value) == len(target.elts):
        out: Dict[str, object] = {}
        for elt, part in zip(target.elts, value):
            bound = bind(elt, part)
            if bound is None:
                return None
            out.update(bound)
        return out
    return None
