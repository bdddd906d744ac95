"""What a plain attribute holds after ``__init__`` runs with every constructor argument at its default.

neuralforecast's ``TFT(..., stat_exog_list=None)`` passes ``stat_exog_list`` through ``BaseWindows.__init__`` to
``BaseModel.__init__``, which stores ``self.stat_exog_list = list(stat_exog_list) if stat_exog_list is not None
else []``. The training step builds the static inputs only ``if len(self.stat_exog_list):``: with the defaults,
never. This module follows that chain (``super().__init__(name=name, ...)`` with the values bound, literal
defaults, a few pure expressions) so that the interpreter can judge such a test at the defaults, like a
constructor flag that is off (DDP102), naming the arguments it was judged with (``stat_exog_list=None``).

Only where the chain is fully decided: the attribute is written exactly once in the whole class hierarchy (an
assignment at the top level of an ``__init__`` of the chain, not under a test or in a loop), every value on the way
is a literal or a constructor argument's literal default, and it depends on at least one constructor argument.
Anything else is unknown and the test stays as undecided as before.
"""
from __future__ import annotations

import ast
import re
from typing import Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

from . import defaults_eval
from .index import ClassInfo, FunctionNode, walk

_UNKNOWN = defaults_eval.UNKNOWN
Known = Tuple[object, FrozenSet[str]]  # a value and the constructor arguments (with their defaults) it came from
_MAX_STATEMENTS = 400


def value_at_defaults(info: ClassInfo, mro: Sequence[ClassInfo], attr: str) -> Optional[Tuple[object, str]]:
    """``self.<attr>``'s value after ``info()`` with no arguments, and the label of the defaults that decided
    it (``"stat_exog_list=None"``); None when unknown."""
    found = _known(info, mro, attr)
    return None if found is None else (found[0], ", ".join(sorted(found[1])))


def _known(info: ClassInfo, mro: Sequence[ClassInfo], attr: str) -> Optional[Known]:
    return info.fact(("init_value", attr), lambda: _value(info, mro, attr))  # type: ignore[no-any-return]


def _value(info: ClassInfo, mro: Sequence[ClassInfo], attr: str) -> Optional[Known]:
    if not any(_stored_as_list(owner, attr) for owner in mro):
        return None  # a cheap look first: no `self.<attr> = <list, None or an argument>` in an `__init__`
    if sum(owner.fact("init_values.stores", lambda owner=owner: _stores(owner)).get(attr, 0)  # type: ignore
           for owner in mro) != 1 or any(_written_outside(owner, attr) for owner in mro):
        return None
    walker = _Walker(mro, attr)
    try:
        found = walker.run_init(0, {}, leaf=True)
    except _Stop:
        return None
    if found is None or found[0] is _UNKNOWN or not found[1]:
        return None  # a constant set in __init__ is no configuration (constructor flags cover those)
    if found[0] is not None and not isinstance(found[0], (list, tuple)):
        return None  # only optional lists (`stat_exog_list=None` -> []): numbers and switches are flags' business
    return found


_LIST_LIKE = (ast.Name, ast.IfExp, ast.List, ast.Tuple, ast.BoolOp, ast.Constant, ast.Call)


def _stored_as_list(owner: ClassInfo, attr: str) -> bool:
    """``self.<attr> = <a name, a list, a conditional, list(...)>`` at the top of the class's ``__init__``."""
    init = owner.methods.get("__init__")
    if init is None:
        return False
    stores = owner.fact("init_values.top", lambda: {
        target.attr: stmt.value for stmt in _top_level(init.body)  # type: ignore[attr-defined]
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
        for target in stmt.targets if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
        and target.value.id == "self"})
    value = stores.get(attr)
    pure = isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and (
        value.func.id in defaults_eval.PURE_CALLS)
    return isinstance(value, _LIST_LIKE) and not (isinstance(value, ast.Call) and not pure)


def _top_level(body: Sequence[ast.stmt]) -> List[ast.stmt]:
    out: List[ast.stmt] = []
    for stmt in body:
        out.extend(_top_level(stmt.body) if isinstance(stmt, (ast.With, ast.AsyncWith)) else [stmt])
    return out


_WRITE = r"([\w.\])]*)\.{attr}\s*=(?!=)"


def _written_outside(owner: ClassInfo, attr: str) -> bool:
    """``model.<attr> = ...`` in the class's file (a text look): set from outside after construction."""
    def look() -> bool:
        pattern = re.compile(_WRITE.format(attr=re.escape(attr)))
        return any(match.group(1) != "self" for line in owner.module.lines if attr in line
                   for match in pattern.finditer(line))
    return bool(owner.fact(("init_values.outside", attr), look))


def _stores(owner: ClassInfo) -> Dict[str, int]:
    """How many statements of the class's methods write each ``self.<attr>`` (a computed setattr: every
    attribute, many times)."""
    count: Dict[str, int] = {}
    for func in list(owner.methods.values()) + list(owner.properties.values()):
        for node in walk(func):
            targets: List[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            elif isinstance(node, ast.Delete):
                targets = node.targets
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
                if len(node.args) < 2 or not isinstance(node.args[1], ast.Constant):
                    return _EVERYTHING
                name = str(node.args[1].value)
                count[name] = count.get(name, 0) + 1
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Attribute) and isinstance(part.value, ast.Name) and (
                            part.value.id == "self") and not isinstance(part.ctx, ast.Load):
                        count[part.attr] = count.get(part.attr, 0) + 1
    return count


class _Everything(dict):  # type: ignore[type-arg]
    """`setattr(self, name, ...)` with a computed name: any attribute may be written anywhere."""

    def get(self, key: object, default: object = None) -> int:  # type: ignore[override]
        return 99


_EVERYTHING = _Everything()


class _Stop(Exception):
    """The chain cannot be followed: unknown."""


class _Walker:
    def __init__(self, mro: Sequence[ClassInfo], attr: str) -> None:
        self.mro = mro
        self.attr = attr
        self.statements = 0

    def run_init(self, start: int, passed: Dict[str, Known], leaf: bool,
                 spread: bool = False) -> Optional[Known]:
        """Run the first ``__init__`` of ``mro[start:]`` with ``passed`` bound; the stored value, or None when
        this ``__init__`` (and the ones it calls) never stores it."""
        position = next((i for i in range(start, len(self.mro)) if "__init__" in self.mro[i].methods), None)
        if position is None:
            return None
        owner, func = self.mro[position], self.mro[position].methods["__init__"]
        env = self._bind(func, passed, leaf, spread)
        return self._block(func.body, env, owner, position)  # type: ignore[attr-defined]

    @staticmethod
    def _bind(func: FunctionNode, passed: Dict[str, Known], leaf: bool, spread: bool) -> Dict[str, Known]:
        args = func.args
        positional = (args.posonlyargs + args.args)[1:]
        env: Dict[str, Known] = {}
        defaults = defaults_eval.parameter_defaults(func)
        for param in [a.arg for a in positional + args.kwonlyargs]:
            if param in passed:
                env[param] = passed[param]
            elif param in defaults and not spread:
                value = defaults_eval.literal(defaults[param])
                # the leaf's own defaults are the configuration being judged; a base's default is what the
                # subclass leaves it at
                env[param] = (value, frozenset({f"{param}={value!r}"}) if leaf and value is not _UNKNOWN
                              else frozenset())
            else:
                env[param] = (_UNKNOWN, frozenset())
        return env

    def _block(self, body: Sequence[ast.stmt], env: Dict[str, Known], owner: ClassInfo,
               position: int) -> Optional[Known]:
        for stmt in body:
            self.statements += 1
            if self.statements > _MAX_STATEMENTS:
                raise _Stop
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and _is_init_call(stmt.value):
                found = self._super_init(stmt.value, env, owner, position)
                if found is not None:
                    return found
                continue
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
                if _is_self_attr(target, self.attr):
                    return self.eval(stmt.value, env)
                if isinstance(target, ast.Name):
                    env[target.id] = self.eval(stmt.value, env)
                    continue
            if isinstance(stmt, (ast.With, ast.AsyncWith)):
                found = self._block(stmt.body, env, owner, position)
                if found is not None:
                    return found
                continue
            if isinstance(stmt, ast.Return):
                return None
            for node in ast.walk(stmt):  # anything else: it must not store the attribute nor run a base __init__
                if _is_self_attr(node, self.attr) or isinstance(node, ast.Call) and _is_init_call(node):
                    raise _Stop
                if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                    env[node.id] = (_UNKNOWN, frozenset())
        return None

    def _super_init(self, call: ast.Call, env: Dict[str, Known], owner: ClassInfo,
                    position: int) -> Optional[Known]:
        func = call.func
        assert isinstance(func, ast.Attribute)
        args = list(call.args)
        if isinstance(func.value, ast.Call):  # super().__init__ / super(Klass, self).__init__
            start = position + 1
            if func.value.args:
                named = func.value.args[0]
                start = next((i + 1 for i, c in enumerate(self.mro) if isinstance(named, ast.Name)
                              and c.name == named.id), -1)
        else:  # Base.__init__(self, ...)
            name = func.value.id if isinstance(func.value, ast.Name) else ""
            start = next((i for i, c in enumerate(self.mro) if c.name == name), -1)
            if not args or not (isinstance(args[0], ast.Name) and args[0].id == "self"):
                raise _Stop
            args = args[1:]
        if start < 0 or any(isinstance(a, ast.Starred) for a in args):
            raise _Stop
        target = next((i for i in range(start, len(self.mro)) if "__init__" in self.mro[i].methods), None)
        if target is None:
            return None
        params = [a.arg for a in (self.mro[target].methods["__init__"].args.posonlyargs  # type: ignore[attr-defined]
                                  + self.mro[target].methods["__init__"].args.args)[1:]]  # type: ignore[attr-defined]
        if len(args) > len(params):
            raise _Stop
        passed = {param: self.eval(arg, env) for param, arg in zip(params, args)}
        spread = False
        for keyword in call.keywords:
            if keyword.arg is None:
                spread = True  # `**kwargs`: a parameter not named here may come from it
            else:
                passed[keyword.arg] = self.eval(keyword.value, env)
        return self.run_init(start, passed, leaf=False, spread=spread)

    @staticmethod
    def eval(node: ast.expr, env: Dict[str, Known]) -> Known:
        """The value of an expression over the names bound in ``env``, and the defaults that decided it."""
        reads: Set[str] = set()
        value = defaults_eval.value_of(node, {name: v for name, (v, _) in env.items() if v is not _UNKNOWN}, reads)
        if value is _UNKNOWN:
            return _UNKNOWN, frozenset()
        return value, frozenset().union(*(env[name][1] for name in reads))


def _is_self_attr(node: ast.AST, attr: str) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == attr and isinstance(node.value, ast.Name) and (
        node.value.id == "self")


def _is_init_call(call: ast.Call) -> bool:
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "__init__"):
        return False
    inner = func.value
    return isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == "super" or (
        isinstance(inner, ast.Name))


def test_at_defaults(info: ClassInfo, mro: Sequence[ClassInfo], text: str,
                     modules: FrozenSet[str]) -> Optional[Tuple[bool, str]]:
    """A condition on plain attributes (``len(self.stat_exog_list)``, ``self.n > 0``) decided at the
    constructor's defaults: its truth and the label of the defaults; None when anything in it is unknown.
    ``modules``: attributes holding modules or flags (read elsewhere, never here)."""
    if "self." not in text:
        return None
    try:
        test = compile(text.strip(), "<test>", "eval", ast.PyCF_ONLY_AST)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    attrs = {node.attr for node in ast.walk(test) if isinstance(node, ast.Attribute) and isinstance(
        node.value, ast.Name) and node.value.id == "self"}
    names = {node.id for node in ast.walk(test) if isinstance(node, ast.Name)}
    if not attrs or attrs & modules or names - {"self", "len", "bool", "list", "tuple", "None", "True", "False"}:
        return None
    env: Dict[str, Known] = {}
    for attr in sorted(attrs):
        found = _known(info, mro, attr)
        if found is None:
            return None
        env[f"self.{attr}"] = found
    value, sources = _Walker.eval(test.body, env)
    if value is _UNKNOWN or not sources:
        return None
    return bool(defaults_eval.truth(value)), ", ".join(sorted(sources))
