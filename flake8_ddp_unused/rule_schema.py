"""What a rule is: the record every code's table entry fills (kept apart so the two tables can import it)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict

REDUCTION_ERROR = "Expected to have finished reduction in the prior iteration before starting a new one"


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    message: str  # str.format template; fields are supplied by the rule that reports
    summary: str  # one line: what it does
    why: str
    example: str
    use_instead: str
    known_limits: str = ""
    options: str = ""
    fix_safety: str = "No autofix."
    default_on: bool = True
    fixable: bool = False
    extra: Dict[str, str] = field(default_factory=dict)
