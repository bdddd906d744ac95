"""Where a module handed in ``__init__`` to a function of the file ends up, and under which flags.

monai's DynUNet hands its deep-supervision heads to a recursive function defined in ``__init__``
(``self.skip_layers = create_skips(..., self.deep_supervision_heads, ...)``), which puts a head into each
``DynUNetSkipLayer`` it builds only when ``self.deep_supervision``; otherwise it passes the heads on
(``superheads[1:]``) and none is ever held. Handed to code it does not follow, a module counts as shared (an
escape: never judged). This module follows one parameter of such a function on the ``ast`` and lists its ends:

- ``returned``: it (or an item, a slice, a module holding it) is returned: held by what the call's result is
  stored in;
- ``stored``: assigned to ``self.<attr>`` in the function;
- nothing: dropped (a local never passed on, ``len(...)``, a test).

A module class of the project, a torch container, a list or tuple, or the function itself (recursion: the same
parameter flowing on, at the same position) carries the value into what it builds. Each end keeps the tests on
``self.<name>`` in force where it happens, as ``(name, polarity, text)``: the caller judges them as constructor
flags. Other tests are left out: a test that is not known may be true, so the end may happen. Anything else the
value reaches (another call, an attribute or method of it, a store into a container, a closure, a yield) is an
escape: ``None``, and the caller treats the module as shared, as before.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable, Dict, FrozenSet, List, Optional, Set, Tuple

from .index import FunctionNode, walk

# (flag attribute, polarity, the test as written)
Cond = Tuple[str, bool, str]
# Under which tests a value carries the followed parameter: one set of tests per way it may (empty: it does not;
# one empty set: always). Tests are kept with the value, so a name assigned under a branch and read after it
# keeps that branch's tests.
Carry = FrozenSet[FrozenSet[Cond]]
NOT = frozenset()  # type: Carry
ALWAYS = frozenset({frozenset()})  # type: Carry

MAX_STATEMENTS = 400  # statements walked per followed parameter (loops and recursion rounds count again)
MAX_WAYS = 16  # sets of tests kept per value; beyond, it carries the parameter always (more held, never less)
MAX_ROUNDS = 4  # rounds to settle what a recursive call returns
_PURE = {"len", "isinstance", "hasattr", "id", "print", "str", "repr", "type", "bool"}  # read, keep nothing
_CARRY = {"list", "tuple", "reversed"}  # return what they are given


@dataclass(frozen=True)
class End:
    kind: str  # "returned" | "stored"
    attr: str  # stored: the attribute of self it is stored in
    conds: FrozenSet[Cond]


class Escape(Exception):
    """The value reaches code this follower does not read."""


def _consistent(conds: FrozenSet[Cond]) -> bool:
    seen: dict = {}
    for flag, polarity, _ in conds:
        if seen.setdefault(flag, polarity) != polarity:
            return False
    return True


def _under(carry: Carry, conds: FrozenSet[Cond]) -> Carry:
    """``carry`` where ``conds`` hold too (ways that contradict them dropped)."""
    if not conds:
        return carry
    return frozenset(way | conds for way in carry if _consistent(way | conds))


def _join(*carries: Carry) -> Carry:
    joined = frozenset().union(*carries)
    return ALWAYS if len(joined) > MAX_WAYS else joined  # type: ignore[return-value]


def _product(a: Carry, b: Carry) -> Carry:
    return _join(*(_under(a, way) for way in b))


Env = Dict[str, Carry]


def _merge(a: Env, b: Env) -> Env:
    return {name: _join(a.get(name, NOT), b.get(name, NOT)) for name in set(a) | set(b)}


class _Follower:
    def __init__(self, func: FunctionNode, param: str, position: int, recursive: Callable[[ast.expr], bool],
                 holds: Callable[[ast.Call], bool], returns: Carry) -> None:
        self.func = func
        self.param = param
        self.position = position  # the parameter's position among the call's arguments (self excluded)
        self.recursive = recursive  # is this callee the followed function itself
        self.holds = holds  # does this call build something that keeps its arguments (a module, a container)
        self.returns = returns  # what a recursive call is assumed to return (this round)
        self.ends: Set[End] = set()
        self.steps = 0

    # ---- statements ----
    def block(self, body: List[ast.stmt], env: Env, conds: FrozenSet[Cond]) -> Env:
        for stmt in body:
            env = self.stmt(stmt, env, conds)
        return env

    def stmt(self, stmt: ast.stmt, env: Env, conds: FrozenSet[Cond]) -> Env:
        self.steps += 1
        if self.steps > MAX_STATEMENTS:
            raise Escape("too long")
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if _reads_any(stmt, env):
                raise Escape("closure")
            return _without(env, {stmt.name})
        if isinstance(stmt, ast.Expr):
            self.expr(stmt.value, env)
            return env
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            if stmt.value is None:
                return env
            env = dict(env)
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                self.assign(target, stmt.value, env, conds)
            return env
        if isinstance(stmt, ast.AugAssign):
            carried = self.expr(stmt.value, env)
            if isinstance(stmt.target, ast.Name):
                env = dict(env)
                env[stmt.target.id] = _join(env.get(stmt.target.id, NOT), _under(carried, conds))
                return env
            if carried:
                raise Escape("augmented store")
            self.expr(stmt.target, env)
            return env
        if isinstance(stmt, ast.Return):
            if stmt.value is not None:
                self.end("returned", "", self.expr(stmt.value, env), conds)
            return env
        if isinstance(stmt, ast.If):
            self.expr(stmt.test, env)
            body = self.block(stmt.body, env, _with(conds, flag_conds(stmt.test, True)))
            orelse = self.block(stmt.orelse, env, _with(conds, flag_conds(stmt.test, False)))
            return _merge(body, orelse)
        if isinstance(stmt, (ast.For, ast.While)):
            before = env
            if isinstance(stmt, ast.For):
                env = dict(env)
                self.bind(stmt.target, _under(self.expr(stmt.iter, env), conds), env, conds)
            else:
                self.expr(stmt.test, env)
            for _ in range(2):  # twice: a value carried from one iteration into the next
                env = _merge(env, self.block(stmt.body, env, conds))
            return self.block(stmt.orelse, _merge(env, before), conds)
        if isinstance(stmt, ast.With):
            for item in stmt.items:
                if self.expr(item.context_expr, env):
                    raise Escape("with")
                if item.optional_vars is not None:
                    env = _without(env, _names(item.optional_vars))
            return self.block(stmt.body, env, conds)
        if isinstance(stmt, ast.Try):
            env = self.block(stmt.body, env, conds)
            for handler in stmt.handlers:
                env = _merge(env, self.block(handler.body, env, conds))
            env = self.block(stmt.orelse, env, conds)
            return self.block(stmt.finalbody, env, conds)
        if isinstance(stmt, (ast.Raise, ast.Assert, ast.Delete)):
            for node in ast.iter_child_nodes(stmt):
                if isinstance(node, ast.expr) and self.expr(node, env) and not isinstance(stmt, ast.Delete):
                    raise Escape("raised")
            return env
        if isinstance(stmt, (ast.Pass, ast.Break, ast.Continue)):
            return env
        raise Escape(type(stmt).__name__)  # global, nonlocal, match, async code: not followed

    def end(self, kind: str, attr: str, carried: Carry, conds: FrozenSet[Cond]) -> None:
        for way in _under(carried, conds):
            self.ends.add(End(kind, attr, way))

    def assign(self, target: ast.expr, value: ast.expr, env: Env, conds: FrozenSet[Cond]) -> None:
        if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)) and (
                len(target.elts) == len(value.elts)) and not any(
                isinstance(e, ast.Starred) for e in target.elts + value.elts):
            carried = [self.expr(part, env) for part in value.elts]  # a, b = x, y: both read before either is set
            for elt, carries in zip(target.elts, carried):
                self.bind(elt, _under(carries, conds), env, conds)
            return
        self.bind(target, _under(self.expr(value, env), conds), env, conds)

    def bind(self, target: ast.expr, carried: Carry, env: Env, conds: FrozenSet[Cond]) -> None:
        if isinstance(target, ast.Name):
            if carried:
                env[target.id] = carried
            else:
                env.pop(target.id, None)
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.bind(elt.value if isinstance(elt, ast.Starred) else elt, carried, env, conds)
            return
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
            self.end("stored", target.attr, carried, conds)
            return
        if carried:
            raise Escape("stored elsewhere")
        self.expr(target, env)

    # ---- expressions: under which tests the value carries the parameter ----
    def expr(self, node: ast.expr, env: Env) -> Carry:
        if isinstance(node, ast.Name):
            return env.get(node.id, NOT)
        if isinstance(node, ast.Constant):
            return NOT
        if isinstance(node, ast.Subscript):  # an item or a slice of it
            if self.expr(node.slice, env):
                raise Escape("index")
            return self.expr(node.value, env)
        if isinstance(node, ast.Slice):
            return _join(*[self.expr(p, env) for p in (node.lower, node.upper, node.step) if p is not None])
        if isinstance(node, ast.Attribute):
            if self.expr(node.value, env):
                raise Escape(f".{node.attr}")
            return NOT
        if isinstance(node, ast.Call):
            return self.call(node, env)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return _join(*[self.expr(e.value if isinstance(e, ast.Starred) else e, env) for e in node.elts])
        if isinstance(node, ast.Dict):
            return _join(*[self.expr(n, env) for n in list(node.keys) + list(node.values) if n is not None])
        if isinstance(node, ast.BinOp):
            carried = _join(self.expr(node.left, env), self.expr(node.right, env))
            if carried and not isinstance(node.op, ast.Add):
                raise Escape("operator")
            return carried  # [first] + list(rest)
        if isinstance(node, ast.BoolOp):
            return _join(*[self.expr(v, env) for v in node.values])
        if isinstance(node, ast.Compare):  # `heads is None`, `len(heads) == 0`: a read
            for part in [node.left] + list(node.comparators):
                self.expr(part, env)
            return NOT
        if isinstance(node, ast.UnaryOp):
            if self.expr(node.operand, env) and not isinstance(node.op, ast.Not):
                raise Escape("operator")
            return NOT
        if isinstance(node, ast.IfExp):
            self.expr(node.test, env)
            return _join(self.expr(node.body, env), self.expr(node.orelse, env))
        if isinstance(node, ast.JoinedStr):
            return NOT
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            inner = dict(env)
            for gen in node.generators:
                if gen.is_async:
                    raise Escape("async")
                self.bind(gen.target, self.expr(gen.iter, inner), inner, frozenset())
                for test in gen.ifs:
                    self.expr(test, inner)
            return self.expr(node.elt, inner)
        if _reads_any(node, env):
            raise Escape(type(node).__name__)  # lambda, dict comprehension, walrus, await, yield
        return NOT

    def call(self, node: ast.Call, env: Env) -> Carry:
        args = [a.value if isinstance(a, ast.Starred) else a for a in node.args]
        carried = [self.expr(a, env) for a in args]
        carried_kw = [(k.arg, self.expr(k.value, env)) for k in node.keywords]
        anything = _join(*carried, *[c for _, c in carried_kw])
        func = node.func
        if self.recursive(func):
            if not anything:
                return NOT
            # the same parameter flowing on: only at its own position, as a plain argument
            starred = any(isinstance(a, ast.Starred) for a in node.args)
            at = [i for i, c in enumerate(carried) if c]
            named = [name for name, c in carried_kw if c]
            if starred or any(name is None for name in named):
                raise Escape("recursion with *args")
            if at == [self.position] and not named or not at and named == [self.param]:
                return _product(self.returns, anything)  # what it returns, where it was passed
            raise Escape("recursion at another position")
        if isinstance(func, ast.Name) and func.id in _PURE and func.id not in env:
            return NOT
        if isinstance(func, ast.Name) and func.id in _CARRY and func.id not in env:
            return anything
        if self.expr(func, env):
            raise Escape("called")  # run here: not a module handed on
        if not anything:
            return NOT
        if self.holds(node):
            return anything
        raise Escape("handed to other code")


def flag_conds(test: ast.expr, polarity: bool) -> List[Cond]:
    """The tests on ``self.<name>`` that hold where ``test`` has ``polarity``: each side of ``a and b``, each
    negated side of ``a or b``; nothing for tests of anything else (unknown: the code may run)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return flag_conds(test.operand, not polarity)
    if isinstance(test, ast.BoolOp):
        if isinstance(test.op, ast.And) == polarity:
            return [c for value in test.values for c in flag_conds(value, polarity)]
        return []
    if isinstance(test, ast.Attribute) and isinstance(test.value, ast.Name) and test.value.id == "self":
        text = ast.unparse(test)
        return [(test.attr, polarity, text if polarity else f"not {text}")]
    return []


def follow(func: FunctionNode, param: str, recursive: Callable[[ast.expr], bool],
           holds: Callable[[ast.Call], bool], first: int = 0) -> Optional[FrozenSet[End]]:
    """The ends of the value passed for parameter ``param`` of ``func`` (whose first ``first`` parameters,
    such as self, are bound before the call's arguments); None when it escapes or cannot be followed.

    A recursive call returns what the function returns: assumed nothing at first, then what the last round
    found, until that settles (what the innermost call returns is found without recursing)."""
    args = func.args
    positional = [a.arg for a in args.posonlyargs + args.args]
    if args.vararg is not None or args.kwarg is not None or param not in positional[first:]:
        return None
    position = positional.index(param) - first
    returns: Carry = NOT
    for _ in range(MAX_ROUNDS):
        follower = _Follower(func, param, position, recursive, holds, returns)
        try:
            follower.block(func.body, {param: ALWAYS}, frozenset())
        except (Escape, RecursionError):
            return None
        found = _join(*[frozenset({end.conds}) for end in follower.ends if end.kind == "returned"])
        if found == returns:
            return frozenset(follower.ends)
        returns = found
    return None


def reaches_self(func: FunctionNode, attr: str, recursive: Callable[[ast.expr], bool]) -> bool:
    """The function may reach ``self.<attr>`` other than through its parameter: it reads it, calls another method
    of self (which may), or hands ``self`` itself on."""
    attribute_bases = set()
    for node in walk(func):
        if isinstance(node, ast.Attribute):
            attribute_bases.add(id(node.value))
            if isinstance(node.value, ast.Name) and node.value.id == "self" and node.attr == attr:
                return True
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(
                node.func.value, ast.Name) and node.func.value.id == "self" and not recursive(node.func):
            return True
    return any(isinstance(node, ast.Name) and node.id == "self" and id(node) not in attribute_bases
               for node in walk(func))


def _with(conds: FrozenSet[Cond], more: List[Cond]) -> FrozenSet[Cond]:
    return conds | frozenset(more)


def _without(env: Env, names: Set[str]) -> Env:
    return {name: carry for name, carry in env.items() if name not in names}


def _names(target: ast.expr) -> Set[str]:
    return {n.id for n in walk(target) if isinstance(n, ast.Name)}


def _reads_any(node: ast.AST, env: Env) -> bool:
    return bool(env) and any(isinstance(n, ast.Name) and n.id in env for n in walk(node))
