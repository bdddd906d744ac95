"""Parameters that a class's ``train()`` override freezes and its ``__init__`` does not (DDP103).

DistributedDataParallel registers, when it wraps the model, every parameter that requires a gradient at that
moment, and waits for the gradient of each one in every iteration. Training code wraps the model first and
calls ``model.train()`` at the start of each epoch (mmengine's runner, most scripts). A ``train(mode)`` override
that freezes parameters (``param.requires_grad = False``, ``requires_grad_(False)``) which ``__init__`` left
trainable takes them out of the backward pass after DDP registered them: they get no gradient, and the next
iteration stops with the reduction error naming them (mmdet 3.0's ``SwinTransformer``, issue 10157). mmdet's
``ResNet`` freezes the same way in ``__init__`` too, so DDP never registers those parameters.

Facts, read from ``ast``: what the ``train()`` override freezes, directly or through the methods of the class
it calls (``self._freeze_stages()``, ``super().train(mode)``), with the tests in force as written; what
``__init__`` freezes, directly or through the methods it calls; and whether any other method of the class
freezes the same attribute (a public ``freeze()`` that the user may call before wrapping: then silent). Only
``self.<attr>`` expressions, locals bound to them, literal ``getattr(self, "x")`` and loops over
``.parameters()`` are followed; ``.eval()`` freezes nothing, and a freeze through a helper the linter cannot
read is not one (silent).

A freeze under a test on the configuration (``if self.frozen_stages >= 0``, default -1) is reported, naming the
test and the constructor default it reads: the crash happens in every run that sets the option, the option
exists to be set, and nothing in the code says which runs do. A test on an attribute that a method other than
``__init__`` writes (state switched at run time) keeps the freeze silent; a test decided by a literal that
``__init__`` sets and nothing changes is decided.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from . import defaults_eval
from .index import ClassInfo, FunctionNode, dotted_name, walk
from .init_facts import TRAINABLE_KINDS, FileFacts
from .registry import rules_by_code
from .rules import FIX_TEXT, ClassFacts, Finding

_MAX_METHODS = 24  # methods followed from one entry (train, __init__, another method)
_MAX_DEPTH = 4
_PARAMETER_ITERATORS = ("parameters", "named_parameters")
_MODULE_ITERATORS = ("children", "modules", "named_children", "named_modules", "values")


@dataclass(frozen=True)
class Test:
    """One test in force where a freeze runs: the expression, and whether it must be false there."""

    node: ast.expr
    negated: bool = False

    @property
    def text(self) -> str:
        node = self.node
        if self.negated and isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _INVERSE:
            node = ast.Compare(left=node.left, ops=[_INVERSE[type(node.ops[0])]()], comparators=node.comparators)
            return ast.unparse(node)  # `if self.frozen_stages < 0: return` leaves `self.frozen_stages >= 0`
        text = ast.unparse(node)
        return f"not ({text})" if self.negated else text


_INVERSE = {ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
            ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}


@dataclass(frozen=True)
class Freeze:
    attr: str  # the attribute of the class: `stages` for `self.stages[i - 1]`
    tests: Tuple[Test, ...]
    via: Tuple[str, ...]  # the methods called on the way, from the entry (`_freeze_stages`)


@dataclass
class _Walk:
    """Everything one entry method reaches: freezes, methods followed, what it cannot read."""

    freezes: List[Freeze] = field(default_factory=list)
    methods: Set[str] = field(default_factory=set)
    runs_train: bool = False  # `self.train()` / `self.eval()`: the override runs here too
    unknown_freeze: bool = False  # a self method it cannot read whose name says it freezes


class _Walker:
    def __init__(self, mro: Sequence[ClassInfo], mode: Optional[str] = None) -> None:
        self.mro = mro
        self.mode = mode  # the `mode` parameter of train(): true in training
        self.out = _Walk()
        self._budget = _MAX_METHODS

    def run(self, name: str, start: int = 0) -> _Walk:
        self.call(name, start, (), (), 0)
        return self.out

    def call(self, name: str, start: int, tests: Tuple[Test, ...], via: Tuple[str, ...], depth: int) -> None:
        found = _resolve(self.mro, name, start)
        if found is None:
            if "freeze" in name.lower() and "unfreeze" not in name.lower():
                self.out.unknown_freeze = True
            return
        position, func = found
        key = f"{position}.{name}"
        if key in self.out.methods or self._budget <= 0 or depth > _MAX_DEPTH:
            return
        self._budget -= 1
        self.out.methods.add(key)
        self.block(func.body, tests, {}, position, via, depth)

    def block(self, body: Sequence[ast.stmt], tests: Tuple[Test, ...], local: Dict[str, Set[str]],
              position: int, via: Tuple[str, ...], depth: int) -> None:
        for stmt in body:
            self.statement(stmt, tests, local, position, via, depth)
            if isinstance(stmt, ast.If) and not stmt.orelse and stmt.body and isinstance(stmt.body[-1], (
                    ast.Return, ast.Raise, ast.Continue, ast.Break)) and self._mode_test(stmt.test) is None:
                tests = tests + (Test(stmt.test, True),)  # `if self.frozen_stages < 0: return`: the rest runs when not

    def statement(self, stmt: ast.stmt, tests: Tuple[Test, ...], local: Dict[str, Set[str]], position: int,
                  via: Tuple[str, ...], depth: int) -> None:
        if isinstance(stmt, ast.If):
            kept = self._mode_test(stmt.test)
            if kept is False:
                self.block(stmt.orelse, tests, local, position, via, depth)
                return
            if kept is True:
                self.block(stmt.body, tests, local, position, via, depth)
                return
            self.block(stmt.body, tests + (Test(stmt.test),), local, position, via, depth)
            self.block(stmt.orelse, tests + (Test(stmt.test, True),), local, position, via, depth)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            self.loop(stmt, tests, local, position, via, depth)
        elif isinstance(stmt, (ast.While, ast.With, ast.AsyncWith)):
            self.block(stmt.body, tests, local, position, via, depth)
        elif isinstance(stmt, ast.Try):
            for part in [stmt.body] + [h.body for h in stmt.handlers] + [stmt.orelse, stmt.finalbody]:
                self.block(part, tests, local, position, via, depth)
        elif isinstance(stmt, ast.Assign):
            if _is_false(stmt.value):
                for target in stmt.targets:
                    if isinstance(target, ast.Attribute) and target.attr == "requires_grad":
                        self.freeze(target.value, tests, local, via)
            elif len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                attrs = _targets(stmt.value, local)
                if attrs:  # joined with what a branch bound before (`m = self.a[i]` / else `m = self.b[j]`)
                    local[stmt.targets[0].id] = local.get(stmt.targets[0].id, set()) | attrs
            self.calls(stmt.value, tests, local, position, via, depth)
        elif isinstance(stmt, (ast.Expr, ast.Return)) and stmt.value is not None:
            self.calls(stmt.value, tests, local, position, via, depth)

    def calls(self, expr: ast.expr, tests: Tuple[Test, ...], local: Dict[str, Set[str]], position: int,
              via: Tuple[str, ...], depth: int) -> None:
        for node in walk(expr):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            func = node.func
            if func.attr == "requires_grad_":
                arg = node.args[0] if node.args else next(
                    (k.value for k in node.keywords if k.arg == "requires_grad"), None)
                if _is_false(arg):
                    self.freeze(func.value, tests, local, via)
            elif isinstance(func.value, ast.Name) and func.value.id == "self":
                if func.attr in ("train", "eval"):
                    self.out.runs_train = True
                else:
                    self.call(func.attr, 0, tests, via + (func.attr,), depth + 1)
            elif _is_super(func.value):
                self.call(func.attr, position + 1, tests, via, depth + 1)

    def loop(self, stmt: "ast.For | ast.AsyncFor", tests: Tuple[Test, ...], local: Dict[str, Set[str]],
             position: int, via: Tuple[str, ...], depth: int) -> None:
        it = stmt.iter
        inner = dict(local)
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr in _PARAMETER_ITERATORS:
            names = {n.id for n in walk(stmt.target) if isinstance(n, ast.Name)}
            if any(_sets_false(s, names) for s in stmt.body):
                self.freeze(it.func.value, tests, local, via)
            self.block(stmt.body, tests, inner, position, via, depth)
            return
        if isinstance(it, ast.Call) and dotted_name(it.func) == "range":
            test = _range_test(it)
            if test is False:
                return
            self.block(stmt.body, tests + ((test,) if test is not True else ()), inner, position, via, depth)
            return
        if isinstance(it, ast.Call) and dotted_name(it.func) in ("enumerate", "reversed") and it.args:
            it = it.args[0]
        attrs: Set[str] = set()
        if isinstance(it, (ast.List, ast.Tuple)):
            for element in it.elts:
                attrs |= _targets(element, local)
        else:
            attrs = _targets(it, local)
        target = stmt.target.elts[-1] if isinstance(stmt.target, ast.Tuple) and stmt.target.elts else stmt.target
        if isinstance(target, ast.Name):
            if attrs:
                inner[target.id] = attrs
            else:
                inner.pop(target.id, None)
        self.block(stmt.body, tests, inner, position, via, depth)

    def freeze(self, target: ast.expr, tests: Tuple[Test, ...], local: Dict[str, Set[str]],
               via: Tuple[str, ...]) -> None:
        for attr in sorted(_targets(target, local)):
            self.out.freezes.append(Freeze(attr, tests, via))

    def _mode_test(self, test: ast.expr) -> Optional[bool]:
        """`if mode:` in train(): taken in training; `if not mode:` never. Anything else: None."""
        if self.mode is None:
            return None
        if isinstance(test, ast.Name) and test.id == self.mode:
            return True
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(
                test.operand, ast.Name) and test.operand.id == self.mode:
            return False
        return None


def _resolve(mro: Sequence[ClassInfo], name: str, start: int) -> Optional[Tuple[int, FunctionNode]]:
    for position in range(start, len(mro)):
        func = mro[position].methods.get(name)
        if func is not None:
            return position, func
    return None


def _is_super(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"


def _is_false(node: Optional[ast.AST]) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _targets(expr: ast.expr, local: Dict[str, Set[str]]) -> Set[str]:
    """The attributes of `self` an expression is (part of): `self.x`, `self.x[i]`, `self.x.y`, a local bound to
    them, `getattr(self, "x")`, `self.x.children()`."""
    while True:
        if isinstance(expr, ast.Subscript):
            expr = expr.value
        elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and (
                expr.func.attr in _MODULE_ITERATORS) and not expr.args:
            expr = expr.func.value
        else:
            break
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "getattr" and len(
            expr.args) >= 2 and isinstance(expr.args[0], ast.Name) and expr.args[0].id == "self":
        name = expr.args[1]
        return {name.value} if isinstance(name, ast.Constant) and isinstance(name.value, str) else set()
    chain = dotted_name(expr)
    if chain is None:
        return set()
    parts = chain.split(".")
    if parts[0] == "self":
        return {parts[1]} if len(parts) > 1 else set()
    if len(parts) == 1 and parts[0] in local:
        return set(local[parts[0]])
    return set()


def _sets_false(stmt: ast.stmt, names: Set[str]) -> bool:
    """`p.requires_grad = False` / `p.requires_grad_(False)` for a loop variable `p`."""
    for node in walk(stmt):
        if isinstance(node, ast.Assign) and _is_false(node.value):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr == "requires_grad" and isinstance(
                        target.value, ast.Name) and target.value.id in names:
                    return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "requires_grad_":
            if node.args and _is_false(node.args[0]) and isinstance(node.func.value, ast.Name) and (
                    node.func.value.id in names):
                return True
    return False


def _range_test(call: ast.Call) -> "Test | bool":
    """When `for i in range(...)` runs its body: True/False for literal bounds, else a test as written, in the
    usual spelling (`range(1, self.frozen_stages + 1)` runs when `self.frozen_stages > 0`)."""
    args = call.args
    if not args or len(args) > 2 or call.keywords:
        return True if args else False
    start, stop = (args[0], args[1]) if len(args) == 2 else (ast.Constant(0), args[0])
    if not (isinstance(start, ast.Constant) and isinstance(start.value, int)):
        return True  # a test we cannot spell simply: assume the loop runs (loops are assumed to run elsewhere too)
    low = start.value
    if isinstance(stop, ast.Constant) and isinstance(stop.value, int):
        return stop.value > low
    if isinstance(stop, ast.BinOp) and isinstance(stop.op, (ast.Add, ast.Sub)) and isinstance(
            stop.right, ast.Constant) and isinstance(stop.right.value, int):
        shift = stop.right.value if isinstance(stop.op, ast.Add) else -stop.right.value
        stop, low = stop.left, low - shift
    # integers: `stop > low` is `stop >= low + 1`, the spelling configurations document (`frozen_stages >= 0`)
    test = ast.Compare(left=stop, ops=[ast.GtE()], comparators=[ast.Constant(low + 1)])
    return Test(ast.copy_location(test, call))


# ---- what the tests depend on ----

def _written_outside(mro: Sequence[ClassInfo], init_methods: Set[str]) -> Set[str]:
    """Attributes of `self` that a method outside `__init__`'s reach assigns: run-time state."""
    written: Set[str] = set()
    for position, info in enumerate(mro):
        for name, func in info.methods.items():
            if f"{position}.{name}" in init_methods:
                continue
            for node in walk(func):
                targets: Iterable[ast.expr] = ()
                if isinstance(node, ast.Assign):
                    targets = node.targets
                elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                    targets = (node.target,)
                for target in targets:
                    for item in walk(target):
                        if isinstance(item, ast.Attribute) and isinstance(item.value, ast.Name) and (
                                item.value.id == "self"):
                            written.add(item.attr)
    return written


def _init_defaults(mro: Sequence[ClassInfo]) -> Dict[str, str]:
    """The literal defaults of the `__init__` parameters of the class and its bases, as written."""
    defaults: Dict[str, str] = {}
    for info in reversed(mro):
        func = info.methods.get("__init__")
        if func is None:
            continue
        for name, default in defaults_eval.parameter_defaults(func).items():
            defaults[name] = ast.unparse(default)
    return defaults


def _self_reads(node: ast.expr) -> Set[str]:
    return {n.attr for n in walk(node) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
            and n.value.id == "self"}


# ---- the rule ----

@dataclass(frozen=True)
class LateFreeze:
    """An attribute frozen by `train()` only, with the tests that decide it (as written) and their defaults."""

    attr: str
    tests: Tuple[str, ...]
    defaults: Tuple[str, ...]  # "frozen_stages=-1" for each constructor argument the tests read
    via: Tuple[str, ...]
    at_defaults: bool = True  # the tests hold with the constructor's defaults: the default run crashes


def frozen_only_in_train(facts: ClassFacts, mro: Sequence[ClassInfo], file: FileFacts) -> List[LateFreeze]:
    """The trainable attributes of the class that its `train()` override freezes and `__init__` does not."""
    found = _resolve(mro, "train", 0)
    if found is None:
        return []
    func = found[1]
    params = func.args.posonlyargs + func.args.args
    mode = params[1].arg if len(params) > 1 else None
    trained = _Walker(mro, mode).run("train")
    candidates = [f for f in trained.freezes if _trainable(facts, f.attr, file)]
    if not candidates or trained.unknown_freeze:
        return []
    built = _Walker(mro).run("__init__")
    if built.runs_train or built.unknown_freeze:
        return []  # __init__ runs train() (or eval()) itself, or calls a freezing helper it cannot read
    frozen_early = {f.attr for f in built.freezes}
    elsewhere = _frozen_elsewhere(mro, trained.methods | built.methods)
    written = _written_outside(mro, built.methods)
    values, arguments = _literal_flags(facts)
    defaults = _init_defaults(mro)
    best: Dict[str, LateFreeze] = {}
    for freeze in candidates:
        if freeze.attr in frozen_early or freeze.attr in elsewhere:
            continue
        kept: List[Test] = []
        decided_false = False
        for test in freeze.tests:
            if _self_reads(test.node) & written:
                decided_false = True  # run-time state decides: not the constructor's business
                break
            value = defaults_eval.truth_of(test.node, values)
            if value is None:
                kept.append(test)
                continue
            if value == test.negated:
                decided_false = True
                break
        if decided_false or (kept and facts.init.attrs[freeze.attr].built_under is not None):
            continue  # an option-gated freeze of what only some configurations build: two options (as DDP102)
        shown = tuple(sorted({f"{arguments[a]}={defaults[arguments[a]]}" for t in kept for a in _self_reads(t.node)
                              if a in arguments and arguments[a] in defaults}))
        late = LateFreeze(freeze.attr, tuple(t.text for t in kept), shown, freeze.via,
                          _hold_at_defaults(kept, values, arguments, defaults))
        if freeze.attr not in best or len(late.tests) < len(best[freeze.attr].tests):
            best[freeze.attr] = late
    return [best[name] for name in sorted(best)]


def _hold_at_defaults(tests: Sequence[Test], values: Dict[str, object], arguments: Dict[str, str],
                      defaults: Dict[str, str]) -> bool:
    """Every test of a freeze holds when the constructor's arguments keep their literal defaults."""
    at_defaults = dict(values)
    for name, argument in arguments.items():
        value = defaults_eval.literal(defaults.get(argument))
        if value is not defaults_eval.UNKNOWN:
            at_defaults[f"self.{name}"] = value
    return all(defaults_eval.truth_of(test.node, at_defaults) == (not test.negated) for test in tests)


def _trainable(facts: ClassFacts, name: str, file: FileFacts) -> bool:
    attr = facts.init.attrs.get(name)
    return (attr is not None and attr.built.kind in TRAINABLE_KINDS and not attr.frozen
            and name not in file.frozen_names and name not in facts.init.shared and name not in file.tied_names)


def _frozen_elsewhere(mro: Sequence[ClassInfo], reached: Set[str]) -> Set[str]:
    """Attributes that a method neither train() nor __init__ reaches freezes (a `freeze()` the user may call
    before wrapping the model)."""
    frozen: Set[str] = set()
    for position, info in enumerate(mro):
        for name in info.methods:
            if f"{position}.{name}" in reached or name in ("train", "__init__"):
                continue
            if _resolve(mro, name, 0) != (position, info.methods[name]):
                continue  # overridden: what runs is the override
            walked = _Walker(mro).run(name, position)
            frozen.update(f.attr for f in walked.freezes)
    return frozen


def _literal_flags(facts: ClassFacts) -> Tuple[Dict[str, object], Dict[str, str]]:
    """Attributes `__init__` sets to one literal (their values, bound as `self.x`), and those it stores from an
    argument (attribute name -> argument)."""
    values: Dict[str, object] = {}
    arguments: Dict[str, str] = {}
    for name, flag in facts.init.flags.items():
        if flag.key == f"self.{name}":
            value = defaults_eval.literal(flag.default)
            if value is not defaults_eval.UNKNOWN:
                values[f"self.{name}"] = value
        elif flag.key.isidentifier():
            arguments[name] = flag.key
    return values, arguments


def late_freeze_findings(facts: ClassFacts, mro: Sequence[ClassInfo], file: FileFacts) -> List[Finding]:
    fix = FIX_TEXT.get(facts.framework, FIX_TEXT["torch"])
    findings = []
    for late in frozen_only_in_train(facts, mro, file):
        # a freeze only under an option the defaults leave off crashes only the runs that set it (opt-in DDP903),
        # as a layer-drop rate read at its default zero stays silent
        code = "DDP103" if late.at_defaults else "DDP903"
        rule = rules_by_code()[code]
        attr = facts.init.attrs[late.attr]
        when = ""
        if late.tests:
            when = " when " + " and ".join(late.tests)
            if late.defaults:
                when += f" (default {', '.join(late.defaults)})"
        how = f" in self.{late.via[-1]}()" if late.via else ""
        message = rule.message.format(attr=f"self.{attr.name}", cls=facts.name, when=when, how=how, fix=fix)
        findings.append(Finding(code, attr.line, attr.col, message, facts.name, f"self.{attr.name}", attr.name))
    return findings
