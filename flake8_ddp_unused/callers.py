"""Optional arguments decided by the caller: a child that uses a submodule only when an optional argument of
its ``forward`` is given, owned by a parent that never passes that argument to it (or to one instance of it).

``if residual is not None: h = h + self.residual_layer1(residual)`` alone says nothing about training: the
argument may come with every batch (DDP901, off by default). When the class that owns the child calls it
without the argument, that instance's submodule gets no gradient in any iteration: transformers' DPT calls
its first fusion layer as ``self.layers[0](hidden_states[0])`` and the others with a residual, so
``layers.0.residual_layer1`` never runs. The finding (DDP001) names that path on the parent's
``self.layers = ...`` line, as torch names the parameters.

Decided only where every read of the child in the parent's methods is a call read here (``self.head(...)``,
``self.layers[0](...)``, a loop over ``self.layers`` or a slice ``[i:]`` of it, also inside
``zip``/``enumerate``, whose variable is only called), the child's class is a class of the same file whose
entry is ``forward``, and nothing outside the parent reads the child (the file's external reads).
``*args``/``**kwargs`` at a call count as passing everything. Anything else: silent.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

from .values import OPTIONAL, Guard
from .index import ClassInfo, FunctionNode, dotted_name, walk
from .registry import rules_by_code
from .rules import FIX_TEXT, ClassFacts, Finding, Verdict

_ITERATION_HELPERS = {"zip", "enumerate", "reversed", "list", "tuple", "iter"}
_MAX_CALLS = 64

# The instances of a child one call reaches: None = every instance (a single module, or all of a container);
# ("at", i) = container element i; ("from", i) = elements i, i+1, ... (a slice `[i:]`)
Span = Optional[Tuple[str, int]]
Child = Tuple[ClassInfo, ClassFacts, Dict[str, Verdict]]


@dataclass(frozen=True)
class Call:
    span: Span
    passed: Optional[FrozenSet[str]]  # parameters the call passes; None: unknown (`*args`, `**kwargs`)
    text: str  # the callee as written: self.layers[0]


class _Unknown(Exception):
    """A read of the child this module does not follow: nothing is decided."""


def omitted_argument_findings(info: ClassInfo, facts: ClassFacts, children: Dict[str, Child],
                              external_reads: Set[str], decided: Set[Tuple[str, str]]) -> List[Finding]:
    """DDP001 findings for submodules of ``info``'s children that no call of ``info`` lets run. ``decided``
    receives (child class, submodule) for every child whose calls here were all read: the project's call
    sites decide its optional argument, so the child's own DDP901 (a batch may lack it) is not reported."""
    found: List[Finding] = []
    mro = info.module.mro(info)[0]
    for name, attr in facts.init.attrs.items():
        if attr.frozen or name in external_reads or name in facts.init.shared or name in facts.init.held_in or (
                name in facts.init.handed):
            continue
        child = _child_class(info, name, attr.built.kind, attr.built.ctor)
        if child is None or child not in children:
            continue
        child_info, child_facts, verdicts = children[child]
        forward = _forward(child_info)
        if forward is None or child_facts.entry != "forward" or child_facts.flow.silent:
            continue
        needs = _presence_needs(child_facts, verdicts, forward)
        if not needs:
            continue
        try:
            calls = _calls_of(mro, name, _parameters(forward))
        except _Unknown:
            continue
        for sub, required in sorted(needs.items()):
            if all(c.passed is not None for c in calls):
                decided.add((child, sub))
            for span, call in _dead_spans(calls, required, attr.built.kind == "container"):
                path = f"self.{name}.{sub}" if span is None else f"self.{name}.{span[1]}.{sub}"
                message = rules_by_code()["DDP001"].extra["caller_message"].format(
                    attr=path, cls=facts.name, entry=f"{facts.entry}()", call=call.text,
                    arg=" or ".join(sorted(required)), fix=FIX_TEXT.get(facts.framework, FIX_TEXT["torch"]))
                found.append(Finding("DDP001", attr.line, attr.col, message, facts.name, path, name))
    return found


def _child_class(info: ClassInfo, name: str, kind: str, ctor: str) -> Optional[str]:
    """The class (of this file) whose instances ``self.<name>`` holds."""
    module = info.module
    if kind == "module_class":
        target = module.local_class(module.qualify_dotted(ctor))
        return target.name if target is not None and target.module is module else None
    init = info.methods.get("__init__")
    if kind != "container" or init is None:
        return None
    built: Set[str] = set()
    for stmt in walk(init):
        if not isinstance(stmt, (ast.Assign, ast.Expr)) or not _writes(stmt, name):
            continue
        for node in walk(stmt):
            if isinstance(node, ast.Call):
                target = module.local_class(module.qualify_dotted(dotted_name(node.func) or ""))
                if target is not None:
                    built.add(target.name if target.module is module else "?")
    return next(iter(built)) if len(built) == 1 else None


def _writes(stmt: ast.stmt, name: str) -> bool:
    """`self.<name> = ...` or `self.<name>.append(...)` (`extend`, `insert`)."""
    if isinstance(stmt, ast.Assign):
        return any(_is_self_attr(t, name) for t in stmt.targets)
    call = getattr(stmt, "value", None)
    return isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in (
        "append", "extend", "insert") and _is_self_attr(call.func.value, name)


def _is_self_attr(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == name and isinstance(node.value, ast.Name) and (
        node.value.id == "self")


def _forward(info: ClassInfo) -> Optional[FunctionNode]:
    for owner in info.module.mro(info)[0]:
        if "forward" in owner.methods:
            return owner.methods["forward"]
    return None


def _parameters(func: FunctionNode) -> List[str]:
    return [a.arg for a in func.args.posonlyargs + func.args.args][1:]


def _optional_parameters(func: FunctionNode) -> Set[str]:
    """Parameters of ``forward`` that a call may leave out and that are then None or False."""
    positional = func.args.posonlyargs + func.args.args
    pairs = list(zip(positional[len(positional) - len(func.args.defaults):], func.args.defaults))
    pairs += [(a, d) for a, d in zip(func.args.kwonlyargs, func.args.kw_defaults) if d is not None]
    return {a.arg for a, d in pairs if isinstance(d, ast.Constant) and d.value in (None, False)
            and not _assigned_before_test(func, a.arg)}


def _assigned_before_test(func: FunctionNode, name: str) -> bool:
    """The parameter is rebound before the first `if` that tests it (rebinding under that test is fine:
    `if residual is not None: residual = interpolate(residual)`)."""
    tests = [n.lineno for n in walk(func) if isinstance(n, ast.If)
             and any(isinstance(m, ast.Name) and m.id == name for m in walk(n.test))]
    stores = [n.lineno for n in walk(func)
              if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)]
    return any(line < min(tests) for line in stores) if tests else bool(stores)


def _presence_parameter(guard: Guard) -> Optional[str]:
    """`x is not None` / `x` on their true side, `x is None` on its false side: the parameter x."""
    try:
        test = ast.parse(guard.key or guard.text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError):
        return None
    if isinstance(test, ast.Name):
        return test.id if guard.polarity else None
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name) and isinstance(
            test.comparators[0], ast.Constant) and test.comparators[0].value is None:
        if isinstance(test.ops[0], ast.IsNot) and guard.polarity or isinstance(test.ops[0], ast.Is) and (
                not guard.polarity):
            return test.left.id
    return None


def _presence_needs(facts: ClassFacts, verdicts: Dict[str, Verdict],
                    forward: FunctionNode) -> Dict[str, FrozenSet[str]]:
    """Submodules of the child used only when optional parameters of its ``forward`` are given: name -> the
    parameters whose absence leaves every use of it dead (each use is guarded by a test on each)."""
    optional = _optional_parameters(forward)
    needs: Dict[str, FrozenSet[str]] = {}
    for name, verdict in verdicts.items():
        if verdict.status != "optional" or facts.init.attrs[name].built_under is not None:
            continue  # built only under a constructor condition: the owner's instance may not have it
        uses = [u for u in facts.flow.uses if u.attr == name and not u.test_only]
        required: Optional[Set[str]] = None
        for use in uses:
            params = {_presence_parameter(g) for g in use.guards if g.kind == OPTIONAL} & optional
            if use.method != "forward" or not params:
                required = None
                break
            required = params if required is None else required & params
        if uses and required:
            needs[name] = frozenset(required)
    return needs


def _calls_of(mro: List[ClassInfo], name: str, params: List[str]) -> List[Call]:
    """Every call of ``self.<name>`` in the parent's methods (raises _Unknown on any other read)."""
    calls: List[Call] = []
    for owner in mro:
        for method, func in owner.methods.items():
            if method == "__init__":
                continue
            parents = {id(child): node for node in walk(func) for child in ast.iter_child_nodes(node)}
            for node in walk(func):
                if _is_self_attr(node, name):
                    calls += _calls_at(node, parents, params)
                if len(calls) > _MAX_CALLS:
                    raise _Unknown
    return calls


def _calls_at(node: ast.Attribute, parents: Dict[int, ast.AST], params: List[str]) -> List[Call]:
    parent = parents.get(id(node))
    if isinstance(parent, ast.Call) and parent.func is node:
        return [Call(None, _passed(parent, params), ast.unparse(node))]
    if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id == "len":
        return []
    span: Span = None
    source: ast.AST = node
    if isinstance(parent, ast.Subscript) and parent.value is node:
        index = parent.slice
        outer = parents.get(id(parent))
        if _non_negative(index) and isinstance(outer, ast.Call) and outer.func is parent:
            position = index.value  # type: ignore[attr-defined]
            return [Call(("at", position), _passed(outer, params), ast.unparse(parent))]
        if not (isinstance(index, ast.Slice) and index.upper is None and index.step is None and (
                index.lower is None or _non_negative(index.lower))):
            raise _Unknown
        span = ("from", index.lower.value if index.lower is not None else 0)  # type: ignore[attr-defined]
        source = parent
    return _loop_calls(source, span, parents, params)


def _non_negative(node: Optional[ast.AST]) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and node.value >= 0


def _loop_calls(source: ast.AST, span: Span, parents: Dict[int, ast.AST], params: List[str]) -> List[Call]:
    """`for layer in <source>` (or `zip(..., <source>)`, `enumerate(<source>)`): the calls of `layer`."""
    holder = parents.get(id(source))
    position: Optional[int] = None
    iterated = source
    if isinstance(holder, ast.Call) and isinstance(holder.func, ast.Name) and holder.func.id in _ITERATION_HELPERS:
        if holder.keywords or source not in holder.args:
            raise _Unknown
        position = holder.args.index(source) if holder.func.id == "zip" else (
            1 if holder.func.id == "enumerate" else None)
        iterated = holder
    loop = parents.get(id(iterated))
    if not isinstance(loop, ast.For) or loop.iter is not iterated:
        raise _Unknown
    target = loop.target
    if position is not None:
        if not isinstance(target, ast.Tuple) or position >= len(target.elts):
            raise _Unknown
        target = target.elts[position]
    if not isinstance(target, ast.Name):
        raise _Unknown
    text = ast.unparse(source)
    calls = []
    for stmt in loop.body:
        for node in walk(stmt):
            if isinstance(node, ast.Name) and node.id == target.id:
                user = parents.get(id(node))
                if not (isinstance(user, ast.Call) and user.func is node) or not isinstance(node.ctx, ast.Load):
                    raise _Unknown  # handed on or rebound: not followed
                calls.append(Call(span, _passed(user, params), f"{target.id} in {text}"))
    return calls


def _passed(call: ast.Call, params: List[str]) -> Optional[FrozenSet[str]]:
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    return frozenset(params[:len(call.args)]) | {k.arg for k in call.keywords if k.arg}


def _covers(span: Span, index: Optional[int]) -> bool:
    if span is None:
        return True
    if index is None:
        return False
    kind, start = span
    return index == start if kind == "at" else index >= start


def _dead_spans(calls: List[Call], required: FrozenSet[str], container: bool) -> List[Tuple[Span, Call]]:
    """The instances every call of which leaves out a required argument (and that some call runs)."""
    if container:
        candidates: List[Span] = [("at", i) for i in sorted({0} | {c.span[1] for c in calls if c.span})]
    else:
        candidates = [None]
    dead = []
    for candidate in candidates:
        index = candidate[1] if candidate else None
        covering = [c for c in calls if _covers(c.span, index)]
        if covering and all(c.passed is not None and required - c.passed for c in covering):
            dead.append((candidate, covering[0]))
    return dead
