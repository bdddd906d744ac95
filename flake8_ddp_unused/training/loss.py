"""Loss code: which outputs of the model reach the loss, and on which batches.

Training code is any function that backpropagates (``loss.backward()``, ``accelerator.backward(loss)``,
``self.manual_backward(loss)``) or returns the loss to a trainer (an HF ``compute_loss`` override),
wherever it lives. It is interpreted on the ``ast``, statement by statement, with a small abstract value
per variable: which parts of which model call it carries (``out[0]``, ``out["boxes"]``, ``out.logits``,
or the whole output), under which per-batch condition it carries them, and whether it is derived from the
data (the batch, the step of the training loop, the model's outputs). Calls of project functions (a loss
function in another file) and of criterion modules (a module applied to the model's outputs) are followed
with their arguments bound; unknown calls pass everything through (nothing is claimed dropped).

A model call's output part that never reaches the loss is dropped in every iteration (DDP203); one that
reaches it only under a condition decided by the data or the step is dropped on some batches (DDP207).
"""
from __future__ import annotations

import ast
import builtins
import weakref
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

from .. import project
from ..flow import _DETACHING_METHODS, _NO_GRAD_CONTEXTS
from ..index import ClassInfo, FileIndex, FunctionNode, walk
from ..instances import Resolver, Scope, scopes_of

WHOLE = "*"
_SPREAD = "**"  # key of the keyword values passed as **mapping
Key = Tuple[int, object]  # (source number, part): part is an int, a str, or WHOLE
_MISSING = object()
_MAX_STATEMENTS = 3000  # per training entry, callees included
_MAX_DEPTH = 4  # nested calls of project functions followed
_STOPPING_FUNCTIONS = {"float", "int", "bool", "len", "str", "round", "isinstance", "print"}
_BACKWARD_HOLDERS = {"backward", "manual_backward"}
_LOSS_ENTRIES = {"compute_loss"}  # methods whose returned value is the loss (HF Trainer subclasses)
_BUILTINS = frozenset(dir(builtins))
_MAX_NESTING = 100  # expressions or blocks nested deeper: the entry is left alone


class _TooDeep(Exception):
    """Code nested beyond what the interpreter follows: nothing is said about this entry."""


@dataclass(frozen=True)
class ModelRef:
    """A module instance: the expression that holds it in its scope, to find its class and arguments."""

    resolver: "Resolver"
    node: ast.expr
    scope: "Scope"
    before: Tuple[int, int]
    info: ClassInfo
    origin: Optional[Tuple[str, int, int]] = None  # the call that built the instance


@dataclass(frozen=True)
class V:
    parts: Tuple[Tuple[Key, Optional[str]], ...] = ()  # key -> None (every batch) or the condition
    data: bool = False
    model: Optional[ModelRef] = None
    items: Optional[Tuple["V", ...]] = None
    obj: Optional[ClassInfo] = None  # an instance of a project class that is called but is not a module (a
    # criterion object with ``__call__``, as registries build them: ``MODELS.register_module() class Criterion:``)

    def part_map(self) -> Dict[Key, Optional[str]]:
        return dict(self.parts)


EMPTY = V()


@dataclass
class Source:
    """One call of the model in training code."""

    number: int
    call: ast.Call
    index: FileIndex
    ref: ModelRef
    anchor: ast.Call  # where to report: the model call, or the call in the linted file that leads to it
    guard: Optional[str]


@dataclass
class _Frame:
    resolver: "Resolver"
    scope: "Scope"
    env: Dict[str, V]
    anchor: Optional[ast.Call]
    guards: List[str] = field(default_factory=list)
    no_grad: bool = False
    returned: V = EMPTY
    is_loss: bool = False  # the returned value is a loss (compute_loss)
    self_class: Optional[ClassInfo] = None  # a criterion module whose methods run: self.loss_labels(...)


def union(values: Sequence[V]) -> V:
    parts: Dict[Key, Optional[str]] = {}
    data = False
    model = None
    for value in values:
        data = data or value.data
        model = model or value.model
        for key, guard in value.parts:
            if key in parts:
                parts[key] = None if parts[key] is None or guard is None else parts[key]
            else:
                parts[key] = guard
        for item in value.items or ():
            for key, guard in union([item]).parts:
                parts.setdefault(key, guard)
    return V(tuple(parts.items()), data, model)


def _merge(a: Optional[V], b: Optional[V], test: Optional[str]) -> V:
    """The value after ``if test: (a) else: (b)``; a part present on one side only is conditional."""
    a = a or EMPTY
    b = b or EMPTY
    pa, pb = a.part_map(), b.part_map()
    parts: Dict[Key, Optional[str]] = {}
    for key in list(pa) + [k for k in pb if k not in pa]:
        ga, gb = pa.get(key, _MISSING), pb.get(key, _MISSING)
        if ga is not _MISSING and gb is not _MISSING:
            parts[key] = None if ga is None and gb is None else (ga or gb)  # type: ignore[assignment]
        elif ga is not _MISSING:
            parts[key] = ga or test  # type: ignore[assignment]
        else:
            parts[key] = gb or (f"not ({test})" if test else None)  # type: ignore[assignment]
    return V(tuple(parts.items()), a.data or b.data, a.model or b.model)


def _unguard(value: V, guard: str) -> V:
    """The parts held under exactly ``guard`` (a branch's own test), held on that branch without condition."""
    value = union([value]) if value.items else value
    return V(tuple((k, None if g == guard else g) for k, g in value.parts), value.data, value.model)


def _guarded(value: V, guard: Optional[str]) -> V:
    if guard is None:
        return value
    value = union([value]) if value.items else value
    return V(tuple((k, g or guard) for k, g in value.parts), value.data, value.model)


_MUTATING_METHODS = ("update", "append", "extend", "add", "setdefault", "insert", "__setitem__")


def _mutates_parameters(func: FunctionNode) -> bool:
    """Whether a function stores into its parameters (``losses["aux"] = ...``, ``out.update(...)``)."""
    cached = getattr(func, "_ddp_mutates", None)  # kept on the node: no id reuse across files
    if cached is None:
        params = {a.arg for a in func.args.posonlyargs + func.args.args + func.args.kwonlyargs} - {"self"}
        found = False
        for node in walk(func):
            if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, ast.Store):
                base = node.value
                found = isinstance(base, ast.Name) and base.id in params
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                    node.func.attr in _MUTATING_METHODS):
                base = node.func.value
                found = isinstance(base, ast.Name) and base.id in params
            if found:
                break
        cached = found
        setattr(func, "_ddp_mutates", found)
    return bool(cached)


def _backpropagates_parameter(func: FunctionNode) -> bool:
    """Whether a function backpropagates one of its parameters (``scaler.scale(loss).backward()``,
    ``accelerator.backward(loss)``, ``loss.backward()`` with ``loss`` a parameter)."""
    params = {a.arg for a in func.args.posonlyargs + func.args.args + func.args.kwonlyargs} - {"self"}
    for node in walk(func):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _BACKWARD_HOLDERS:
            target = node.args[0] if node.args else node.func.value
            if any(isinstance(n, ast.Name) and n.id in params for n in walk(target)):
                return True
    return False


_HELPERS: "weakref.WeakKeyDictionary[FileIndex, FrozenSet[str]]" = weakref.WeakKeyDictionary()


def backward_helpers(index: FileIndex) -> FrozenSet[str]:
    """Module-level functions of the file that backpropagate what they are given (open_clip's
    ``backward(total_loss, scaler)``): a scope that calls one with a value is training code too. Read from the
    file's scopes (built once per file); only the functions that call ``.backward()`` themselves are walked."""
    found = _HELPERS.get(index)
    if found is None:

        names = set()
        for scope in scopes_of(index):
            func = scope.node
            if (scope.has_backward and scope.owner is None and scope.parent is not None
                    and scope.parent.parent is None and isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and _backpropagates_parameter(func)):
                names.add(func.name)
        found = _HELPERS[index] = frozenset(names)
    return found


def calls_backward_helper(node: ast.AST, index: FileIndex) -> bool:
    """A call of one of the file's backward helpers with an argument (``backward(total_loss, scaler)``)."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and bool(node.args or node.keywords)
            and node.func.id in backward_helpers(index))


def _exiting_side(stmt: ast.If) -> Optional[str]:
    """"body" or "orelse": the one side of an ``if`` that leaves the loop iteration or the function (``continue``,
    ``break``, ``return``); None when neither or both do. A ``raise`` is not an exit here: training stops, no
    step goes without a gradient."""
    exits = (ast.Continue, ast.Break, ast.Return)
    body = bool(stmt.body) and isinstance(stmt.body[-1], exits)
    orelse = bool(stmt.orelse) and isinstance(stmt.orelse[-1], exits)
    if body == orelse:
        return None
    return "body" if body else "orelse"


def _nonempty_test(test: ast.expr) -> Optional[str]:
    """The list a test asks to be non-empty: ``xs``, ``len(xs)``, ``len(xs) > 0``, ``len(xs) != 0``."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Gt, ast.NotEq)) and (
            isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value == 0):
        test = test.left
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "len" and len(
            test.args) == 1 and not test.keywords:
        test = test.args[0]
    return test.id if isinstance(test, ast.Name) else None


def _callable_object(resolver: "Resolver", call: ast.Call) -> Optional[ClassInfo]:
    """The class of ``Criterion(...)`` when it is a project class (this file or another file of the project) that
    defines ``__call__`` and is not a module: a loss object whose ``__call__`` is loss code."""
    index = resolver.index
    qual = index.qualify(call.func)
    if qual is None:
        return None
    info = index.local_class(qual) or project.resolve_class(index, qual, resolver.settings)
    if info is None or info.module.module_kind(info):
        return None
    return info if any("__call__" in o.methods for o in info.module.mro(info)[0]) else None


def _module_holders(func: FunctionNode) -> Set[str]:
    """Names a function calls (``model(x)``, ``model.module(x)``) or hands to a plain function call
    (``compute_loss(model, batch)``): only those parameters are resolved through the project's call sites."""
    names: Set[str] = set()
    for node in walk(func):
        if not isinstance(node, ast.Call):
            continue
        target = node.func
        if isinstance(target, ast.Attribute) and target.attr in ("module", "forward", "_orig_mod"):
            target = target.value
        if isinstance(target, ast.Name):
            names.add(target.id)
        if isinstance(node.func, ast.Name):
            names.update(a.id for a in node.args if isinstance(a, ast.Name))
            names.update(k.value.id for k in node.keywords if isinstance(k.value, ast.Name))
    return names


class LossRun:
    """Interprets training code from one entry scope; collects model calls (sources) and what reaches
    the loss (roots)."""

    def __init__(self, resolver: "Resolver") -> None:
        self.resolver = resolver
        self.index = resolver.index
        self.sources: List[Source] = []
        self.roots: Dict[Key, Optional[str]] = {}
        self.budget = _MAX_STATEMENTS
        self.depth = 0
        self.stack: Set[int] = set()
        self.has_root = False
        self.backward_sites: Set[int] = set()  # the calls that backpropagate (one per step in most loops)
        self.nesting = 0

    # ---- entry points ----
    def run_entry(self, scope: "Scope") -> None:
        func = scope.node
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return
        frame = _Frame(self.resolver, scope, {}, None, is_loss=func.name in _LOSS_ENTRIES)
        step = func.name in _LOSS_ENTRIES or func.name.endswith("_step")
        held = _module_holders(func)
        for name in scope.params:
            if name in ("self", "cls"):
                continue
            ref = self._model_ref(self.resolver, ast.Name(id=name, ctx=ast.Load()), scope, (func.lineno, 0)) if (
                name in held) else None
            obj = self._bound_object(name, scope) if name in held and ref is None else None
            frame.env[name] = V(model=ref) if ref is not None else V(obj=obj) if obj is not None else V(data=step)
        self.stack.add(id(func))
        try:
            self._block(func.body, frame)
        except (_TooDeep, RecursionError):
            self.sources, self.roots, self.has_root = [], {}, False
            return
        if frame.is_loss:
            self.backward_sites.add(id(func))
            self._root(frame.returned, None)

    # ---- statements ----
    def _block(self, body: Sequence[ast.stmt], frame: _Frame) -> None:
        self.nesting += 1
        if self.nesting > _MAX_NESTING:
            raise _TooDeep()
        for i, stmt in enumerate(body):
            self.budget -= 1
            if self.budget <= 0:
                break
            if self._stmt(stmt, frame, body[i + 1:]):
                break  # the statements after it ran as one side of it
        self.nesting -= 1

    def _stmt(self, stmt: ast.stmt, frame: _Frame, rest: Sequence[ast.stmt] = ()) -> bool:
        """Interprets one statement; True when it also ran ``rest``, the statements after it in its block."""
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            if stmt.value is None:
                return False
            value = self._eval(stmt.value, frame)
            if value.model is None and isinstance(stmt.value, ast.Call) and not value.parts:
                ref = self._model_ref(frame.resolver, stmt.value, frame.scope, (stmt.lineno, stmt.col_offset + 1))
                obj = _callable_object(frame.resolver, stmt.value) if ref is None else None
                if ref is not None:
                    value = V(model=ref)
                elif obj is not None:
                    value = V(obj=obj)
            if frame.no_grad:
                value = V(data=value.data, model=value.model)
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                self._assign(target, value, frame)
        elif isinstance(stmt, ast.AugAssign):
            value = union([self._eval(stmt.target, frame), self._eval(stmt.value, frame)])
            self._assign(stmt.target, value, frame)
        elif isinstance(stmt, ast.Expr):
            self._eval(stmt.value, frame)
        elif isinstance(stmt, ast.Return):
            if stmt.value is not None:
                value = self._loss_part(stmt.value, frame) if frame.is_loss else self._eval(stmt.value, frame)
                frame.returned = union([frame.returned, _guarded(value, frame.guards[-1] if frame.guards else None)])
        elif isinstance(stmt, ast.If):
            test = self._eval(stmt.test, frame)
            text = ast.unparse(stmt.test) if test.data else None
            side = _exiting_side(stmt) if rest and text else None
            # `if len(inst) == 0: continue` / `if num_pos == 0: return loss_cls`: the statements after it run as
            # the other side of the test
            body = list(stmt.body) + (list(rest) if side == "orelse" else [])
            orelse = list(stmt.orelse) + (list(rest) if side == "body" else [])
            self._branches(body, orelse, text, frame, _nonempty_test(stmt.test))
            return side is not None
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            iterable = self._eval(stmt.iter, frame)
            training_loop = any(isinstance(n, ast.Call) and (self._is_backward(n) or calls_backward_helper(
                n, frame.resolver.index)) for n in walk(stmt))
            self._bind_loop(stmt.target, stmt.iter, iterable, training_loop, frame)
            self._block(stmt.body, frame)
            self._block(stmt.orelse, frame)
        elif isinstance(stmt, ast.While):
            self._eval(stmt.test, frame)
            self._block(stmt.body, frame)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            no_grad = frame.no_grad
            for item in stmt.items:
                expr = item.context_expr
                func = expr.func if isinstance(expr, ast.Call) else expr
                if frame.resolver.index.qualify(func) in _NO_GRAD_CONTEXTS:
                    frame.no_grad = True
                elif item.optional_vars is not None:
                    self._assign(item.optional_vars, self._eval(expr, frame), frame)
            self._block(stmt.body, frame)
            frame.no_grad = no_grad
        elif isinstance(stmt, ast.Try):
            self._block(stmt.body, frame)
            for handler in stmt.handlers:
                self._block(handler.body, frame)
            self._block(stmt.orelse, frame)
            self._block(stmt.finalbody, frame)
        return False

    def _branches(self, body: Sequence[ast.stmt], orelse: Sequence[ast.stmt], test: Optional[str],
                  frame: _Frame, nonempty: Optional[str] = None) -> None:
        before = dict(frame.env)
        returned = frame.returned
        frame.guards.append(test) if test else None
        frame.returned = EMPTY
        held = frame.env.get(nonempty) if nonempty else None
        guards = {g for _, g in held.parts} if held is not None else set()
        if held is not None and len(guards) == 1 and None not in guards:
            # `if len(box_losses):` with every entry appended under one condition: inside, it held at least once
            frame.env[nonempty] = V(tuple((k, None) for k, _ in held.parts), held.data, held.model)  # type: ignore
        self._block(body, frame)
        body_env, body_ret = frame.env, frame.returned
        if test:
            frame.guards[-1] = f"not ({test})"
        frame.env, frame.returned = dict(before), EMPTY
        self._block(orelse, frame)
        else_env, else_ret = frame.env, frame.returned
        if test:
            frame.guards.pop()
        merged: Dict[str, V] = {}
        for name in set(body_env) | set(else_env):
            a, b = body_env.get(name), else_env.get(name)
            merged[name] = a if a is b and a is not None else _merge(a, b, test)
        frame.env = merged
        if test:  # `if c: return a` / `else: return b`: what both sides return is returned on every path
            body_ret = _unguard(body_ret, test)
            else_ret = _unguard(else_ret, f"not ({test})")
            if body_ret.parts and else_ret.parts:
                body_ret, else_ret = _merge(body_ret, else_ret, test), EMPTY
            else:
                body_ret, else_ret = _guarded(body_ret, test), _guarded(else_ret, f"not ({test})")
        frame.returned = union([returned, body_ret, else_ret])

    def _bind_loop(self, target: ast.expr, iter_node: ast.expr, iterable: V, training_loop: bool,
                   frame: _Frame) -> None:
        counter = iter_node.func.id if isinstance(iter_node, ast.Call) and isinstance(iter_node.func, ast.Name) else ""
        element = V(iterable.parts, training_loop or iterable.data)
        if counter == "enumerate" and isinstance(target, ast.Tuple) and target.elts:
            self._assign(target.elts[0], V(data=training_loop), frame)  # the index: per batch only in the loop
            for elt in target.elts[1:]:
                self._assign(elt, element, frame)
            return
        if counter == "range":
            element = V(data=training_loop)
        self._assign(target, element, frame)

    def _assign(self, target: ast.expr, value: V, frame: _Frame) -> None:
        if isinstance(target, ast.Name):
            frame.env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            for i, elt in enumerate(target.elts):
                if isinstance(elt, ast.Starred):
                    self._assign(elt.value, self._strip(value), frame)
                    continue
                self._assign(elt, self._item(value, i), frame)
        elif isinstance(target, ast.Subscript):  # losses["box"] = ...: the container holds it too
            name = target.value
            if isinstance(name, ast.Name):
                frame.env[name.id] = union([frame.env.get(name.id, EMPTY), value])
        # attributes of objects (self.x = ...) are not followed

    # ---- expressions ----
    def _eval(self, node: ast.expr, frame: _Frame) -> V:
        self.nesting += 1
        if self.nesting > _MAX_NESTING:
            raise _TooDeep()
        try:
            return self._eval_node(node, frame)
        finally:
            self.nesting -= 1

    def _eval_node(self, node: ast.expr, frame: _Frame) -> V:
        if isinstance(node, ast.Name):
            return frame.env.get(node.id, EMPTY)
        if isinstance(node, ast.Constant):
            return EMPTY
        if isinstance(node, ast.Attribute):
            base = self._eval(node.value, frame)
            if base.model is not None and node.attr in ("module", "_orig_mod", "forward"):
                return V(model=base.model)
            return self._project(base, node.attr)
        if isinstance(node, ast.Subscript):
            base = self._eval(node.value, frame)
            index = node.slice
            self._eval(index, frame)
            if isinstance(index, ast.Constant) and isinstance(index.value, (int, str)) and not isinstance(
                    index.value, bool):
                if base.items is not None and isinstance(index.value, int):
                    return self._item(base, index.value)
                return self._project(base, index.value)
            return self._strip(base)
        if isinstance(node, ast.Call):
            return self._call(node, frame)
        if isinstance(node, (ast.Tuple, ast.List)):
            items = tuple(self._eval(e.value if isinstance(e, ast.Starred) else e, frame) for e in node.elts)
            return V(union(list(items)).parts, any(i.data for i in items), None, items)
        if isinstance(node, ast.Compare):
            values = [self._eval(node.left, frame)] + [self._eval(c, frame) for c in node.comparators]
            return V(data=any(v.data for v in values))  # a comparison passes no gradient
        if isinstance(node, ast.IfExp):
            test = self._eval(node.test, frame)
            text = ast.unparse(node.test) if test.data else None
            return _merge(self._eval(node.body, frame), self._eval(node.orelse, frame), text)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            for gen in node.generators:
                self._assign(gen.target, self._strip(self._eval(gen.iter, frame)), frame)
            elts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            return union([self._eval(e, frame) for e in elts])
        if isinstance(node, ast.Dict):
            return union([self._eval(v, frame) for v in node.values] + [
                self._eval(k, frame) for k in node.keys if k is not None])
        if isinstance(node, ast.Lambda):
            return EMPTY
        return union([self._eval(child, frame) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr)])

    @staticmethod
    def _strip(value: V) -> V:
        return union([value]) if value.items is not None else value

    @staticmethod
    def _item(value: V, i: int) -> V:
        if value.items is not None:
            if -len(value.items) <= i < len(value.items):
                return value.items[i]
            return EMPTY
        return LossRun._project(value, i)

    @staticmethod
    def _project(value: V, part: object) -> V:
        """``out[0]``/``out.logits`` of a whole model output is that part; of anything else, itself."""
        value = LossRun._strip(value)
        parts = tuple(((n, part) if p == WHOLE else (n, p), g) for (n, p), g in value.parts)
        return V(parts, value.data, None)

    def _call(self, node: ast.Call, frame: _Frame) -> V:
        func = node.func
        # compute_loss(self.model, batch): a trainer's model handed on to a function (not a builtin)
        plain = isinstance(func, ast.Name) and func.id not in _BUILTINS
        args = [(plain and self._self_model(a, frame))
                or self._eval(a.value if isinstance(a, ast.Starred) else a, frame) for a in node.args]
        kwargs = {k.arg: self._eval(k.value, frame) for k in node.keywords if k.arg is not None}
        spread = [self._eval(k.value, frame) for k in node.keywords if k.arg is None]
        if spread:  # f(**out): each parameter gets the entry of its name
            kwargs[_SPREAD] = union(spread)
        everything = list(args) + list(kwargs.values())
        if self._is_backward(node):
            self.backward_sites.add(id(node))
            target = args[0] if args else self._eval(func.value, frame)  # type: ignore[attr-defined]
            self._root(target, frame.guards[-1] if frame.guards else None)
            return EMPTY
        if isinstance(func, ast.Attribute) and func.attr not in _DETACHING_METHODS:
            callee = self._self_model(func, frame) or self._eval(func, frame)
            if callee.model is not None:
                return self._apply(callee.model, node, args, kwargs, frame)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self" and (
                frame.self_class is not None):
            method = next((o.methods[func.attr] for o in frame.self_class.module.mro(frame.self_class)[0]
                           if func.attr in o.methods), None)
            if method is not None:
                result = self._run_function(frame.self_class.module, method, args, kwargs, node, frame,
                                            skip_self=True, self_class=frame.self_class)
                if result is not None:
                    return result
        if isinstance(func, ast.Attribute) and func.attr in ("prepare", "prepare_model"):
            return V(items=tuple(args)) if len(args) > 1 else (args[0] if args else EMPTY)  # accelerate
        if isinstance(func, ast.Attribute):
            receiver = self._eval(func.value, frame)
            if func.attr in _DETACHING_METHODS:
                return V(data=receiver.data or any(v.data for v in everything))
            if func.attr in _MUTATING_METHODS and isinstance(
                    func.value, ast.Name) and receiver.model is None:
                frame.env[func.value.id] = union([receiver] + everything)  # losses.update(...): held by it
                return EMPTY
            if receiver.model is not None and func.attr in ("forward", "__call__"):
                return self._apply(receiver.model, node, args, kwargs, frame)
            result = union(everything) if receiver.model is not None else union([receiver] + everything)
            return V(result.parts, True)  # model.loss(outputs, y): unknown code keeps what it is given
        callee = self._eval(func, frame) if isinstance(func, ast.Name) else EMPTY
        if callee.model is not None:
            return self._apply(callee.model, node, args, kwargs, frame)
        if callee.obj is not None and any(v.parts for v in everything):  # criterion(outputs, targets)
            result = self._call_object(callee.obj, node, args, kwargs, frame)
            if result is not None:
                return result
        if isinstance(func, ast.Name) and func.id in _STOPPING_FUNCTIONS:
            return V(data=any(v.data for v in everything))
        followed = self._follow_function(node, args, kwargs, frame)
        if followed is not None:
            return followed
        if not any(v.parts for v in everything):  # `DDP(Net())`, `Net().to(device)` passed on as an argument
            ref = self._model_ref(frame.resolver, node, frame.scope, (node.lineno, node.col_offset + 1))
            if ref is not None:
                return V(model=ref)
        result = union(everything)
        return V(result.parts, result.data)

    def _apply(self, ref: ModelRef, node: ast.Call, args: List[V], kwargs: Dict[str, V], frame: _Frame) -> V:
        """A module instance called: the model (a new source), or a criterion applied to model outputs."""
        everything = list(args) + list(kwargs.values())
        if any(v.parts for v in everything) and self._trainable(ref):
            # a model fed another model's output (XLM's decoder given the encoder's output): a model call of
            # its own, and what it is given flows on with its output (its inside is the summaries' business)
            number = self._add_source(ref, node, frame)
            given = union(everything)
            return V(((((number, WHOLE)), None),) + given.parts, True)
        if any(v.parts for v in everything):  # a criterion module: follow its forward
            forward = next((o.methods["forward"] for o in ref.info.module.mro(ref.info)[0] if "forward" in o.methods),
                           None)
            if forward is not None:
                result = self._run_function(ref.info.module, forward, args, kwargs, node, frame, skip_self=True,
                                            self_class=ref.info)
                if result is not None:
                    return result
            result = union(everything)
            return V(result.parts, True)
        if frame.no_grad:
            return V(data=True)
        number = self._add_source(ref, node, frame)
        return V(((((number, WHOLE)), None),), True)

    def _add_source(self, ref: ModelRef, node: ast.Call, frame: _Frame) -> int:
        number = len(self.sources)
        anchor = frame.anchor or node
        self.sources.append(Source(number, node, frame.resolver.index, ref, anchor,
                                   frame.guards[-1] if frame.guards else None))
        return number

    @staticmethod
    def _trainable(ref: ModelRef) -> bool:
        """Whether the module has trainable parts of its own (a loss module usually has none)."""
        ev = ref.resolver.evidence(ref.info)
        return ev is not None and ev.report.facts is not None and bool(ev.report.facts.init.attrs)

    def _follow_function(self, node: ast.Call, args: List[V], kwargs: Dict[str, V], frame: _Frame) -> Optional[V]:
        """A call of a project function (same file, or imported from another file of the project)."""
        index = frame.resolver.index
        qual = index.qualify(node.func)
        if qual is None or not any(v.parts or v.model for v in list(args) + list(kwargs.values())):
            return None
        name = qual.rsplit(".", 1)[-1]
        if qual == index.qualify_dotted(name) and name in index.functions:
            return self._run_function(index, index.functions[name], args, kwargs, node, frame, skip_self=False)
        found = project.resolve_function(index, qual, frame.resolver.settings)
        if found is None:
            return None
        return self._run_function(found[0], found[1], args, kwargs, node, frame, skip_self=False)  # type: ignore

    def _run_function(self, index: FileIndex, func: FunctionNode, args: List[V], kwargs: Dict[str, V],
                      node: ast.Call, frame: _Frame, skip_self: bool, self_class: Optional[ClassInfo] = None
                      ) -> Optional[V]:
        if self.depth >= _MAX_DEPTH or id(func) in self.stack or self.budget <= 0:
            return None
        scope = next((s for s in scopes_of(index) if s.node is func), None)
        if scope is None:
            return None
        resolver = frame.resolver.for_file(index)
        params = [a.arg for a in func.args.posonlyargs + func.args.args]
        if skip_self and params:
            params = params[1:]
        env: Dict[str, V] = {name: EMPTY for name in scope.params}
        for name, value in zip(params, args):
            env[name] = value
        given = set(params[:len(args)])
        unmatched: List[V] = []
        for name, value in kwargs.items():
            if name in env and name != _SPREAD:
                env[name] = value
                given.add(name)
            elif name != _SPREAD:
                unmatched.append(value)
        if func.args.kwarg is not None and unmatched:  # forward(self, mode, **kwargs) called with x=...
            env[func.args.kwarg.arg] = union(unmatched)
        if _SPREAD in kwargs:
            named = [a.arg for a in func.args.posonlyargs + func.args.args + func.args.kwonlyargs]
            for name in named[int(skip_self):]:
                if name not in given:
                    env[name] = self._project(kwargs[_SPREAD], name)
            if func.args.kwarg is not None:
                env[func.args.kwarg.arg] = kwargs[_SPREAD]
        if _mutates_parameters(func):
            return None  # it hands results back through its arguments: not followed (everything is kept)
        anchor = frame.anchor
        if anchor is None and index is not self.index:
            anchor = node  # sources in another file are reported on the call in the linted file
        inner = _Frame(resolver, scope, env, anchor, list(frame.guards), frame.no_grad, self_class=self_class)
        self.depth += 1
        self.stack.add(id(func))
        try:
            self._block(func.body, inner)
        finally:
            self.depth -= 1
            self.stack.discard(id(func))
        return inner.returned

    # ---- criterion objects: instances of project classes with __call__ that are not modules ----
    def _call_object(self, info: ClassInfo, node: ast.Call, args: List[V], kwargs: Dict[str, V], frame: _Frame
                     ) -> Optional[V]:
        method = next((o.methods["__call__"] for o in info.module.mro(info)[0] if "__call__" in o.methods), None)
        if method is None:
            return None
        return self._run_function(info.module, method, args, kwargs, node, frame, skip_self=True, self_class=info)

    def _bound_object(self, name: str, scope: "Scope") -> Optional[ClassInfo]:
        """A parameter that every call site of its function binds to one criterion object's class
        (``train_one_epoch(model, criterion, ...)`` called with ``criterion = SetCriterion(...)``)."""
        found: Optional[ClassInfo] = None
        sites = self.resolver.bindings(ast.Name(id=name, ctx=ast.Load()), scope, 0)
        for resolver, expr, where, pos in sites:
            if isinstance(expr, ast.Name):
                looked = where.lookup(expr.id, pos)
                expr = looked[1] if looked is not None and looked[2] is None else None
            info = _callable_object(resolver, expr) if isinstance(expr, ast.Call) else None
            if info is None or (found is not None and (info.module, info.name) != (found.module, found.name)):
                return None
            found = info
        return found

    # ---- helpers ----
    def _self_model(self, node: ast.expr, frame: _Frame) -> Optional[V]:
        """``self.model`` called or passed on: the module a trainer class holds (its constructor's argument)."""
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"):
            return None
        if frame.self_class is not None or "self" in frame.env:
            return None  # inside a criterion module: self.x is one of its own parts
        ref = self._model_ref(frame.resolver, node, frame.scope, (node.lineno, node.col_offset))
        return V(model=ref) if ref is not None else None

    def _model_ref(self, resolver: "Resolver", node: ast.expr, scope: "Scope", before: Tuple[int, int]
                   ) -> Optional[ModelRef]:
        info, origin = resolver.model_origin(node, scope, before)
        return ModelRef(resolver, node, scope, before, info, origin) if info is not None else None

    @staticmethod
    def _is_backward(node: ast.Call) -> bool:
        func = node.func
        return isinstance(func, ast.Attribute) and func.attr in _BACKWARD_HOLDERS

    def _root(self, value: V, guard: Optional[str]) -> None:
        self.has_root = True
        for key, g in union([value]).parts:
            g = g or guard
            if key in self.roots:
                self.roots[key] = None if self.roots[key] is None or g is None else self.roots[key]
            else:
                self.roots[key] = g

    def _loss_part(self, node: ast.expr, frame: _Frame) -> V:
        """The loss in what ``compute_loss`` returns: ``(loss, outputs) if return_outputs else loss``."""
        if isinstance(node, ast.IfExp):
            return union([self._loss_part(node.body, frame), self._loss_part(node.orelse, frame)])
        if isinstance(node, ast.Tuple) and node.elts:
            return self._eval(node.elts[0], frame)
        return self._eval(node, frame)

    # ---- results ----
    def reached(self, source: Source) -> Tuple[Set[object], Dict[object, str], bool]:
        """Parts of one source that reach the loss on every batch, those that reach it only under a
        condition (with it), and whether the whole output reaches it on every batch."""
        always: Set[object] = set()
        some: Dict[object, str] = {}
        for (number, part), guard in self.roots.items():
            if number != source.number:
                continue
            if guard is None or guard == source.guard:
                always.add(part)  # under the model call's own condition: on every batch the model runs
            else:
                some.setdefault(part, guard)
        for part in always:
            some.pop(part, None)
        return always, some, WHOLE in always
