"""Launch-site rules (DDP2xx): filled in by the launch-site work (issue 4)."""
from __future__ import annotations

from typing import Tuple

from .registry import Rule

LAUNCH_RULES: Tuple[Rule, ...] = ()
