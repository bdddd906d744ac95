"""A test evaluated where literal defaults decide it: one evaluator for every reader of defaults.

Several facts ask the same question: does ``num_classes > 0`` / ``self.frozen_stages >= 0`` /
``len(self.stat_exog_list)`` / ``self.config.x == "absolute"`` hold when the constructor's arguments (or a
configuration's fields) keep their literal defaults? Each caller builds a binding of the names and attribute
chains it knows (``"flag"``, ``"self.x"``, ``"config.x"``) to literal values; this module evaluates an ``ast``
expression over it with Python's own semantics, or answers unknown.

What is understood: constants; bound names and attribute chains; ``not``, unary ``-``/``+``; ``and``/``or``
(short-circuiting as Python does: ``a or b`` with ``a`` true is ``a`` whatever ``b`` is); comparisons, chained
too (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``in``, ``not in``, ``is``/``is not``); ``x if c else y``;
list, tuple and set displays; ``+``/``-`` on numbers; ``len``, ``bool``, ``list``, ``tuple`` of one value.
``is`` is decided only against ``None``, ``True``, ``False`` or ``...``: the identity of two equal numbers or
strings depends on the interpreter. Anything else (an unbound name, a call, an operation Python would reject)
is unknown, and callers stay silent as before.
"""
from __future__ import annotations

import ast
import operator
from typing import Callable, Dict, Mapping, Optional, Set

from .index import FunctionNode, dotted_name


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: object = _Unknown()  # not decided by the binding
Binding = Mapping[str, object]  # "flag" / "self.x" / "config.x" -> its literal value

OPERATORS: Dict[type, str] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}

_COMPARISONS: Dict[str, Callable[[object, object], object]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
    ">=": operator.ge, "in": lambda a, b: operator.contains(b, a),  # type: ignore[arg-type]
    "not in": lambda a, b: not operator.contains(b, a)}  # type: ignore[arg-type]

PURE_CALLS: Dict[str, Callable[..., object]] = {"len": len, "bool": bool, "list": list, "tuple": tuple}


def parameter_defaults(func: FunctionNode) -> Dict[str, ast.expr]:
    """The parameters of ``func`` that have a default, and the default's expression as written."""
    args = func.args
    positional = list(args.posonlyargs) + list(args.args)
    found = {a.arg: d for a, d in zip(positional[len(positional) - len(args.defaults):], args.defaults)}
    found.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
    return found


def literal(node: "ast.AST | str | None") -> object:
    """The value of a literal expression, or of its source text (``-1``, ``(2, 2)``, ``None``); else UNKNOWN."""
    if node is None:
        return UNKNOWN
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return UNKNOWN


def truth(value: object) -> Optional[bool]:
    """``bool(value)``; None for UNKNOWN."""
    if value is UNKNOWN:
        return None
    try:
        return bool(value)
    except Exception:  # noqa: BLE001 - a value whose truth Python cannot tell: unknown
        return None


def compare(op: str, left: object, right: object) -> Optional[bool]:
    """``left <op> right`` for two known values (op as written: ``"not in"``); None when undecided."""
    if left is UNKNOWN or right is UNKNOWN:
        return None
    if op in ("is", "is not"):
        if not (_singleton(left) or _singleton(right)):
            return None
        return (left is right) == (op == "is")
    func = _COMPARISONS.get(op)
    if func is None:
        return None
    try:
        return bool(func(left, right))
    except (TypeError, ValueError):  # `None < 1`, `1 in None`: Python raises, so nothing is decided
        return None


def value_of(node: ast.expr, binding: Binding, reads: Optional[Set[str]] = None) -> object:
    """The value of ``node`` when every name and attribute chain in ``binding`` holds its value; UNKNOWN
    otherwise. ``reads`` collects the keys of ``binding`` the evaluation used (what decided it)."""
    try:
        return _Evaluator(binding, reads if reads is not None else set()).value(node)
    except RecursionError:
        return UNKNOWN


def truth_of(node: ast.expr, binding: Binding, reads: Optional[Set[str]] = None) -> Optional[bool]:
    """Whether a test holds under ``binding``; None when unknown."""
    return truth(value_of(node, binding, reads))


def _singleton(value: object) -> bool:
    return value is None or value is True or value is False or value is Ellipsis


def _number(value: object) -> bool:
    return isinstance(value, (int, float))


class _Evaluator:
    def __init__(self, binding: Binding, reads: Set[str]) -> None:
        self.binding = binding
        self.reads = reads

    def value(self, node: ast.expr) -> object:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, (ast.Name, ast.Attribute)):
            key = dotted_name(node)
            if key is None or key not in self.binding:
                return UNKNOWN
            self.reads.add(key)
            return self.binding[key]
        if isinstance(node, ast.UnaryOp):
            return self._unary(node)
        if isinstance(node, ast.BoolOp):
            return self._bool_op(node)
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.IfExp):
            chosen = truth(self.value(node.test))
            if chosen is None:
                return UNKNOWN
            return self.value(node.body if chosen else node.orelse)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return self._display(node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            left, right = self.value(node.left), self.value(node.right)
            if not (_number(left) and _number(right)):
                return UNKNOWN
            return left + right if isinstance(node.op, ast.Add) else left - right  # type: ignore[operator]
        if isinstance(node, ast.Call):
            return self._call(node)
        return UNKNOWN

    def _unary(self, node: ast.UnaryOp) -> object:
        operand = self.value(node.operand)
        if isinstance(node.op, ast.Not):
            held = truth(operand)
            return UNKNOWN if held is None else not held
        if isinstance(node.op, (ast.USub, ast.UAdd)) and _number(operand):
            return -operand if isinstance(node.op, ast.USub) else +operand  # type: ignore[operator]
        return UNKNOWN

    def _bool_op(self, node: ast.BoolOp) -> object:
        result: object = UNKNOWN
        for part in node.values:
            result = self.value(part)
            held = truth(result)
            if held is None:
                return UNKNOWN
            if held != isinstance(node.op, ast.And):
                return result  # `a or b` with a true, `a and b` with a false: b never runs
        return result

    def _compare(self, node: ast.Compare) -> object:
        left = self.value(node.left)
        for op, comparator in zip(node.ops, node.comparators):
            right = self.value(comparator)
            held = compare(OPERATORS.get(type(op), ""), left, right)
            if held is None:
                return UNKNOWN
            if not held:
                return False  # `a < b < c` with a >= b: c never runs
            left = right
        return True

    def _display(self, node: "ast.List | ast.Tuple | ast.Set") -> object:
        items = []
        for element in node.elts:
            if isinstance(element, ast.Starred):
                return UNKNOWN
            item = self.value(element)
            if item is UNKNOWN:
                return UNKNOWN
            items.append(item)
        if isinstance(node, ast.List):
            return items
        if isinstance(node, ast.Tuple):
            return tuple(items)
        try:
            return set(items)
        except TypeError:  # an unhashable item: Python raises
            return UNKNOWN

    def _call(self, node: ast.Call) -> object:
        func = node.func
        if not (isinstance(func, ast.Name) and func.id in PURE_CALLS and func.id not in self.binding) or (
                node.keywords or len(node.args) > 1 or any(isinstance(a, ast.Starred) for a in node.args)):
            return UNKNOWN
        args = []
        if node.args:
            arg = self.value(node.args[0])
            if arg is UNKNOWN:
                return UNKNOWN
            args.append(arg)
        try:
            return PURE_CALLS[func.id](*args)
        except Exception:  # noqa: BLE001 - `len(5)`, `len()`: Python raises, so unknown
            return UNKNOWN
