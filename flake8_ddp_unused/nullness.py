"""When a module's method returns ``None``, as a function of the arguments its caller passes.

neuralforecast's ``TFTEmbedding.forward(target_inp, stat_exog=None, ...)`` returns ``s_inp, k_inp, ...`` where
``s_inp`` is what a helper (``self._apply_embedding(cont=stat_exog, ...)``) returns: ``None`` when ``cont is None``
(an early ``return None``), a tensor otherwise. The parent's ``if s_inp is not None: self.static_encoder(s_inp)``
is then a test on what the parent passed as ``stat_exog``: a link this module finds, so that the interpreter
(``flow.py``) can judge the parent's test like ``if stat_exog is not None`` written in the parent itself.

A part of what the method returns (a tuple item by position, or the whole value) is *linked* to a parameter when
it is ``None`` whenever the parameter is ``None`` and surely not ``None`` whenever the parameter is given: both
directions, so the parent's test is exactly the test on its argument. Found by reading the method's ``ast`` twice
per candidate parameter (assumed ``None``, assumed given), following ``self.`` helper methods with the arguments
bound; tests on the assumed value are decided, other branches are joined. Anything not understood (loops that
return, ``*args`` calls, unknown calls, a return of mixed shapes) is "unknown" and breaks the link: the parent's
test stays as undecided as before. Bounded: a step budget per class and method, helper depth 3; memoised on the
class (its own code and its MRO only).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

from .index import ClassInfo, FunctionNode, walk

NONE, SET, UNK = "none", "set", "unk"  # surely None / surely not None / unknown
_MAX_STEPS = 3000  # statements and expressions read per (class, method), over every run
_MAX_DEPTH = 3  # helper methods followed
_MAX_PARAMS = 12
# Tensor methods that return a tensor (never None) when called on one.
_TENSOR_METHODS = {"unsqueeze", "squeeze", "view", "reshape", "permute", "transpose", "contiguous", "float", "half",
                   "double", "to", "clone", "expand", "expand_as", "repeat", "flatten", "matmul", "mul", "add", "sub",
                   "div", "sum", "mean", "exp", "log", "sigmoid", "tanh", "relu", "softmax", "masked_fill",
                   "type_as", "view_as", "reshape_as", "narrow", "t", "abs", "pow", "sqrt", "cumsum", "cat"}

Returned = Union[str, Tuple[str, ...]]  # one value, or the items of a returned tuple


@dataclass(frozen=True)
class NoneLinks:
    """What a method returns is None exactly when the caller passes None (or nothing, if the default is None)
    for a parameter: ``parts`` maps a part (a tuple position; None: the whole value) to that parameter."""

    params: Tuple[str, ...]  # the method's parameters after self, in order (positional binding)
    parts: Tuple[Tuple[Optional[int], str], ...]
    length: Optional[int]  # the returned tuple's length, None when one value is returned
    never: Tuple[Optional[int], ...] = ()  # parts never None, whatever is passed


class _GiveUp(Exception):
    pass


def none_links(info: ClassInfo, mro: Sequence[ClassInfo], method: str = "forward") -> Optional[NoneLinks]:
    """The parts of ``method``'s result that are None exactly when a parameter is None, or None (no link)."""
    return info.fact(("nullness", method), lambda: _links(info, mro, method))  # type: ignore[no-any-return]


def _links(info: ClassInfo, mro: Sequence[ClassInfo], method: str) -> Optional[NoneLinks]:
    func = next((c.methods[method] for c in mro if method in c.methods), None)
    if func is None or not _mentions_none(func, {name for c in mro for name in c.methods}):
        return None
    args = func.args
    positional = [a.arg for a in args.posonlyargs + args.args][1:]
    candidates = [name for name in positional + [a.arg for a in args.kwonlyargs]][:_MAX_PARAMS]
    reader = _Reader(mro)
    links: List[Tuple[Optional[int], str]] = []
    length: Optional[int] = None
    never: List[Optional[int]] = []
    try:
        anything = reader.result(func, {})
        if isinstance(anything, tuple):
            length = len(anything)
            never = [i for i, value in enumerate(anything) if value == SET]
        elif anything == SET:
            never = [None]
        for param in candidates:
            absent = reader.result(func, {param: NONE})
            given = reader.result(func, {param: SET})
            if absent is None or given is None or type(absent) is not type(given):
                continue
            if isinstance(absent, tuple) and isinstance(given, tuple):
                if len(absent) != len(given):
                    continue
                for i, (a, g) in enumerate(zip(absent, given)):
                    if a == NONE and g == SET:
                        links.append((i, param))
                        length = len(absent)
            elif absent == NONE and given == SET and length is None:
                links.append((None, param))
    except _GiveUp:
        return None
    if not links and not never:
        return None
    return NoneLinks(tuple(positional), tuple(links), length, tuple(never))


def _mentions_none(func: FunctionNode, methods: Set[str]) -> bool:
    """A cheap look: no ``None`` in the method, no call of a helper method: nothing it returns is None by a test."""
    return any(isinstance(node, ast.Constant) and node.value is None or isinstance(node, ast.Call) and isinstance(
        node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) and node.func.value.id == "self"
        and node.func.attr in methods for node in walk(func))


class _Reader:
    def __init__(self, mro: Sequence[ClassInfo]) -> None:
        self.mro = mro
        self.steps = 0

    def _step(self) -> None:
        self.steps += 1
        if self.steps > _MAX_STEPS:
            raise _GiveUp

    # ---- a whole method ----
    def result(self, func: FunctionNode, env: Dict[str, str], depth: int = 0,
               stack: Tuple[int, ...] = ()) -> Optional[Returned]:
        """What ``func`` returns under the assumptions in ``env`` (parameters not in it: unknown); None when its
        returns differ in shape."""
        returns: List[Returned] = []
        ends = self._block(func.body, dict(env), returns, depth, stack + (id(func),))  # type: ignore[attr-defined]
        if not ends:
            returns.append(NONE)  # falls off the end
        if not returns:
            return UNK  # raises on every path
        if all(isinstance(r, tuple) for r in returns):
            lengths = {len(r) for r in returns}
            if len(lengths) != 1:
                return None
            return tuple(_join(*(r[i] for r in returns)) for i in range(lengths.pop()))  # type: ignore[index]
        if any(isinstance(r, tuple) for r in returns):
            return None
        return _join(*returns)  # type: ignore[arg-type]

    # ---- statements: True when every path through the block leaves it (return, raise) ----
    def _block(self, body: Sequence[ast.stmt], env: Dict[str, str], returns: List[Returned], depth: int,
               stack: Tuple[int, ...]) -> bool:
        for stmt in body:
            if self._stmt(stmt, env, returns, depth, stack):
                return True
        return False

    def _stmt(self, stmt: ast.stmt, env: Dict[str, str], returns: List[Returned], depth: int,
              stack: Tuple[int, ...]) -> bool:
        self._step()
        if isinstance(stmt, ast.Return):
            if stmt.value is None:
                returns.append(NONE)
            elif isinstance(stmt.value, ast.Tuple):
                if any(isinstance(e, ast.Starred) for e in stmt.value.elts):
                    raise _GiveUp
                returns.append(tuple(self.expr(e, env, depth, stack) for e in stmt.value.elts))
            else:
                returns.append(self.expr(stmt.value, env, depth, stack))
            return True
        if isinstance(stmt, ast.Raise):
            return True
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            if stmt.value is not None:
                value = self.expr(stmt.value, env, depth, stack)
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        env[target.id] = value
                    else:
                        _forget(target, env)
            return False
        if isinstance(stmt, ast.If):
            truth = self.test(stmt.test, env, depth, stack)
            if truth is not None:
                return self._block(stmt.body if truth else stmt.orelse, env, returns, depth, stack)
            body_env, else_env = dict(env), dict(env)
            body_ends = self._block(stmt.body, body_env, returns, depth, stack)
            else_ends = self._block(stmt.orelse, else_env, returns, depth, stack)
            if body_ends and else_ends:
                return True
            branches = [e for e, ends in ((body_env, body_ends), (else_env, else_ends)) if not ends]
            env.clear()
            for name in set().union(*branches):
                env[name] = _join(*(b.get(name, UNK) for b in branches))
            return False
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            return self._block(stmt.body, env, returns, depth, stack)
        if isinstance(stmt, (ast.Expr, ast.Pass, ast.Assert)):
            return False
        # loops, try, nested definitions, deletes, ...: names they bind are unknown; a return inside: give up
        for node in walk(stmt):
            if isinstance(node, ast.Return):
                raise _GiveUp
            if isinstance(node, (ast.Name, ast.arg)) and not isinstance(getattr(node, "ctx", ast.Store()), ast.Load):
                env[node.id if isinstance(node, ast.Name) else node.arg] = UNK
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                env[node.name] = UNK
        return False

    # ---- expressions ----
    def test(self, node: ast.expr, env: Dict[str, str], depth: int, stack: Tuple[int, ...]) -> Optional[bool]:
        """The truth of a condition when the assumptions decide it, else None."""
        self._step()
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.Is, ast.IsNot)) \
                and isinstance(node.comparators[0], ast.Constant) and node.comparators[0].value is None:
            value = self.expr(node.left, env, depth, stack)
            if value == UNK:
                return None
            return (value == NONE) == isinstance(node.ops[0], ast.Is)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.test(node.operand, env, depth, stack)
            return None if inner is None else not inner
        if isinstance(node, ast.BoolOp):
            values = [self.test(v, env, depth, stack) for v in node.values]
            if isinstance(node.op, ast.And):
                return False if False in values else True if all(v is True for v in values) else None
            return True if True in values else False if all(v is False for v in values) else None
        return False if self.expr(node, env, depth, stack) == NONE else None

    def expr(self, node: ast.expr, env: Dict[str, str], depth: int, stack: Tuple[int, ...]) -> str:
        self._step()
        if isinstance(node, ast.Constant):
            return NONE if node.value is None else SET
        if isinstance(node, ast.Name):
            return env.get(node.id, UNK)
        if isinstance(node, ast.IfExp):
            truth = self.test(node.test, env, depth, stack)
            if truth is not None:
                return self.expr(node.body if truth else node.orelse, env, depth, stack)
            return _join(self.expr(node.body, env, depth, stack), self.expr(node.orelse, env, depth, stack))
        if isinstance(node, (ast.BinOp, ast.Compare, ast.JoinedStr, ast.List, ast.Tuple, ast.Dict, ast.Set,
                             ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda)):
            return SET
        if isinstance(node, ast.UnaryOp):
            return SET
        if isinstance(node, ast.Subscript):
            # a slice of a value that is there is there (`x[:, :]`); an item may be anything (`d["k"]`)
            sliced = isinstance(node.slice, ast.Slice) or isinstance(node.slice, ast.Tuple) and any(
                isinstance(e, ast.Slice) for e in node.slice.elts)
            return SET if sliced and self.expr(node.value, env, depth, stack) == SET else UNK
        if isinstance(node, ast.Call):
            return self._call(node, env, depth, stack)
        return UNK

    def _call(self, node: ast.Call, env: Dict[str, str], depth: int, stack: Tuple[int, ...]) -> str:
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
            return self._helper(func.attr, node, env, depth, stack)
        if isinstance(func, ast.Attribute) and func.attr in _TENSOR_METHODS:
            receiver = self.expr(func.value, env, depth, stack)
            if receiver == SET:
                return SET
            if isinstance(func.value, ast.Name) and func.value.id == "torch":
                return SET
        if self.mro and tensor_function(self.mro[0].module.qualify(func) or ""):
            return SET
        return UNK

    def _helper(self, name: str, node: ast.Call, env: Dict[str, str], depth: int, stack: Tuple[int, ...]) -> str:
        """``self.<name>(...)``: a plain method of the class, run with the arguments' values bound."""
        func = next((c.methods[name] for c in self.mro if name in c.methods), None)
        if func is None or depth >= _MAX_DEPTH or id(func) in stack or getattr(func, "decorator_list", None):
            return UNK
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            return UNK
        args = func.args
        positional = (args.posonlyargs + args.args)[1:]
        bound: Dict[str, str] = {}
        defaults = dict(zip([a.arg for a in positional[len(positional) - len(args.defaults):]], args.defaults))
        defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
        for param, default in defaults.items():
            bound[param] = NONE if isinstance(default, ast.Constant) and default.value is None else (
                SET if isinstance(default, ast.Constant) else UNK)
        if len(node.args) > len(positional):
            return UNK
        for param, arg in zip(positional, node.args):
            bound[param.arg] = self.expr(arg, env, depth, stack)
        for keyword in node.keywords:
            bound[str(keyword.arg)] = self.expr(keyword.value, env, depth, stack)
        returned = self.result(func, bound, depth + 1, stack)
        return returned if isinstance(returned, str) else SET if isinstance(returned, tuple) else UNK


def _join(*values: str) -> str:
    first = values[0] if values else UNK
    return first if all(v == first for v in values) else UNK


def _forget(target: ast.expr, env: Dict[str, str]) -> None:
    for node in ast.walk(target):
        if isinstance(node, ast.Name):
            env[node.id] = UNK


def tensor_function(qualified: str) -> bool:
    """``torch.cat``, ``torch.zeros``, ``torch.nn.functional.relu``: they return tensors, never None (not
    ``torch.jit.annotate(Optional[T], None)``, ``torch.distributed.barrier()``)."""
    return qualified.startswith("torch.") and qualified.count(".") == 1 or qualified.startswith(
        "torch.nn.functional.") and qualified.count(".") == 3
