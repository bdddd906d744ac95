"""The plugin's codes, read from its registry (so the scripts never go stale when codes are added)."""
from __future__ import annotations

from typing import List

from flake8_ddp_unused.registry import all_rules


def default_on_codes() -> List[str]:
    return [rule.code for rule in all_rules() if rule.default_on]


def opt_in_codes() -> List[str]:
    return [rule.code for rule in all_rules() if not rule.default_on]
