"""Configuration of the standalone command: the same keys the flake8 plugin reads, plus pyproject.toml.

Sources, later ones override earlier ones key by key:

1. the ``[flake8]`` section of the first of ``setup.cfg``, ``tox.ini``, ``.flake8`` that has one, searched
   from the current directory upwards exactly as flake8 does (or the file given with ``--config``);
2. ``[tool.flake8-ddp-unused]`` in the nearest ``pyproject.toml`` that has that table;
3. command-line options.

``--isolated`` skips 1 and 2. Keys: ``ddp-entry-points``, ``ddp-module-bases``, ``ddp-trainer-calls``,
``select``, ``ignore``, ``extend-select``, ``extend-ignore``, ``exclude``, ``extend-exclude``
(underscores work too). Values are comma or whitespace separated lists (TOML arrays in pyproject.toml).
"""
from __future__ import annotations

import configparser
import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .registry import all_rules, rules_by_code
from .settings import Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib

FLAKE8_FILES = ("setup.cfg", "tox.ini", ".flake8")
PYPROJECT_TABLE = "flake8-ddp-unused"
LIST_KEYS = ("ddp-entry-points", "ddp-module-bases", "ddp-trainer-calls", "select", "ignore",
             "extend-select", "extend-ignore", "exclude", "extend-exclude")
# flake8's default --exclude
DEFAULT_EXCLUDE = (".svn", "CVS", ".bzr", ".hg", ".git", "__pycache__", ".tox", ".nox", ".eggs", "*.egg")


class ConfigError(Exception):
    """A configuration file that cannot be read: reported as a usage error."""


@dataclass(frozen=True)
class Config:
    entry_points: Tuple[str, ...] = ()
    module_bases: Tuple[str, ...] = ()
    trainer_calls: Tuple[str, ...] = ()
    select: Optional[Tuple[str, ...]] = None  # None: not given (all default-on codes)
    ignore: Tuple[str, ...] = ()
    extend_select: Tuple[str, ...] = ()
    extend_ignore: Tuple[str, ...] = ()
    exclude: Tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: Tuple[str, ...] = ()
    sources: Tuple[str, ...] = field(default=())  # files read, for --show-config and error messages

    @property
    def settings(self) -> Settings:
        return Settings(entry_points=self.entry_points, module_bases=self.module_bases,
                        trainer_calls=self.trainer_calls)

    def is_enabled(self, code: str) -> bool:
        return is_enabled(code, self.select, self.ignore, self.extend_select, self.extend_ignore)

    def enabled_codes(self) -> List[str]:
        return [rule.code for rule in all_rules() if self.is_enabled(rule.code)]


def split_list(value: Any) -> Tuple[str, ...]:
    """flake8's list syntax: commas and/or whitespace (newlines in ini files); TOML arrays as they are."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        items: List[str] = []
        for item in value:
            items.extend(split_list(str(item)))
        return tuple(items)
    return tuple(part for part in re.split(r"[,\s]+", str(value)) if part)


def is_enabled(code: str, select: Optional[Sequence[str]], ignore: Sequence[str],
               extend_select: Sequence[str], extend_ignore: Sequence[str]) -> bool:
    """flake8's prefix semantics, restricted to this plugin's codes.

    A code is on when a select prefix matches it (``select`` defaults to every code) and no ignore prefix
    at least as long matches it. Off-by-default codes (DDP9xx) are on only when a prefix given in
    ``select``/``extend-select`` matches them (``--select DDP`` or ``--extend-select DDP901``), as in flake8.
    Unlike flake8, giving ``ignore`` does not switch the off-by-default codes on.
    """
    explicit = [p for p in (*(select or ()), *extend_select) if code.startswith(p)]
    candidates = explicit if select is not None else explicit + ["DDP"]
    candidates = [p for p in candidates if code.startswith(p)]
    if not candidates:
        return False
    longest_select = max(len(p) for p in candidates)
    ignored = [p for p in (*ignore, *extend_ignore) if code.startswith(p)]
    if ignored and max(len(p) for p in ignored) >= longest_select:
        return False
    rule = rules_by_code().get(code)
    if rule is not None and not rule.default_on and not explicit:
        return False
    return True


def find_flake8_config(start: Path) -> Optional[Path]:
    """The file flake8 itself would use: first of setup.cfg/tox.ini/.flake8 with a [flake8] section,
    from ``start`` up to the file system root or the home directory."""
    home = Path(os.path.expanduser("~")).resolve()
    path = start.resolve()
    while True:
        for name in FLAKE8_FILES:
            candidate = path / name
            if not candidate.is_file():
                continue
            parser = configparser.RawConfigParser()
            try:
                parser.read(candidate, encoding="utf-8")
            except (UnicodeDecodeError, configparser.Error):
                continue  # flake8 warns and skips it too
            if parser.has_section("flake8") or parser.has_section("flake8:local-plugins"):
                return candidate
        parent = path.parent
        if parent == path or parent == home:
            return None
        path = parent


def find_pyproject(start: Path) -> Optional[Path]:
    """The nearest pyproject.toml, from ``start`` upwards, with a ``[tool.flake8-ddp-unused]`` table."""
    path = start.resolve()
    while True:
        candidate = path / "pyproject.toml"
        if candidate.is_file() and PYPROJECT_TABLE in _read_toml(candidate).get("tool", {}):
            return candidate
        if path.parent == path:
            return None
        path = path.parent


def _read_toml(path: Path) -> Dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot read TOML ({error})") from error


def read_flake8_section(path: Path) -> Dict[str, str]:
    parser = configparser.RawConfigParser()
    try:
        read = parser.read(path, encoding="utf-8")
    except (UnicodeDecodeError, configparser.Error) as error:
        raise ConfigError(f"{path}: cannot read ({error})") from error
    if not read:
        raise ConfigError(f"{path}: no such file")
    if not parser.has_section("flake8"):
        return {}
    return {key.replace("_", "-"): value for key, value in parser.items("flake8")}


def read_pyproject_table(path: Path) -> Dict[str, Any]:
    table = _read_toml(path).get("tool", {}).get(PYPROJECT_TABLE, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.{PYPROJECT_TABLE}] must be a table")
    return {key.replace("_", "-"): value for key, value in table.items()}


def _relative_patterns(values: Sequence[str], base: Path) -> Tuple[str, ...]:
    """As flake8 does: patterns containing a slash are paths relative to their config file."""
    return tuple(os.path.abspath(os.path.join(base, value)) if "/" in value else value for value in values)


def apply(config: Config, values: Mapping[str, Any], source: str = "", base: Optional[Path] = None) -> Config:
    """A new Config with the known keys of ``values`` (flake8 spelling) applied."""
    changes: Dict[str, Any] = {}
    for key in LIST_KEYS:
        if key not in values or values[key] is None:
            continue
        items = split_list(values[key])
        if key in ("exclude", "extend-exclude") and base is not None:
            items = _relative_patterns(items, base)
        changes[key.replace("-", "_").replace("ddp_", "")] = items
    if source:
        changes["sources"] = (*config.sources, source)
    return replace(config, **changes)


def load_config(cwd: Path, config_file: Optional[Path] = None, isolated: bool = False) -> Config:
    config = Config()
    if isolated:
        return config
    flake8_file = config_file or find_flake8_config(cwd)
    if flake8_file is not None:
        config = apply(config, read_flake8_section(flake8_file), str(flake8_file), flake8_file.parent)
    pyproject = find_pyproject(cwd)
    if pyproject is not None:
        config = apply(config, read_pyproject_table(pyproject), str(pyproject), pyproject.parent)
    return config
