"""The vocabulary of the flow facts: guards, uses of trainable attributes, abstract values and a flow's result.

The interpreter (``flow.py``) produces these, the summaries of child modules (``summaries.py``) and the
training code (``training/``) pass them on, and the judges (``rules.py``) and the launch checks read them.
They live apart from the interpreter so that every layer above can speak of them without importing it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, List, Optional, Tuple, Union

from .index import ClassInfo

# ---------------------------------------------------------------------------------------------
ALWAYS, NEVER, BATCH, STATIC, OPTIONAL, BUILT, UNKNOWN = (
    "always", "never", "batch", "static", "optional", "built", "unknown")


@dataclass(frozen=True)
class Guard:
    kind: str  # always | never | batch | static | optional | built | unknown
    text: str  # the condition as written (negated with "not (...)" when it guards the else side)
    detail: str = ""  # batch: data | random | task | rank;  static/built: the attribute name
    polarity: bool = True  # False on the other side of the test
    key: str = ""  # the test as written, the same on both sides: `c` and `not c` are complements
    note: str = ""  # the configuration defaults a per-batch guard was judged with ("layerdrop=0.1")


Index = Union[None, int, Tuple[Optional[int], Optional[int], Optional[int]], str]
WHOLE = None  # a use of the whole attribute (a call, an iteration, passing it on)


@dataclass
class Use:
    id: int
    attr: str
    index: Index  # WHOLE, an int, a (start, stop, step) slice, or "key:<k>" for a ModuleDict literal key
    guards: Tuple[Guard, ...]
    no_grad: bool
    method: str
    test_only: bool = False  # a bare read inside a condition (`if self.aux is not None`)
    ref: bool = False  # a bare read (`layers = self.layers`): the call site of what it holds is the use
    part: Optional[object] = None  # one part (item index, key) of what a call of a summarised child returns


Taint = Dict[int, bool]  # use id -> detached on every path


@dataclass(frozen=True)
class Val:
    taint: Tuple[Tuple[int, bool], ...] = ()
    origin: FrozenSet[str] = frozenset()
    items: Optional[Tuple["Val", ...]] = None
    keys: Optional[Tuple[Tuple[str, "Val"], ...]] = None
    func: Optional[object] = None  # a nested def or lambda to inline when called
    bound: Optional[Tuple[ClassInfo, str]] = None  # a bound self-method (owner, method name)
    truth: Optional[bool] = None  # known truthiness of a constant (a literal, a helper's default)
    tail: bool = False  # `items` is only a prefix: more items of unknown number follow (`(a, b) + rest`)
    text: Optional[str] = None  # a known string constant (an attribute name handed to getattr(self, name))
    number: Optional[int] = None  # a known int: the value of an unrolled loop's variable (unroll.py)
    # not None exactly when these guards hold (`s_inp` of `s_inp, ... = self.embedding(stat_exog=...)` is None
    # exactly when the argument is, nullness.py); a tuple without items: the same per position
    present: Optional[Tuple[Guard, ...]] = None
    present_items: Optional[Tuple[int, Tuple[Tuple[int, Tuple[Guard, ...]], ...]]] = None  # (length, parts)

    def taint_map(self) -> Taint:
        return dict(self.taint)


EMPTY = Val()


def _join_taints(maps: Iterable[Taint]) -> Taint:
    out: Taint = {}
    for m in maps:
        for uid, detached in m.items():
            out[uid] = out.get(uid, True) and detached
    return out


def join(*vals: Val) -> Val:
    """The union of values: every taint (detached only if detached everywhere), every origin."""
    vals = tuple(v for v in vals if v is not None)
    if not vals:
        return EMPTY
    if len(vals) == 1:
        return vals[0]
    taint = _join_taints(_flat_taint(v) for v in vals)
    origin: FrozenSet[str] = frozenset().union(*(v.origin for v in vals))
    items = None
    if all(v.items is not None for v in vals) and len({len(v.items or ()) for v in vals}) == 1:
        items = tuple(join(*parts) for parts in zip(*(v.items or () for v in vals)))
    keys = None
    if all(v.keys is not None for v in vals):
        names = sorted({k for v in vals for k, _ in (v.keys or ())})
        keys = tuple((k, join(*(dict(v.keys or ()).get(k, EMPTY) for v in vals))) for k in names)
    tail = items is not None and any(v.tail for v in vals)  # the same known prefix, more items on some path
    if items is not None:
        # the parts kept apart are not repeated in the value's own taint (an unknown rest, like a literal
        # tuple's): `outputs[2:]` of it must not bring back what `outputs[1]` holds
        taint = _join_taints(_own_taint(v, keys is not None) for v in vals)
    present = vals[0].present if all(v.present == vals[0].present for v in vals) else None  # the same either way
    return Val(tuple(sorted(taint.items())), origin, items, keys, tail=tail, present=present)


def _own_taint(val: Val, keys_kept: bool) -> Taint:
    """What a value holds besides its items (and, when they are kept, its keys)."""
    maps = [val.taint_map()]
    if not keys_kept:
        maps.extend(_flat_taint(part) for _, part in val.keys or ())
    return _join_taints(maps)


def _flat_taint(val: Val) -> Taint:
    maps = [val.taint_map()]
    for part in val.items or ():
        maps.append(_flat_taint(part))
    for _, part in val.keys or ():
        maps.append(_flat_taint(part))
    return _join_taints(maps)


def flatten(val: Val, origin: Optional[FrozenSet[str]] = None) -> Val:
    """The value without its structure (what an operation on it depends on)."""
    return Val(tuple(sorted(_flat_taint(val).items())), val.origin if origin is None else origin)


def detach(val: Val) -> Val:
    return Val(tuple((uid, True) for uid, _ in sorted(_flat_taint(val).items())), val.origin)


@dataclass
class FlowResult:
    entry: str
    uses: List[Use] = field(default_factory=list)
    result: Taint = field(default_factory=dict)  # what reaches the loss (or the entry's whole result)
    returned: Val = EMPTY  # the entry's return value with its structure
    escaped: set = field(default_factory=set)  # use ids whose value went where the flow is lost
    stored: set = field(default_factory=set)  # use ids whose value was stored on self
    unsupported: bool = False  # raises NotImplementedError under some condition: a configuration that never trains
    loss_key: bool = False  # the result was narrowed to a 'loss' entry
    backward: Taint = field(default_factory=dict)  # what `.backward()`/`manual_backward` starts from
    paths: List[Tuple[Taint, Tuple[Guard, ...]]] = field(default_factory=list)  # each return, its guards
    silent: Optional[str] = None  # why nothing about this class can be judged
    parts: Dict[int, Tuple[object, object]] = field(default_factory=dict)  # part use id -> (child summary, part)
    limit: Optional[str] = None  # set when the silence is a limit of the analysis, not a property of the code


class GiveUp(Exception):
    """Usage cannot be decided statically: stay silent about the class."""


class Limit(GiveUp):
    """The analysis stopped at one of its limits (size, depth, parse): silent, and recorded as skipped."""
