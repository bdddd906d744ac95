"""Which parameters of a model get no gradient when training code keeps only some parts of its output,
read from the model's summary (``summaries.summary_for``) rather than from its own flow.

The flow of a model's own ``forward`` merges its return paths: HF models return a record
(``MaskedLMOutput(loss=..., attentions=...)``) or, with ``return_dict=False``, a tuple built by
concatenation, so the merged value has no parts. The summary keeps each part's feeds, per call context
(the constructor's flags, the arguments the training code passes), and a caller that reads parts by name
(``out.attentions``) receives only the return paths that have named parts.
"""
from __future__ import annotations

import ast
from dataclasses import replace
from typing import Callable, Dict, List, Optional, Set, Tuple

from .. import summaries
from ..index import ClassInfo
from ..init_facts import FileFacts, file_facts

Path = Tuple[str, ...]


def call_shape(call: ast.Call) -> Optional[Tuple[int, Tuple[str, ...]]]:
    """Positional count and keyword names the model call passes; None with ``*args``/``**kwargs``."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    return len(call.args), tuple(sorted(str(k.arg) for k in call.keywords))


def instance_flags(info: ClassInfo, ctor: Dict[str, object], truth: Callable[[object], Optional[bool]]
                   ) -> Tuple[Tuple[str, bool], ...]:
    """The summary's flags fixed by this instance's constructor arguments (``truth``: None when unknown)."""
    facts = summaries._init_facts(info)
    flags: Dict[str, bool] = {}
    for name, flag in facts.flags.items():
        value = truth(ctor.get(flag.key, ...))
        if value is not None:
            flags[name] = value
    for attr in facts.attrs.values():
        key = attr.built_under
        if not key or key == "?":
            continue
        negated = key.startswith("not ")
        value = truth(ctor.get(key[4:] if negated else key, ...))
        if value is not None:
            flags[attr.name] = value != negated
    return tuple(sorted(flags.items()))


def dropped_paths(info: ClassInfo, flags: Tuple[Tuple[str, bool], ...], call: ast.Call, always: Set[object],
                  some: Dict[object, str]) -> List[Tuple[str, str, List[Path], List[object]]]:
    """(code, guard, paths, dropped parts): DDP203 for the paths that feed none of the parts reaching the
    loss, DDP207 (one per guard) for those fed only by parts that reach it under that guard."""
    keys = set(always) | set(some)
    if not keys or not all(isinstance(k, (int, str)) and not isinstance(k, bool) for k in keys):
        return []
    by_name = all(isinstance(k, str) for k in keys)
    summary = summaries.summary_for(info, summaries.Context(flags, call_shape(call)), by_name)
    if summary is None:
        return []

    def known(part: object) -> Optional[object]:
        if isinstance(part, str):
            return part if part in summary.parts else None
        assert isinstance(part, int)
        if 0 <= part < summary.length:
            return part
        if part < 0 and not summary.tail and -summary.length <= part:
            return part % summary.length
        return None

    tied = _tied_names(info)
    summary = replace(summary, never_judged=summary.never_judged - tied)  # tied children: looked into below
    kept_always = {known(k) for k in always}
    kept_some = {known(k): g for k, g in some.items()}
    if None in kept_always or None in kept_some:
        return []  # a part the summary does not know: nothing is claimed
    found: List[Tuple[str, str, List[Path], List[object]]] = []
    dead = _untied(info, summaries.dead_paths(summary, kept_always | set(kept_some)), tied)  # type: ignore[arg-type]
    if dead:
        found.append(("DDP203", "", sorted(dead), _parts_feeding(summary, dead, kept_always | set(kept_some))))
    for guard in sorted(set(kept_some.values())):
        targets = {k for k, g in kept_some.items() if g == guard}
        unguarded = kept_always | {k for k, g in kept_some.items() if g != guard}
        only_here = summaries.dead_paths(summary, unguarded) - summaries.dead_paths(  # type: ignore[arg-type]
            summary, unguarded | targets) - dead  # type: ignore[arg-type]
        only_here = _untied(info, only_here, tied)
        if only_here:
            found.append(("DDP207", guard, sorted(only_here), sorted(targets, key=str)))
    return found


def _parts_feeding(summary: summaries.Summary, paths: Set[Path], kept: Set[object]) -> List[object]:
    """The dropped parts that feed some of ``paths`` (to name them in the message)."""
    out = []
    for part, feeds in summary.parts.items():
        if part in kept:
            continue
        if any(f.path[:len(p)] == p or p[:len(f.path)] == f.path for f in feeds for p in paths):
            out.append(part)
    names = [p for p in out if isinstance(p, str)]
    return names or out  # a record's fields by name rather than by position


def _file_facts(info: ClassInfo) -> FileFacts:
    memo = summaries._cache(info.module)
    facts = memo.get("file_facts")
    if facts is None:
        facts = memo["file_facts"] = file_facts(info.module.tree, info.module.lines, info.module)
    assert isinstance(facts, FileFacts)
    return facts


def _tied_names(info: ClassInfo) -> Set[str]:
    return set(_file_facts(info).tied_names)


def _child(info: ClassInfo, name: str) -> Optional[ClassInfo]:
    attr = summaries._init_facts(info).attrs.get(name)
    if attr is None:
        return None
    owner = next((c for c in info.module.mro(info)[0] if c.name == attr.owner), info)
    call = summaries._ctor_call(owner, attr)
    return summaries._child_class(owner.module, call) if call is not None else None


def _untied(info: ClassInfo, paths: Set[Path], tied: Set[str], depth: int = 0) -> Set[Path]:
    """Paths with no part named in a tied-weights key (``cls.predictions.decoder.weight`` is the word
    embedding's weight: it gets a gradient there); a path through a tied name is replaced by its children
    that no key names (``cls.predictions.transform``), or dropped when they cannot be listed."""
    out: Set[Path] = set()
    for path in paths:
        if not set(path if depth == 0 else path[-1:]) & tied:  # the parents were looked at already
            out.add(path)
            continue
        if depth >= 3:
            continue
        cls: Optional[ClassInfo] = info
        for name in path:
            cls = _child(cls, name) if cls is not None else None
        if cls is None:
            continue
        children = {path + (name,) for name in summaries._init_facts(cls).attrs}
        out |= _untied(info, children, tied | _tied_names(cls), depth + 1)
    return out
