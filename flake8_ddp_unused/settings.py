"""User settings shared by the flake8 plugin, the standalone command and the analyser (kept light to import)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple


@dataclass(frozen=True)
class Settings:
    entry_points: Tuple[str, ...] = ()  # extra training entry points, tried before the built-in ones
    module_bases: Tuple[str, ...] = ()  # extra qualified base classes that make a module class
    trainer_calls: Tuple[str, ...] = ()  # extra launcher calls (see launch.py)
