"""What the analysis did not look at, and why: one generic record for every kind of give-up.

A linter that silently skips code looks the same as one that found nothing wrong. Whenever a part of
the code is not analysed (a class whose training step is too large, a method libcst cannot parse, a
budget spent), a :class:`Skip` says so: the file, the line, what was skipped (``class Net``) and the
reason. They surface as the off-by-default code DDP998 under flake8, and on stderr (``--verbose``) and
in the JSON report (``"skipped"``) of the standalone command. Other analyses (launch sites whose model
cannot be resolved, ...) add their records to the same channel.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence

from .rules import Finding

SKIP_CODE = "DDP998"


@dataclass(frozen=True)
class Skip:
    file: str
    line: int
    subject: str  # what was not analysed, as written: "class Net", "launch site DistributedDataParallel(...)"
    reason: str  # why, in a few words: "its forward() nests expressions 120 deep (limit 100)"

    def finding(self) -> Finding:
        from .registry import rules_by_code

        message = rules_by_code()[SKIP_CODE].message.format(subject=self.subject, reason=self.reason)
        return Finding(SKIP_CODE, self.line, 0, message)

    def as_dict(self) -> dict:
        return {"path": self.file, "line": self.line, "subject": self.subject, "reason": self.reason}


def one_per_chain(records: Sequence[Skip], local_bases: Callable[[str], Sequence[str]]) -> List[Skip]:
    """One record per cause: a class skipped for the same reason as one of its bases (a class of the same
    file) joins that base's record, which then says how many classes it covers ("class C64 and 3,935
    subclasses"). A deep hierarchy cut at a limit gives one record, not one per class; unrelated classes
    keep their own. Records about anything but a class pass through unchanged."""
    by_class: Dict[str, Skip] = {r.subject[len("class "):]: r for r in records if r.subject.startswith("class ")}
    parent: Dict[str, str] = {}
    for name, record in by_class.items():
        for base in local_bases(name):
            if base != name and base in by_class and by_class[base].reason == record.reason:
                parent[name] = base
                break
    root_of: Dict[str, str] = {}
    for name in by_class:
        path = []
        current = name
        while current in parent and current not in root_of and current not in path:  # iterative: chains of 1000s
            path.append(current)
            current = parent[current]
        root = root_of.get(current, current)
        for member in path + [current]:
            root_of[member] = root
    members: Dict[str, int] = {}
    for name in by_class:
        members[root_of[name]] = members.get(root_of[name], 0) + 1
    out: List[Skip] = []
    for record in records:
        name = record.subject[len("class "):] if record.subject.startswith("class ") else None
        if name is None or by_class.get(name) is not record:
            out.append(record)
        elif root_of[name] == name:
            more = members[name] - 1
            subject = record.subject if not more else (
                f"{record.subject} and {more:,} subclass{'es' if more > 1 else ''}")
            out.append(Skip(record.file, record.line, subject, record.reason))
    return out
