"""Summaries: for one module class in one call context, which of its parameters feed each part of what
its ``forward`` returns (tuple items, dict keys, record fields such as ``pooler_output``), under which guards.

A parent that calls ``self.bert(...)`` and keeps only ``[0]`` / ``.last_hidden_state`` makes live only
what feeds those parts; the child's parameters that feed only the dropped parts (BERT's ``pooler``) get no
gradient. The flow interpreter asks :func:`summary_of_attr` at each ``self.child(...)`` call and gives
each part of the result a use of its own (``ModelFlow.child_output``); :func:`partial_findings`
judges which child parameters only dropped parts reach.

API for other analyses (training code, launch sites)::

    summary_for(info, context) -> Optional[Summary]
    summary.feeds(part) -> FrozenSet[Feed]      # Feed(path=("encoder", "layer"), detached, guards)

``None`` means "unknown": the caller keeps everything live. Summaries are computed on demand, bottom-up
(a child's summary is built from its own children's), once per process (memoised by file, class and
context), and bounded: nesting depth, the interpreter's step budget, and a cap on the parts kept.
Classes of installed packages (``transformers.BertModel``) are read from their sources on ``sys.path``
without importing them, like those of the project.
"""
from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from typing import Callable, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple, Union

import libcst as cst

from . import constructed, init_state, project
from .flow import EXITS, FALLS, FlowAnalyzer, Frame, _decorated_no_grad, code_of
from .index import ClassInfo, FileIndex, walk
from .nullness import NoneLinks, none_links
from .init_facts import TRAINABLE_KINDS, Built, FileFacts, InitCollector, InitFacts, TrainableAttr, file_facts
from .registry import rules_by_code
from .rules import FIX_TEXT, ClassFacts, Finding
from .values import ALWAYS, NEVER, WHOLE, GiveUp, Guard, Index, Use, Val, flatten, join

PartKey = Union[int, str]
REST = "*"  # the items after the known ones (``outputs[2:]`` of a tuple with an unknown rest); no field name
_MAX_NESTING = 4  # a summary built from summaries built from summaries ...: beyond, unknown
_MAX_PARTS = 64
_MAX_FEEDS = 2000


@dataclass(frozen=True)
class Feed:
    """One parameter-owning attribute of the summarised class (a path from it: ``("bert", "pooler")``)
    feeding a part, whether only detached, and the guards of its use inside the class."""

    path: Tuple[str, ...]
    detached: bool
    guards: Tuple[Guard, ...] = ()

    @property
    def runs(self) -> bool:
        return not any(g.kind == NEVER for g in self.guards)


@dataclass(frozen=True)
class Context:
    """The call context of a summary: attributes and flags fixed by constructor literals or defaults
    (``add_pooling_layer=True`` -> ``("pooler", True)``), and the arguments the caller passes to forward
    (positional count, keyword names; None: unknown, every parameter may be passed)."""

    flags: Tuple[Tuple[str, bool], ...] = ()
    args: Optional[Tuple[int, Tuple[str, ...]]] = None
    entry: str = "forward"  # the method called (`forward_features`)
    literals: Tuple[Tuple[str, bool], ...] = ()  # keywords passed as True/False/None (`pre_logits=True`)


@dataclass
class Summary:
    cls: ClassInfo = field(repr=False)
    context: Context
    parts: Dict[PartKey, FrozenSet[Feed]] = field(default_factory=dict, repr=False)
    whole: FrozenSet[Feed] = field(default=frozenset(), repr=False)  # feeds every part (a return path
    # without structure, an escape)
    length: int = 0  # items known by position (0..length-1)
    tail: bool = True  # more items may follow: no negative indexing
    never_judged: FrozenSet[str] = field(default=frozenset(), repr=False)  # frozen, shared, tied attributes
    rest: FrozenSet[Feed] = field(default=frozenset(), repr=False)  # what may feed the items after `length`
    unused: FrozenSet[str] = field(default=frozenset(), repr=False)  # attributes another entry than forward
    # never touches (`head` for `forward_features`): no gradient when the caller only calls that entry

    def feeds(self, part: PartKey) -> FrozenSet[Feed]:
        if part == REST:
            return self.rest | self.whole
        return self.parts.get(part, frozenset()) | self.whole

    def paths(self) -> Set[Tuple[str, ...]]:
        out = {f.path for f in self.whole | self.rest if f.runs} | {(name,) for name in self.unused}
        for feeds in self.parts.values():
            out.update(f.path for f in feeds if f.runs)
        return out


# ---------------------------------------------------------------------------------------------
# The interpreter of one instance (shared with launch sites: DDP203's per-instance flow)
# ---------------------------------------------------------------------------------------------
_FALSE_DEFAULT = "false_default"  # origin of a helper's parameter left at its default False/None


class ModelFlow(FlowAnalyzer):
    """The flow interpreter that sees into child modules: a call of ``self.bert(x)`` is one use of
    ``self.bert`` per part of what the child returns (its summary), so the parts the caller keeps tell which
    of the child's parameters get a gradient. The plain interpreter (``flow.py``) uses every child whole."""

    def child_summary(self, attr: str, node: cst.Call, frame: Frame) -> Optional[object]:  # noqa: ARG002
        return summary_of_attr(self, attr, node)

    def call_through(self, attr: str, node: cst.Call, args: List[Val], frame: Frame) -> Optional[Val]:
        """``self.pooler(mask, outputs)`` handed a value with parts: what the child's forward keeps of them
        (``outputs.last_hidden_state`` only), or None: everything passed is used."""
        if not any(a.items is not None or a.keys is not None for a in args) or self._runs_a_reference(args):
            return None
        return call_through(self, attr, node, args, frame)

    def child_method_summary(self, attr: str, method: str, node: cst.Call) -> Optional[object]:
        return summary_of_method(self, attr, method, node)

    def item_summary(self, attr: str, node: cst.Call) -> Optional[object]:
        if getattr(self, "summarising", False):
            return None  # a parent sees the container used whole anyway: no cost for it
        return summary_of_item(self, attr, node)

    def child_none_links(self, attr: str) -> Optional[NoneLinks]:
        """The parts of what the child's forward returns that are None exactly when an argument is (nullness.py)."""
        memo = self.__dict__.setdefault("_none_links", {})
        if attr not in memo:
            found = _child_of_attr(self, attr)
            links = None
            if found is not None:
                mro, complete = found[0].module.mro(found[0])
                links = none_links(found[0], mro) if complete else None
            memo[attr] = links
        return memo[attr]  # type: ignore[no-any-return]

    def child_output(self, attr: str, summary: object, frame: Frame, node: cst.CSTNode, args: List[Val],
                     index: Index = WHOLE) -> Val:
        """``self.bert(x)``: one use of ``self.bert`` per part of what it returns (``.last_hidden_state``
        only: not the pooler). ``index``: the item of a container that was called (-1: the last)."""

        def part_use(part: object) -> Val:
            value = self.new_use(attr, index, frame, node, ref=False)
            uid = value.taint[0][0]
            self.uses[uid].part = part
            self.parts[uid] = (summary, part)
            return join(value, *(flatten(a) for a in args))

        return output_value(summary, part_use)


class InstanceFlow(ModelFlow):
    """The training step of one model instance whose constructor fixed some flags (``aux_logits=True``):
    tests on those flags are constants, and a ``return`` that cannot run in training is not part of the
    structure the training code receives. With ``call_args`` (a summary's context), the entry is bound
    like a call that passes those arguments: the others keep their defaults."""

    judged_at_defaults = False  # its constructor's arguments are the caller's, not the defaults

    def __init__(self, index: FileIndex, cls: ClassInfo, mro: List[ClassInfo], init: object, complete: bool,
                 flags: Dict[str, bool], call_args: Optional[Tuple[int, Tuple[str, ...]]] = None,
                 literals: Tuple[Tuple[str, bool], ...] = ()) -> None:
        super().__init__(index, cls, mro, init, complete)  # type: ignore[arg-type]
        self.flags = flags
        self.call_args = call_args
        self.literals = dict(literals)
        self.summarising = False  # a summary's run: what forward returns is used in part by its caller

    def _bind_params(self, params: cst.Parameters,  # type: ignore[override]
                     args: Sequence[Val], kwargs: Dict[str, Val],
                     env: Dict[str, Val], entry: bool, skip_self: bool = True) -> None:
        if entry and self.call_args is not None:
            count, names = self.call_args
            data = Val(origin=frozenset({"data"}))
            args, kwargs, entry = [data] * count, {name: data for name in names}, False
            for name, truth in self.literals.items():  # `pre_logits=True` as the caller writes it
                kwargs[name] = Val(origin=frozenset({"const"}), truth=truth)
        super()._bind_params(params, args, kwargs, env, entry, skip_self)
        if entry:
            return  # the training code may pass any argument to forward
        positional = list(params.posonly_params) + list(params.params)
        given = set(kwargs) | {p.name.value for p in positional[int(skip_self):][:len(args)]}
        for param in positional + list(params.kwonly_params):
            default = param.default
            if param.name.value not in given and isinstance(default, cst.Name) and default.value in ("False", "None"):
                env[param.name.value] = Val(origin=frozenset({_FALSE_DEFAULT}))  # `pre_logits=False`, not passed

    def _classify_test(  # type: ignore[no-untyped-def,override]
            self, test: cst.BaseExpression, env: Dict[str, Val], frame) -> Tuple[Guard, ...]:
        if isinstance(test, cst.Name) and test.value in env and env[test.value].origin == {_FALSE_DEFAULT}:
            return (Guard(NEVER, code_of(test)),)
        return super()._classify_test(test, env, frame)

    def _self_flag_guard(self, attr: str, text: str, positive: bool) -> Guard:
        if attr in self.flags:
            return Guard(ALWAYS if self.flags[attr] == positive else NEVER, text)
        return super()._self_flag_guard(attr, text, positive)

    def exec_small(  # type: ignore[no-untyped-def,override]
            self, small: cst.BaseSmallStatement, env: Dict[str, Val], frame) -> str:
        if isinstance(small, cst.Return) and any(g.kind == NEVER for g in frame.guards):
            return EXITS
        if isinstance(small, cst.Assign) and len(small.targets) == 1 and _is_empty_dict(small.value):
            target = small.targets[0].target
            if isinstance(target, cst.Name):  # `result = OrderedDict()`: filled key by key below
                env[target.value] = Val(keys=())
                return FALLS
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            keyed = _string_key_target(small.targets[0].target)
            if keyed is not None and keyed[0] in env and env[keyed[0]].keys is not None:
                if any(g.kind == NEVER for g in frame.guards):
                    return FALLS  # cannot run in training
                name, key = keyed
                value = self.eval(small.value, env, frame)  # `result["aux"] = ...`: a keyed part
                parts = dict(env[name].keys or ())
                parts[key] = value
                env[name] = Val(keys=tuple(parts.items()))
                return FALLS
        return super().exec_small(small, env, frame)


def _is_empty_dict(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Dict):
        return not node.elements
    return isinstance(node, cst.Call) and not node.args and isinstance(node.func, (cst.Name, cst.Attribute)) and (
        (node.func.value if isinstance(node.func, cst.Name) else node.func.attr.value) in ("dict", "OrderedDict"))


def _string_key_target(target: cst.BaseExpression) -> Optional[Tuple[str, str]]:
    """``result["aux"]`` -> ("result", "aux")."""
    if not (isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name) and len(target.slice) == 1):
        return None
    index = target.slice[0].slice
    if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
        key = index.value.evaluated_value
        if isinstance(key, str):
            return target.value.value, key
    return None


# ---------------------------------------------------------------------------------------------
# Summaries, memoised per process
# ---------------------------------------------------------------------------------------------
_ACTIVE: List[Tuple[str, str, Context, bool]] = []


def _cache(index: FileIndex) -> Dict[object, object]:
    """Memo tables kept on the file's index: they live exactly as long as it (the project's files, and
    installed packages' files, once per process; the linted file, while it is linted), so no table here
    keeps a file's tree alive after flake8 is done with it."""
    table = index.__dict__.get("_summaries")
    if table is None:
        table = index.__dict__["_summaries"] = {}
    return table


def clear_cache() -> None:
    """Nothing process-wide to clear: every memo lives on a file's index (see ``_cache``)."""
    _ACTIVE.clear()


project.register_cache(clear_cache, "trees")


def summary_for(info: ClassInfo, context: Context = Context(), by_name: bool = False) -> Optional[Summary]:
    """The summary of ``info``'s ``forward`` in ``context``, or None when unknown (keep everything live).
    ``by_name``: the caller reads the output's parts by name (``out.attentions``, ``out["logits"]``), so
    only the return paths with named parts (a record, a dict) are what it receives; a path returning a
    plain tuple (HF's ``return_dict=False``) is not."""
    key = (os.path.abspath(info.module.filename), info.name, context, by_name)
    memo = _cache(info.module)
    if ("summary", info.name, context, by_name) in memo:
        return memo[("summary", info.name, context, by_name)]  # type: ignore[return-value]
    if key in _ACTIVE or len(_ACTIVE) >= _MAX_NESTING:
        return None  # recursion, or too deep a chain of summaries: unknown
    _ACTIVE.append(key)
    try:
        summary = _compute(info, context, by_name)
    except (RecursionError, ValueError, AttributeError, TypeError):
        summary = None  # never crash flake8: an odd construct makes the summary unknown
    finally:
        _ACTIVE.pop()
    memo[("summary", info.name, context, by_name)] = summary
    return summary


def _compute(info: ClassInfo, context: Context, by_name: bool = False) -> Optional[Summary]:
    module = info.module
    mro, complete = module.mro(info)
    forward = context.entry == "forward"
    if not complete or forward and not _may_return_parts(info, mro):
        return None
    init = _init_facts(info)
    if init.dynamic_attrs:
        return None
    analyzer = InstanceFlow(module, info, mro, init, complete, dict(context.flags), context.args, context.literals)
    analyzer.summarising = True
    flow = analyzer.run(context.entry)
    if flow.silent:
        return None
    to_feeds = _FeedMaker(analyzer, flow.escaped)
    paths = [value for value, guards in analyzer.entry_returns if not any(g.kind == NEVER for g in guards)]
    if by_name:
        paths = [value for value in paths if value.keys is not None]
    structured = [v for v in paths if v.items is not None or v.keys is not None]
    if not forward and (not structured or len(structured) < len(paths)):
        # another entry returning one value: all it runs feeds it; what it never touches is unused
        whole_feeds = to_feeds.escapes() | to_feeds(tuple(sorted(_join_ids(paths))))
        return Summary(info, context, {}, frozenset(whole_feeds), 0, True, _never_judged(info, init),
                       unused=_untouched(init, analyzer.uses))
    if not structured:
        return None
    whole: Set[Feed] = set(to_feeds.escapes())
    parts: Dict[PartKey, Set[Feed]] = {}
    rest: Set[Feed] = set()  # the tuple's own taint (an unknown rest) and items known on some paths only
    lengths: List[int] = []
    tail = False
    for value in paths:
        if value not in structured:
            whole |= to_feeds(_ids_of(value))
            continue
        positional = _positional_parts(value)
        lengths.append(len(positional))
        tail = tail or value.tail or value.items is None
        in_parts: Set[int] = set()
        for i, part in enumerate(positional):
            taint = _ids_of(part)
            in_parts |= {uid for uid, _ in taint}
            parts.setdefault(i, set()).update(to_feeds(taint))
        for name, part in value.keys or ():
            taint = _ids_of(part)
            in_parts |= {uid for uid, _ in taint}
            parts.setdefault(name, set()).update(to_feeds(taint))
        whole |= to_feeds(tuple((uid, d) for uid, d in value.taint if uid not in in_parts))
        rest |= to_feeds(value.taint)
    length = min(lengths)
    tail = tail or len(set(lengths)) > 1
    # an item known on some return paths only is not known by position: it may be anywhere in the rest
    for key, feeds in parts.items():
        if isinstance(key, int) and key >= length:
            rest |= feeds
    parts = {k: v for k, v in parts.items() if not isinstance(k, int) or k < length}
    if len(parts) > _MAX_PARTS or sum(len(v) for v in parts.values()) > _MAX_FEEDS:
        return None
    unused = frozenset() if forward else _untouched(init, analyzer.uses)
    return Summary(info, context, {k: frozenset(v) for k, v in parts.items()}, frozenset(whole), length, tail,
                   _never_judged(info, init), frozenset(rest), unused)


def _join_ids(values: Sequence[Val]) -> Set[Tuple[int, bool]]:
    out: Dict[int, bool] = {}
    for value in values:
        for uid, detached in _ids_of(value):
            out[uid] = out.get(uid, True) and detached
    return set(out.items())


def _untouched(init: InitFacts, uses: Sequence[Use]) -> FrozenSet[str]:
    """Trainable attributes that a run never reads, in any way (a read that cannot run in this context,
    ``self.head(x)`` behind ``pre_logits=True``, is no read)."""
    touched = {use.attr for use in uses if not any(g.kind == NEVER for g in use.guards)}
    return frozenset(name for name, attr in init.attrs.items()
                     if name not in touched and not attr.frozen and attr.built.kind in TRAINABLE_KINDS)


def _never_judged(info: ClassInfo, init: InitFacts) -> FrozenSet[str]:
    """Attributes of the summarised class that no finding may name: frozen, shared, tied, read from
    outside the class (the same exclusions as the class's own judgement)."""
    memo = _cache(info.module)
    ffacts = memo.get("file_facts")
    if ffacts is None:
        ffacts = memo["file_facts"] = file_facts(info.module.tree, info.module.lines, info.module)
    assert isinstance(ffacts, FileFacts)
    names = {name for name, attr in init.attrs.items() if attr.frozen}
    names |= init.shared | set(init.held_in) | set(init.handed) | ffacts.frozen_names | ffacts.tied_names
    names |= ffacts.external_reads
    names |= {name for cls, name in ffacts.frozen_attrs if cls == info.name}
    if info.name in ffacts.frozen_classes:
        names |= set(init.attrs)
    return frozenset(names)


def _ids_of(val: Val) -> Tuple[Tuple[int, bool], ...]:
    """Every use id in the value with its detached flag (parts included)."""
    out: Dict[int, bool] = {}
    stack = [val]
    while stack:
        current = stack.pop()
        for uid, detached in current.taint:
            out[uid] = out.get(uid, True) and detached
        stack.extend(current.items or ())
        stack.extend(part for _, part in current.keys or ())
    return tuple(sorted(out.items()))


def _positional_parts(value: Val) -> Tuple[Val, ...]:
    """The items by position: a tuple's items; a record's fields in order. ``ModelOutput[i]`` skips the
    fields that are None (like ``to_tuple()``): a field that is None for sure is left out, and position
    ``i`` also holds the fields that a maybe-None field before it would shift there."""
    if value.items is not None:
        return value.items
    fields = [part for _, part in value.keys or ()
              if not (part.truth is False and not part.taint and part.origin <= {"const"})]
    parts = []
    for i in range(len(fields)):
        maybe_none = sum(1 for f in fields[:i] if not _surely_set(f))
        parts.append(join(*fields[i:i + maybe_none + 1]))
    return tuple(parts)


def _surely_set(value: Val) -> bool:
    """A module's output, never a default or a constant: not None."""
    return bool(value.taint) and value.truth is None and not value.origin & {"const", "optional", "unknown"}


class _FeedMaker:
    """Use ids of a summarised class's flow -> feeds (paths from the class, through child summaries)."""

    def __init__(self, analyzer: FlowAnalyzer, escaped: Set[int]) -> None:
        self.uses: List[Use] = analyzer.uses
        self.parts = analyzer.parts
        self.escaped = escaped

    def __call__(self, taint: Sequence[Tuple[int, bool]]) -> Set[Feed]:
        out: Set[Feed] = set()
        for uid, detached in taint:
            use = self.uses[uid]
            if use.test_only:
                continue
            nested = self.parts.get(uid)
            if nested is None:
                out.add(Feed((use.attr,), detached or use.no_grad, use.guards))
                continue
            summary, part = nested
            assert isinstance(summary, Summary)
            for feed in summary.feeds(part):  # type: ignore[arg-type]
                out.add(Feed((use.attr,) + feed.path, detached or use.no_grad or feed.detached,
                             use.guards + feed.guards))
        return out

    def escapes(self) -> Set[Feed]:
        """Values stored where the flow is lost: live whatever the caller keeps."""
        return {replace_detached(f) for f in self(tuple((uid, False) for uid in self.escaped if uid < len(self.uses)))}


def replace_detached(feed: Feed) -> Feed:
    return Feed(feed.path, False, feed.guards)


# ---------------------------------------------------------------------------------------------
# A child built in __init__: its class and its constructor context
# ---------------------------------------------------------------------------------------------
_FROM_METHODS = ("from_pretrained", "from_config", "_from_config")


def summary_of_method(analyzer: FlowAnalyzer, attr: str, method: str, node: cst.Call) -> Optional[Summary]:
    """The summary of ``self.<attr>.<method>(...)``: a plain method of the child's class (not forward, not
    decorated: ``@torch.no_grad()``, properties, static methods), or None (the child is used whole)."""
    if method in ("forward", "__call__") or method.startswith("__"):
        return None
    found = _child_of_attr(analyzer, attr)
    if found is None:
        return None
    child, call = found
    mro, complete = child.module.mro(child)
    func = next((c.methods[method] for c in mro if method in c.methods), None) if complete else None
    if func is None or getattr(func, "decorator_list", None) or method in child.properties:
        return None
    args = func.args  # type: ignore[attr-defined]
    if not (args.posonlyargs + args.args) or (args.posonlyargs + args.args)[0].arg != "self":
        return None
    return summary_for(child, Context(_ctor_flags(child, call), _call_shape(node), method, _call_literals(node)))


def _child_of_attr(analyzer: FlowAnalyzer, attr: str) -> Optional[Tuple[ClassInfo, ast.Call]]:
    """The class ``self.<attr>`` is built from (of this project or installed) and the call building it."""
    trainable = analyzer.init.attrs.get(attr)
    if trainable is None or trainable.built.kind not in ("module_class", "model", "maybe") or trainable.frozen:
        return None
    owner = next((c for c in analyzer.mro if c.name == trainable.owner and (
        not trainable.file or c.module.filename == trainable.file)), None)
    if owner is None:
        return None
    handed = _cache(owner.module).get(("param_child", owner.name, attr))
    if handed is not None:
        return handed  # type: ignore[return-value]
    call = _ctor_call(owner, trainable)
    if call is None:
        return None
    child = _class_of_ctor(owner.module, trainable.built.ctor) or _child_class(owner.module, call)
    return (child, call) if child is not None else None


_THROUGH: List[str] = []  # the children being run through, innermost last
_MAX_THROUGH = 2


def call_through(parent: FlowAnalyzer, attr: str, node: cst.Call, args: Sequence[Val],
                 frame: object) -> Optional[Val]:
    """Run the forward of the child ``self.<attr>`` on the parent's own values (a record, a tuple): the
    result carries only the parts the child reads (``outputs.last_hidden_state``), so the parts it ignores
    (``pooler_output``) stay unused. The child's own parameters count as uses of ``self.<attr>``. None when
    the child cannot be read or run: the caller then uses every argument."""
    if any(arg.star for arg in node.args) or len(_THROUGH) >= _MAX_THROUGH:
        return None
    found = _assigned_child(parent, attr)
    if found is None:
        return None
    child, call = found
    mro, complete = child.module.mro(child)
    init = _init_facts(child)
    if not complete or init.dynamic_attrs:
        return None
    runner = InstanceFlow(child.module, child, mro, init, complete, dict(_ctor_flags(child, call)))
    located = runner.lookup("forward")
    if located is None or _decorated_no_grad(located[0], located[1]):
        return None
    positional = [v for a, v in zip(node.args, args) if a.keyword is None]
    keywords = {a.keyword.value: v for a, v in zip(node.args, args) if a.keyword is not None}
    runner.uses = parent.uses  # one list: use ids stay unique
    start = len(parent.uses)
    _THROUGH.append(child.name)
    try:
        returned = runner.call_method(located[0], located[1], "forward", None, positional, keywords,
                                      frame.guards, frame.no_grad, 1, ())  # type: ignore[attr-defined]
    except (GiveUp, RecursionError):
        del parent.uses[start:]
        return None
    finally:
        _THROUGH.pop()
    if runner.backward:
        del parent.uses[start:]
        return None
    for uid in range(start, len(parent.uses)):  # the child's own modules: uses of the child as a whole
        parent.uses[uid] = Use(uid, attr, WHOLE, parent.uses[uid].guards, parent.uses[uid].no_grad,
                               parent.uses[uid].method, parent.uses[uid].test_only)
    parent.escaped |= runner.escaped
    parent.stored |= runner.stored
    parent.consumed |= runner.consumed
    parent.steps += runner.steps
    return returned


def _assigned_child(parent: FlowAnalyzer, attr: str) -> Optional[Tuple[ClassInfo, ast.Call]]:
    """The module class ``self.<attr>`` is built from, trainable or not (a parameter-free ``Pooler``): the
    one ``self.<attr> = Klass(...)`` of the ``__init__`` methods of the class's bases."""
    if attr in parent.init.attrs:
        return _child_of_attr(parent, attr)
    memo = _cache(parent.cls.module)
    key = ("assigned", parent.cls.name, attr)
    if key not in memo:
        calls = []
        for owner in parent.mro:
            init = owner.methods.get("__init__")
            for stmt in walk(init) if init is not None else ():
                if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and any(
                        isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
                        and t.attr == attr for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])):
                    calls.append((owner, stmt.value))
        found = None
        if len(calls) == 1 and isinstance(calls[0][1], ast.Call):
            child = _child_class(calls[0][0].module, calls[0][1])
            found = (child, calls[0][1]) if child is not None else None
        memo[key] = found
    return memo[key]  # type: ignore[return-value]


def summary_of_attr(analyzer: FlowAnalyzer, attr: str, node: cst.Call) -> Optional[Summary]:
    """The summary of what ``self.<attr>(...)`` returns in ``analyzer``'s class, or None (used whole).
    Only asked where the call's result can be used in part (indexed, an attribute read, or assigned; in
    a summary's own run also returned), and for classes whose forward can return parts:
    ``self.head(self.bert(x))`` or a child returning one tensor cost nothing more."""
    trainable = analyzer.init.attrs.get(attr)
    if trainable is None or trainable.built.kind not in ("module_class", "model", "maybe") or trainable.frozen:
        return None
    position, returned = analyzer.partial_call
    if position is not node or (returned and not getattr(analyzer, "summarising", False)):
        return None
    owner = next((c for c in analyzer.mro if c.name == trainable.owner and (
        not trainable.file or c.module.filename == trainable.file)), None)
    if owner is None:
        return None
    handed = _cache(owner.module).get(("param_child", owner.name, attr))
    if handed is not None:  # a module handed to the constructor (constructed.py)
        child, call = handed  # type: ignore[misc]
        mro, complete = child.module.mro(child)
        if not complete or not _may_return_parts(child, mro):
            return None
        return summary_for(child, Context(_ctor_flags(child, call), _call_shape(node)))
    child = _class_of_ctor(owner.module, trainable.built.ctor)  # as written: no look at the call yet
    if child is not None:
        mro, complete = child.module.mro(child)
        if not complete or not _may_return_parts(child, mro):
            return None
    call = _ctor_call(owner, trainable)
    if call is None:
        return None
    if child is None:
        child = _child_class(owner.module, call)  # AutoModel.from_pretrained("bert-base-uncased")
        if child is None:
            return None
        mro, complete = child.module.mro(child)
        if not complete or not _may_return_parts(child, mro):
            return None
    return summary_for(child, Context(_ctor_flags(child, call), _call_shape(node)))


def summary_of_item(analyzer: FlowAnalyzer, attr: str, node: cst.Call) -> Optional[Summary]:
    """The summary of one item of ``self.<attr>``, a container built from a comprehension over one class
    (``nn.ModuleList([Block(dim) for _ in range(depth)])``: every item is that class with the same literal
    arguments), called as ``node``; or None."""
    trainable = analyzer.init.attrs.get(attr)
    if trainable is None or trainable.built.kind != "container" or trainable.frozen:
        return None
    owner = next((c for c in analyzer.mro if c.name == trainable.owner and (
        not trainable.file or c.module.filename == trainable.file)), None)
    call = _ctor_call(owner, trainable) if owner is not None else None
    if owner is None or call is None or len(call.args) != 1 or call.keywords:
        return None
    built = call.args[0]
    if not isinstance(built, (ast.ListComp, ast.GeneratorExp)) or not isinstance(built.elt, ast.Call) or (
            _changed_after_built(analyzer, attr)) or _arguments_vary(built):
        return None  # (`self.blocks.append(Head())`, `self.blocks[-1] = ...`: the last item may be another class)
    child = _child_class(owner.module, built.elt)
    if child is None:
        return None
    mro, complete = child.module.mro(child)
    if not complete or not _may_return_parts(child, mro):
        return None
    return summary_for(child, Context(_ctor_flags(child, built.elt), _call_shape(node)))


def _arguments_vary(built: Union[ast.ListComp, ast.GeneratorExp]) -> bool:
    """The item's constructor reads a name the comprehension binds (``Layer(updates=(i != n - 1)) for i in
    range(n)``): the last item may be built otherwise than the others (ESMFold2's last MSA layer builds no MSA
    stream), so no one summary speaks for it."""
    bound = {node.id for gen in built.generators for node in walk(gen.target) if isinstance(node, ast.Name)}
    call = built.elt
    return any(isinstance(node, ast.Name) and node.id in bound
               for arg in [*call.args, *(k.value for k in call.keywords)] for node in walk(arg))


def _changed_after_built(analyzer: FlowAnalyzer, attr: str) -> bool:
    """``self.<attr>`` is assigned more than once in the methods of the class and its bases, or changed in place
    (appended to, an item replaced): its items are not all what the one comprehension built."""
    memo = _cache(analyzer.cls.module)
    key = ("changed", analyzer.cls.name, attr)
    if key not in memo:
        assigned = 0
        changed = False
        for info in analyzer.mro:
            for func in info.methods.values():
                changed = changed or attr in info.fact(("summaries.in_place", id(func)),
                                                       lambda: init_state.in_place_changed(func))
                assigned += info.fact(("summaries.self_assigned", id(func)), lambda: _self_assigned(func)).get(attr, 0)
        memo[key] = changed or assigned != 1
    return bool(memo[key])


def _self_assigned(func: ast.AST) -> Dict[str, int]:
    """attr -> how many assignments of one method store into ``self.<attr>`` (read once per method, not per
    attribute and subclass asking)."""
    counts: Dict[str, int] = {}
    for node in walk(func):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for attr in {t.attr for t in targets if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                         and t.value.id == "self"}:
                counts[attr] = counts.get(attr, 0) + 1
    return counts


def _class_of_ctor(index: FileIndex, ctor: str) -> Optional[ClassInfo]:
    """The module class a constructor as written names (``Encoder``, ``BertModel.from_pretrained``)."""
    memo = _cache(index)
    key = ("ctor", ctor)
    if key not in memo:
        memo[key] = _resolve_ctor(index, ctor)
    return memo[key]  # type: ignore[return-value]


def _resolve_ctor(index: FileIndex, ctor: str) -> Optional[ClassInfo]:
    head, _, last = ctor.rpartition(".")
    if last in _FROM_METHODS:
        ctor = head
    if not ctor:
        return None
    try:
        node = ast.parse(ctor, mode="eval").body
    except SyntaxError:
        return None
    call = ast.Call(func=node, args=[], keywords=[])
    info = _resolve_child_class(index, call)
    return info


def _ctor_call(owner: ClassInfo, attr: TrainableAttr) -> Optional[ast.Call]:
    """The call on the ``self.<name> = ...`` line that builds the attribute (an ``if``-expression's
    side that calls); statements only are visited, of the one method holding the line."""
    func = next((f for f in owner.methods.values() if f.lineno <= attr.line <= (f.end_lineno or f.lineno)), None)
    if func is None:
        return None
    memo = _cache(owner.module)
    key = ("calls", func.lineno)
    calls = memo.get(key)
    if calls is None:
        lines: Dict[int, ast.Call] = {}
        stack: List[ast.AST] = [func]
        while stack:
            node = stack.pop()
            for name in ("body", "orelse", "finalbody", "handlers", "cases"):
                stack.extend(getattr(node, name, ()) or ())
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                value = node.value
                while isinstance(value, ast.IfExp):
                    value = value.body if isinstance(value.body, ast.Call) else value.orelse
                if isinstance(value, ast.Call):
                    lines.setdefault(node.lineno, value)
        calls = memo[key] = lines
    return calls.get(attr.line)  # type: ignore[union-attr]


def _init_facts(info: ClassInfo) -> InitFacts:
    """What ``__init__`` builds, collected once per class for all summaries."""
    memo = _cache(info.module)
    key = ("init", info.name)
    if key not in memo:
        mro, complete = info.module.mro(info)
        memo[key] = InitCollector(info.module, info, mro, complete).collect()
        bind_handed_modules(info, memo[key])  # type: ignore[arg-type]
    return memo[key]  # type: ignore[return-value]


def bind_handed_modules(info: ClassInfo, init: InitFacts) -> None:
    """``self.encoder = encoder`` of an ``__init__`` parameter: when every construction site of the class in
    the project passes a module built by a call whose class is known, and all of them the same class with the
    same constructor flags (``Seq2Seq(encoder=BertModel(config))``), the attribute is that child, built on its
    ``self.encoder = encoder`` line. Otherwise it stays unknown, as before. Only for an attribute the class
    calls (``self.encoder(``), so classes that merely keep an argument cost nothing."""
    if not init.params or init.dynamic_attrs:
        return
    mro, complete = info.module.mro(info)
    text = "".join("".join(c.module.lines[c.node.lineno - 1:c.node.end_lineno or c.node.lineno]) for c in mro)
    for name, (param, line, col) in init.params.items():
        if name in init.attrs or f"self.{name}(" not in text:
            continue
        found = _handed_child(info, param)
        if found is None:
            continue
        _cache(info.module)[("param_child", info.name, name)] = found
        init.attrs[name] = TrainableAttr(name, line, col, info.name, Built("module_class", found[0].name), None,
                                         info.module.filename)


def _handed_child(info: ClassInfo, param: str) -> Optional[Tuple[ClassInfo, ast.Call]]:
    memo = _cache(info.module)
    key = ("handed", info.name, param)
    if key not in memo:
        memo[key] = _find_handed_child(info, param)
    return memo[key]  # type: ignore[return-value]


def _find_handed_child(info: ClassInfo, param: str) -> Optional[Tuple[ClassInfo, ast.Call]]:
    calls = constructed.argument_calls(info, param)
    if calls is None:
        return None
    resolved = [(_child_class(index, call), call) for index, call in calls]
    if any(child is None for child, _ in resolved):
        return None
    classes = {(os.path.abspath(c.module.filename), c.name) for c, _ in resolved}  # type: ignore[union-attr]
    flags = {_ctor_flags(child, call) for child, call in resolved}  # type: ignore[arg-type]
    if len(classes) != 1 or len(flags) != 1:
        return None
    return resolved[0]  # type: ignore[return-value]


def _child_class(index: FileIndex, call: ast.Call) -> Optional[ClassInfo]:
    """The class a constructor call builds: ``Encoder(...)``, ``BertModel(config)``,
    ``BertModel.from_pretrained(...)``; of this project or of an installed package."""
    memo = _cache(index)
    key = ("child", call.lineno, call.col_offset)
    if key not in memo:
        memo[key] = _resolve_child_class(index, call)
    return memo[key]  # type: ignore[return-value]


def _resolve_child_class(index: FileIndex, call: ast.Call) -> Optional[ClassInfo]:
    func = call.func
    from_method = isinstance(func, ast.Attribute) and func.attr in _FROM_METHODS
    if isinstance(func, ast.Attribute) and func.attr in _FROM_METHODS:
        func = func.value
    qual = index.qualify(func)
    if not qual:
        return None
    info = index.local_class(qual)
    if info is None:
        info = project.resolve_class(index, qual, installed=True)
    if info is not None and from_method and info.module.module_kind(info) is None:
        info = _auto_class(info, call)  # AutoModel.from_pretrained("bert-base-uncased")
    if info is None or info.module.module_kind(info) is None:
        return None
    return info


# `bert-base-uncased`, `roberta-large`, `xlm-roberta-base`: the family, then a size or casing word. Names
# such as `deberta-v3-base` (a deberta-v2 checkpoint) or `chinese-roberta-wwm-ext` (a BERT) decide nothing.
_CHECKPOINT_WORDS = ("base", "large", "small", "tiny", "mini", "medium", "xl", "xxl", "uncased", "cased")


def _auto_class(auto: ClassInfo, call: ast.Call) -> Optional[ClassInfo]:
    """The class an ``Auto*.from_pretrained("<literal>")`` builds, where the checkpoint's name decides the
    model family unambiguously; read from the auto class's own mapping (``_model_mapping = MODEL_MAPPING``
    -> ``_LazyAutoMapping(CONFIG_MAPPING_NAMES, MODEL_MAPPING_NAMES)`` -> ``("bert", "BertModel")``)."""
    if not call.args or not isinstance(call.args[0], ast.Constant) or not isinstance(call.args[0].value, str):
        return None  # a name from the command line or a config: silent
    name = call.args[0].value.rsplit("/", 1)[-1].lower()
    mapping = _auto_mapping(auto)
    found = {cls for family, cls in mapping.items() if name == family or any(
        name.startswith(f"{family}-{word}") for word in _CHECKPOINT_WORDS)}
    if len(found) != 1:
        return None
    return project.resolve_class(auto.module, "transformers." + found.pop(), installed=True)


def _auto_mapping(auto: ClassInfo) -> Dict[str, str]:
    # the statements, not their values: a long value of another file is read back only when asked (bodies.py)
    top = {t.id: stmt for stmt in auto.module.tree.body if isinstance(stmt, ast.Assign)
           for t in stmt.targets if isinstance(t, ast.Name)}
    lazy = next((stmt.value for stmt in auto.node.body if isinstance(stmt, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "_model_mapping" for t in stmt.targets)), None)
    if isinstance(lazy, ast.Name):
        lazy = top[lazy.id].value if lazy.id in top else None
    if not (isinstance(lazy, ast.Call) and len(lazy.args) == 2 and isinstance(lazy.args[1], ast.Name)):
        return {}
    names = top[lazy.args[1].id].value if lazy.args[1].id in top else None
    if not (isinstance(names, ast.Call) and names.args):
        return {}
    pairs = _literal(names.args[0])
    if not isinstance(pairs, list):
        return {}
    return {k: v for k, v in (p for p in pairs if isinstance(p, tuple) and len(p) == 2) if isinstance(v, str)}


def _ctor_flags(info: ClassInfo, call: ast.Call) -> Tuple[Tuple[str, bool], ...]:
    """Attributes and flags of ``info`` that the call's literal arguments, or ``__init__``'s literal
    defaults, fix (``add_pooling_layer=False`` -> the pooler is not built)."""
    init_func = info.methods.get("__init__")
    if init_func is None:
        return ()
    values = _bind_literals(init_func, call)
    facts = _init_facts(info)
    flags: Dict[str, bool] = {}
    for name, flag in facts.flags.items():
        truth = _truth(values.get(flag.key, ...))
        if truth is not None:
            flags[name] = truth
    for attr in facts.attrs.values():
        key = attr.built_under
        if not key or key == "?":
            continue
        negated = key.startswith("not ")
        truth = _truth(values.get(key[4:] if negated else key, ...))
        if truth is not None:
            flags[attr.name] = truth != negated
    return tuple(sorted(flags.items()))


def _bind_literals(func: ast.AST, call: ast.Call) -> Dict[str, object]:
    """Parameter -> literal value (``...`` when unknown) for the call; a ``from_pretrained`` call passes
    only its keywords on to ``__init__``."""
    spec = func.args  # type: ignore[attr-defined]
    positional = (spec.posonlyargs + spec.args)[1:]
    values: Dict[str, object] = {}
    defaults = spec.defaults
    for param, default in zip(positional[len(positional) - len(defaults):], defaults):
        values[param.arg] = _literal(default)
    for param, default in zip(spec.kwonlyargs, spec.kw_defaults):
        if default is not None:
            values[param.arg] = _literal(default)
    spread = any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords)
    if spread:
        return {}
    from_method = isinstance(call.func, ast.Attribute) and call.func.attr in _FROM_METHODS
    if not from_method:
        for param, arg in zip(positional, call.args):
            values[param.arg] = _literal(arg)
    for keyword in call.keywords:
        values[str(keyword.arg)] = _literal(keyword.value)
    return values


def _literal(node: ast.expr) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return ...


def _truth(value: object) -> Optional[bool]:
    if value is ...:
        return None
    try:
        return bool(value)
    except Exception:  # noqa: BLE001 - an odd literal
        return None


def _call_literals(node: cst.Call) -> Tuple[Tuple[str, bool], ...]:
    """Keywords the call passes as ``True``, ``False`` or ``None``: tests on them are decided."""
    out = []
    for arg in node.args:
        if arg.keyword is not None and isinstance(arg.value, cst.Name) and arg.value.value in ("True", "False", "None"):
            out.append((arg.keyword.value, arg.value.value == "True"))
    return tuple(sorted(out))


def _call_shape(node: cst.Call) -> Optional[Tuple[int, Tuple[str, ...]]]:
    if any(arg.star for arg in node.args):
        return None
    count = sum(1 for arg in node.args if arg.keyword is None)
    names = tuple(sorted(arg.keyword.value for arg in node.args if arg.keyword is not None))
    return count, names


def _may_return_parts(info: ClassInfo, mro: List[ClassInfo]) -> bool:
    """A cheap look at the source: can ``forward`` return something with parts (a tuple, a dict, a
    record, or what a child module returns)? Most layers return one tensor: no flow run for them."""
    memo = _cache(info.module)
    key = ("parts", info.name)
    if key in memo:
        return bool(memo[key])
    memo[key] = False  # a cycle finds nothing
    func = next((c.methods["forward"] for c in mro if "forward" in c.methods), None)
    found = False
    if func is not None:
        children = _child_attributes(info, mro)
        assigned: Set[str] = set()
        returned: List[ast.expr] = []
        for node in walk(func):
            if isinstance(node, ast.Return) and node.value is not None:
                returned.append(node.value)
            elif isinstance(node, ast.Assign) and _structured(node.value, children):
                assigned.update(t.id for t in node.targets if isinstance(t, ast.Name))
        found = any(_structured(value, children) or (isinstance(value, ast.Name) and value.id in assigned)
                    for value in returned)
    memo[key] = found
    return found


def _child_attributes(info: ClassInfo, mro: List[ClassInfo]) -> Set[str]:
    """``self.x`` built in ``__init__`` by a call that is not a torch.nn layer (a child module class)."""
    names: Set[str] = set()
    for owner in mro:
        init = owner.methods.get("__init__")
        if init is None:
            continue
        for node in walk(init):
            if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
                continue
            qual = owner.module.qualify(node.value.func) or ""
            if qual.startswith(("torch.nn.", "torch.")):
                continue
            for target in node.targets:
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and (
                        target.value.id == "self"):
                    names.add(target.attr)
    return names


def _structured(value: ast.expr, children: Set[str]) -> bool:
    if isinstance(value, (ast.Tuple, ast.Dict, ast.List)):
        return True
    if isinstance(value, ast.BinOp) and isinstance(value.left, ast.Tuple):
        return True
    if isinstance(value, ast.Call):
        func = value.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
            return func.attr in children  # a child module: its own result may have parts
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        return name[:1].isupper() or name in ("dict", "OrderedDict")  # a record or a named tuple
    return False


# ---------------------------------------------------------------------------------------------
# The parent's side
# ---------------------------------------------------------------------------------------------
def output_value(summary: object, part_use: Callable[[PartKey], Val]) -> Val:
    """The abstract value of a call of the summarised child: each part carries a use of its own."""
    assert isinstance(summary, Summary)
    items = tuple(part_use(i) for i in range(summary.length))
    keys = tuple((k, part_use(k)) for k in summary.parts if isinstance(k, str))
    rest = part_use(REST).taint if summary.tail else ()  # the tuple's own taint: what `[n:]` keeps
    if not items and not keys:
        return Val(rest, origin=frozenset({"module"}))  # one value (`forward_features` returns a tensor)
    return Val(rest, origin=frozenset({"module"}), items=items, keys=keys or None, tail=summary.tail)


def part_text(part: object) -> str:
    if isinstance(part, str) and part.startswith("["):
        return part  # the rest of a tuple, as a slice: `[2:]`
    return f"[{part}]" if isinstance(part, int) else repr(part)


def dead_paths(summary: Summary, kept: Set[PartKey]) -> Set[Tuple[str, ...]]:
    """Paths of the child that feed some part of its output, but none of the ``kept`` parts (nor every
    part, nor an escape): they get no gradient when only those parts are used. A path used whole
    (``("bert",)``) covers everything under it, so neither it nor anything under it is dead."""
    live = {f.path for f in summary.whole if f.runs and not f.detached}
    for part in kept:
        live.update(f.path for f in summary.feeds(part) if f.runs and not f.detached)
    dead = set()
    for path in summary.paths():
        if path[0] in summary.never_judged:
            continue
        if any(path[:len(p)] == p or p[:len(path)] == path for p in live):
            continue
        dead.add(path)
    return dead


def detached_only(summary: Summary) -> Set[Tuple[str, ...]]:
    """Paths that feed some part of the child's output, but every one only detached (``argsort`` of a
    score): dead whatever the caller keeps, so the child's own code is the reason, not the dropped parts."""
    feeds = [f for part in summary.parts.values() for f in part] + list(summary.whole | summary.rest)
    carry = {f.path for f in feeds if f.runs and not f.detached}
    return {f.path for f in feeds if f.runs and f.detached
            and not any(f.path[:len(p)] == p or p[:len(f.path)] == f.path for p in carry)}


def _hands_out_nothing(mro: Sequence[ClassInfo], name: str) -> bool:
    """Another method that outside code calls (``prune_heads``) but that returns no value, yields nothing,
    stores nothing on ``self.<attr>`` and starts no backward pass: whatever it runs, no gradient leaves it,
    so its silence does not make a child used whole."""
    func = next((c.methods[name] for c in mro if name in c.methods), None)
    if func is None:
        return False
    for node in walk(func):
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return False
        if isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            return False
        if isinstance(node, ast.Attribute) and node.attr == "backward":
            return False
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AugAssign, ast.AnnAssign)) else []
        if any(isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
               for t in targets):
            return False
    return True


def _before_last(index: object) -> bool:
    """``(None, -1, None)``: the items before the last one."""
    return index == (None, -1, None)


def partial_findings(facts: "ClassFacts", live: Set[str], frozen_names: Set[str],
                     mro: Sequence[ClassInfo] = ()) -> List["Finding"]:
    """Findings for the children of one class whose output the class keeps only in part: the child's
    parameters that feed only the dropped parts, named by their path (``self.bert.pooler``), reported on
    the ``self.bert = ...`` line. Only for a child used through its summary everywhere it is used."""
    flows = [facts.flow] + list(facts.extra_flows)
    if any(flow.silent and not (flow is not facts.flow and _hands_out_nothing(mro, flow.entry)) for flow in flows):
        return []
    flows = [flow for flow in flows if not flow.silent]
    found: List[Finding] = []
    for name, attr in facts.init.attrs.items():
        if name not in live:
            continue  # unused, frozen, never judged, or already reported as a whole
        dead: Optional[Set[Tuple[str, ...]]] = None
        kept_text: Set[PartKey] = set()
        entries: Set[str] = set()  # the child's methods called (forward, forward_features)
        detached: Optional[Set[Tuple[str, ...]]] = None  # dead inside the child itself (see detached_only)
        children: Set[str] = set()  # the child's class, named when the child itself is the reason
        whole = False
        last = False  # the parts are those of the container's last item (a peeled loop, flow.py)
        for flow in flows:
            by_summary: Dict[int, Tuple[Summary, Set[PartKey]]] = {}
            for use in flow.uses:
                if use.attr != name or use.test_only or any(g.kind == NEVER for g in use.guards):
                    continue
                if _before_last(use.index):
                    continue  # `self.blocks[:-1]`, used whole: says nothing of the last item
                last = last or use.index == -1
                entry = flow.parts.get(use.id)
                if entry is None:
                    whole = True
                    break
                summary, part = entry
                assert isinstance(summary, Summary)
                parts = by_summary.setdefault(id(summary), (summary, set()))[1]
                if flow.result.get(use.id) is False or use.id in flow.escaped:
                    parts.add(part)  # type: ignore[arg-type]
            if whole:
                break
            for summary, kept in by_summary.values():
                here = dead_paths(summary, kept)
                dead = here if dead is None else dead & here
                inside = detached_only(summary)
                detached = inside if detached is None else detached & inside
                children.add(summary.cls.name)
                kept_text |= {f"[{summary.length}:]" if k == REST else k for k in kept}
                entries.add(summary.context.entry)
        if whole or not dead or not kept_text:
            continue
        dead = {p for p in dead if not set(p) & frozen_names}
        entry = f"{facts.entry}()"
        kept = ", ".join(part_text(k) for k in sorted(kept_text, key=lambda k: (isinstance(k, str), str(k))))
        rule = rules_by_code()["DDP004"]
        for path in sorted(dead):
            label = f"self.{name}[-1]." + ".".join(path) if last else "self." + ".".join((name,) + path)
            fix = FIX_TEXT.get(facts.framework, FIX_TEXT["torch"])
            if "forward" in entries and path in (detached or set()) and len(children) == 1:
                message = rule.extra["detached_message"].format(
                    attr=label, cls=facts.name, child=next(iter(children)), fix=fix)
            elif "forward" in entries:
                call = f"self.{name}[-1](...)" if last else f"self.{name}(...)"
                message = rule.extra["part_message"].format(
                    attr=label, cls=facts.name, entry=entry, kept=kept, call=call, fix=fix)
            else:  # only other methods of the child are called: `self.encoder.forward_features(x)`
                calls = ", ".join(f"self.{name}.{method}(...)" for method in sorted(entries))
                calls += ", which never uses it" if len(entries) == 1 else ", none of which uses it"
                message = rule.extra["method_message"].format(
                    attr=label, cls=facts.name, entry=entry, call=calls, fix=fix)
            found.append(Finding("DDP004", attr.line, attr.col, message, facts.name, label, name))
    return found
