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
