"""Judgement: small pure functions from the facts of one class to findings."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Callable, List, Optional, Sequence, Tuple

from .values import ALWAYS, BATCH, BUILT, NEVER, OPTIONAL, STATIC, UNKNOWN, WHOLE, FlowResult, Guard, Use
from .config_defaults import CONFIG_DETAIL, decided_static
from .init_facts import FileFacts, InitFacts, TrainableAttr, falsy_default
from .registry import rules_by_code


@dataclass(frozen=True)
class Finding:
    code: str
    line: int
    col: int  # 0-based, as flake8 expects from plugins
    message: str  # without the code
    cls: str = ""
    attr: str = ""  # as written in the code: self.pooler, self.layers[-1]
    attr_name: str = ""
    elements: Tuple[object, ...] = ()  # container elements (ints or keys) when only some are unused
    fixable: bool = False

    @property
    def text(self) -> str:
        return f"{self.code} {self.message}"


# Statuses of one use, from most live to least: the attribute's verdict is its most live use.
LIVE, UNDECIDED = "live", "unknown"
STATUS_ORDER = ("optional", "static", "batch", "dropped", "detached", "nograd", "never")
STATUS_CODE = {"optional": "DDP901", "static": "DDP102", "batch": "DDP101", "dropped": "DDP004",
               "detached": "DDP003", "nograd": "DDP003", "never": "DDP002"}


@dataclass
class Verdict:
    """What the analysis of one class says about one attribute."""

    status: str  # live | unknown | unused | one of STATUS_ORDER
    guard: Optional[Guard] = None
    unused_elements: Tuple[object, ...] = ()
    default: str = ""


@dataclass
class ClassFacts:
    name: str
    kind: str  # module | lightning | hf | container
    entry: str
    init: InitFacts
    flow: FlowResult
    file: FileFacts
    framework: str = "torch"  # torch | lightning | hf | fastnlp | accelerate | fairseq
    # methods that other classes of the file call directly (`self.encoder.encode(x)`), each analysed
    # as an entry of its own: an attribute live in one of them is live
    extra_flows: List[FlowResult] = field(default_factory=list)
    # attribute name -> whether another public method returns or caches a gradient-carrying value from it
    rescued: Optional[Callable[[str], bool]] = None


# The launch flag that tolerates unused parameters, as the user's framework spells it (messages end with it).
FIX_TEXT = {
    "torch": "set find_unused_parameters=True",
    "lightning": 'use strategy="ddp_find_unused_parameters_true"',
    "hf": "leave ddp_find_unused_parameters unset or True",
    "fastnlp": 'pass torch_kwargs={"ddp_kwargs": {"find_unused_parameters": True}}',
    "accelerate": "pass DistributedDataParallelKwargs(find_unused_parameters=True)",
    "fairseq": "pass --find-unused-parameters to fairseq-train",  # fairseq builds the DDP wrapper itself
}


def guard_kind(guard: Guard, attr: TrainableAttr, init: InitFacts) -> Tuple[str, str]:
    """How a guard looks from DDP training's side, for the uses of ``attr``; and a default for DDP102."""
    if guard.kind == NEVER and guard.detail.startswith(CONFIG_DETAIL):
        # false with the configuration's defaults: like a constructor flag that is off (DDP102), unless the
        # module itself is built only under some condition
        return (STATIC, guard.detail[len(CONFIG_DETAIL):]) if attr.built_under is None else (UNKNOWN, "")
    if guard.kind in (ALWAYS, NEVER, BATCH, OPTIONAL, UNKNOWN):
        return guard.kind, ""
    if guard.kind == BUILT:
        if guard.detail == attr.name:
            return (ALWAYS if guard.polarity else UNKNOWN), ""
        other = init.attrs.get(guard.detail)
        if other is not None and guard.polarity:
            if other.built_under is None:
                return ALWAYS, ""
            if other.built_under == attr.built_under and other.built_under != "?":
                return ALWAYS, ""
        return UNKNOWN, ""
    if guard.kind == STATIC:
        flag = init.flags.get(guard.detail)
        if flag is None:
            return UNKNOWN, ""
        if attr.built_under is not None:
            same = attr.built_under == flag.key if guard.polarity else attr.built_under == f"not {flag.key}"
            return (ALWAYS if same else UNKNOWN), ""
        runs = decided_static(flag, guard.polarity)  # a literal bool default decides `not self.use_ckpt` too
        if runs is not None:
            return (ALWAYS, "") if runs else (STATIC, flag.default or "")
        if guard.polarity and falsy_default(flag):
            return STATIC, flag.default or ""
        return UNKNOWN, ""
    return UNKNOWN, ""


def use_status(use: Use, attr: TrainableAttr, facts: ClassFacts) -> Tuple[str, Optional[Guard], str]:
    kinds = [(guard_kind(g, attr, facts.init), g) for g in use.guards]
    deciding: Optional[Guard] = None
    default = ""
    guard_status = ALWAYS
    for wanted in (NEVER, UNKNOWN, BATCH, STATIC, OPTIONAL):
        hit = next(((g, d) for (k, d), g in kinds if k == wanted), None)
        if hit is not None:
            guard_status, deciding, default = wanted, hit[0], hit[1]
            same = [g.text for (k, _), g in kinds if k == wanted]
            if wanted == BATCH and len(same) > 1:  # an elif chain: name every test on the way
                deciding = replace(deciding, text=" and ".join(same))
            break
    if guard_status == NEVER:
        return "never", deciding, ""
    if guard_status == UNKNOWN:
        return UNDECIDED, deciding, ""
    if guard_status == OPTIONAL:
        return "optional", deciding, ""  # runs only when the caller passes an argument: whatever happens there
    flow = facts.flow
    if use.no_grad:
        return "nograd", deciding, ""
    if use.id in flow.result:
        if flow.result[use.id]:
            return "detached", deciding, ""
    elif use.id not in flow.escaped:
        return "dropped", deciding, ""
    if guard_status == ALWAYS:
        return LIVE, None, ""
    return guard_status, deciding, default


def _guard_signature(guard: Guard) -> Tuple[str, str, bool, str]:
    return guard.kind, guard.key or guard.text, guard.polarity, guard.detail


def covering_uses(uses: Sequence[Use], limit: int = 64) -> List[Use]:
    """The uses plus virtual ones for complementary branches: a module used under `c` and under
    `not c` (if/else, elif chains, an early return) is used whichever way the test goes. Only pass
    uses whose output does reach the loss: a detached use on one side covers nothing."""
    pool = list(uses)
    if len(pool) > limit:
        return pool
    seen = {(tuple(_guard_signature(g) for g in u.guards), u.id) for u in pool}
    changed = True
    while changed and len(pool) < 4 * limit:
        changed = False
        for i, a in enumerate(pool):
            for b in pool[i + 1:]:
                if len(a.guards) != len(b.guards) or not a.guards:
                    continue
                diff = [k for k, (ga, gb) in enumerate(zip(a.guards, b.guards))
                        if _guard_signature(ga) != _guard_signature(gb)]
                if len(diff) != 1:
                    continue
                ga, gb = a.guards[diff[0]], b.guards[diff[0]]
                if not ga.key or ga.key != gb.key or ga.polarity == gb.polarity:
                    continue
                for base in (a, b):
                    merged = replace(base, guards=base.guards[:diff[0]] + base.guards[diff[0] + 1:])
                    signature = (tuple(_guard_signature(g) for g in merged.guards), merged.id)
                    if signature not in seen:
                        seen.add(signature)
                        pool.append(merged)
                        changed = True
    return pool


def split_by_return(uses: Sequence[Use], flow: FlowResult) -> List[Use]:
    """A use that runs on every path but reaches the loss only through some of the returns (an early
    exit's logits, a generator detached in discriminator steps) is live only under those returns' guards."""
    paths = [(taint, guards) for taint, guards in flow.paths if not any(g.kind == NEVER for g in guards)]
    if len(paths) < 2:
        return list(uses)
    split: List[Use] = []
    for use in uses:
        if flow.backward.get(use.id) is False or flow.result.get(use.id) is not False:
            split.append(use)  # reaches through backward(), or never/only detached: judged as it is
            continue
        reaching = [guards for taint, guards in paths if taint.get(use.id) is False]
        if not reaching:  # only through returns that never run in training (`if not self.training: return ...`)
            reaching = [guards for taint, guards in flow.paths if taint.get(use.id) is False]
        if len(reaching) == len(paths):
            split.append(use)
            continue
        own = {_guard_signature(g) for g in use.guards}
        for guards in reaching:
            extra = tuple(g for g in guards if _guard_signature(g) not in own)
            split.append(replace(use, guards=use.guards + extra))
    return split


def judge_attribute(attr: TrainableAttr, uses: Sequence[Use], facts: ClassFacts) -> Verdict:
    if attr.built.kind == "maybe" and any(use.test_only for use in uses):
        return Verdict(UNDECIDED)  # `if self.fused_attn:`: what the factory built is a flag, not a module
    # code under a constant-false test (`if pre_logits:` with pre_logits=False) never runs: not a use
    uses = [use for use in uses if not any(g.kind == NEVER and g.detail == "constant" for g in use.guards)]
    uses = split_by_return([use for use in uses if not use.test_only], facts.flow)
    flow = facts.flow
    flowing = [u for u in uses if not u.no_grad and (flow.result.get(u.id) is False or (
        u.id not in flow.result and u.id in flow.escaped))]
    uses = uses + covering_uses(flowing)[len(flowing):]
    statuses = [(use, use_status(use, attr, facts)) for use in uses]
    if not statuses:
        return Verdict("unused")
    live = [use for use, (status, _, _) in statuses if status == LIVE]
    if any(status == UNDECIDED for _, (status, _, _) in statuses):
        return Verdict(UNDECIDED)
    if live:
        if any(use.index is WHOLE for use in live) or {(None, -1, None), -1} <= {use.index for use in live}:
            return Verdict(LIVE)  # the whole, or the items before the last and the last (a peeled loop)
        unused = unused_elements(attr, [use.index for use in live])
        return Verdict("unused", unused_elements=unused) if unused else Verdict(UNDECIDED)
    for status in STATUS_ORDER:
        for _, (got, guard, default) in statuses:
            if got == status:
                return Verdict(status, guard, default=default)
    return Verdict(UNDECIDED)


def unused_elements(attr: TrainableAttr, indexes: Sequence[object]) -> Tuple[object, ...]:
    """Elements of a container that no use reaches, or () when that cannot be decided."""
    keys = attr.built.keys
    if all(isinstance(i, str) for i in indexes):
        if keys is None:
            return ()
        used = {str(i)[4:] for i in indexes}
        return tuple(k for k in keys if k not in used)
    if any(isinstance(i, str) for i in indexes):
        return ()
    length = attr.built.length
    assumed = length if length is not None else 1000  # "long": only the two ends can be named
    covered = set()
    for index in indexes:
        if isinstance(index, int):
            covered.add(index % assumed if -assumed <= index < assumed else -1)
        elif isinstance(index, tuple):
            covered.update(range(*slice(*index).indices(assumed)))
    missing = [i for i in range(assumed) if i not in covered]
    if length is not None:
        return tuple(missing)
    head = [i for i in missing if i < 16]
    tail = [i - assumed for i in missing if i >= assumed - 16]
    if len(head) + len(tail) != len(missing):
        return ()  # the middle is not covered: it depends on the length
    return tuple(head + tail)


def findings_for(facts: ClassFacts, attr: TrainableAttr, verdict: Verdict) -> List[Finding]:
    rules = rules_by_code()
    entry = f"{facts.entry}()"
    fix = FIX_TEXT.get(facts.framework, FIX_TEXT["torch"])
    label = f"self.{attr.name}"
    fields = dict(cls=facts.name, attr=label, entry=entry, fix=fix)
    if verdict.status == "unused":
        if attr.built.kind == "maybe":
            code = "DDP902"
            fields["factory"] = attr.built.ctor or "a factory"
        else:
            code = "DDP001"
        if verdict.unused_elements:
            label = ", ".join(f"self.{attr.name}[{_element_text(e)}]" for e in verdict.unused_elements)
            fields["attr"] = label
    elif verdict.status in STATUS_CODE:
        if attr.built.kind == "maybe":
            return []
        code = STATUS_CODE[verdict.status]
        guard = verdict.guard
        fields["guard"] = (guard.text + (f" (default {guard.note})" if guard.note else "")) if guard else ""
        fields["kind"] = guard.detail if guard else ""
        # why the test changes between iterations, where its text hides it: `if cond_on_distance:` alone reads
        # like a constructor flag, `random() < p` or `task == "ner"` says it already
        fields["why"] = f" ({_WHY[guard.detail]})" if guard and guard.detail in _WHY and _BARE.match(
            guard.text) else ""
        fields["default"] = verdict.default
        fields["how"] = {"nograd": "without autograd",
                         "detached": "with its output detached"}.get(verdict.status, "")
        fields["where"] = ("never reaches the 'loss' entry" if facts.flow.loss_key
                           else f"never reaches what {entry} returns")
    else:
        return []
    template = rules[code].message
    if code == "DDP102" and _handed_in(attr):
        template = rules[code].extra["handed_message"]  # not built here: "build it under that flag" cannot apply
    message = template.format(**fields)
    return [Finding(code, attr.line, attr.col, message, facts.name, label, attr.name, verdict.unused_elements)]


def _handed_in(attr: TrainableAttr) -> bool:
    """A module ``__init__`` is given and stores as is (``self.original = module``), built by nothing in the
    class (a deep copy of it is built here: that one can be built under the flag)."""
    return attr.built.handed


_WHY = {"random": "random", "data values": "data", "task or mode argument": "task or mode", "rank": "rank"}
_BARE = re.compile(r"(not )?[\w.]+(\(\))?\Z")  # a name, an attribute or a call without arguments


def _element_text(element: object) -> str:
    return repr(element) if isinstance(element, str) else str(element)
