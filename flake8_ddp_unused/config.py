"""Configuration of the standalone command: the configuration flake8 reads, with flake8's semantics.

Sources, later ones override earlier ones key by key:

1. flake8's configuration file: ``pyproject.toml``'s ``[tool.flake8]`` in the current directory when there is
   one (what the Flake8-pyproject plugin makes flake8 read), otherwise the ``[flake8]`` section of the first of
   ``setup.cfg``, ``tox.ini``, ``.flake8`` that has one, searched from the current directory upwards as flake8
   does (or the file given with ``--config``);
2. ``[tool.flake8-ddp-unused]`` in the nearest ``pyproject.toml`` that has that table;
3. command-line options.

``--isolated`` skips 1 and 2. Keys: ``ddp-entry-points``, ``ddp-module-bases``, ``ddp-trainer-calls``,
``select``, ``ignore``, ``extend-select``, ``extend-ignore``, ``per-file-ignores``, ``exclude``,
``extend-exclude``, ``disable-noqa``, ``max-line-length`` (what the autofix keeps lines within; underscores work
too), plus the standalone's own ``force-exclude`` and ``respect-gitignore``. Which codes are reported is
decided by flake8's own decision engine, so the same select/ignore configuration gives the same answer in both.
"""
from __future__ import annotations

import argparse
import configparser
import difflib
import functools
import logging
import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from flake8 import defaults as flake8_defaults
from flake8 import utils as flake8_utils
from flake8.style_guide import Decision, DecisionEngine

from .registry import all_rules, default_off_codes
from .settings import Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib

LOG = logging.getLogger(__name__)
FLAKE8_FILES = ("setup.cfg", "tox.ini", ".flake8")
PYPROJECT_TABLE = "flake8-ddp-unused"
PLUGIN_PREFIX = "DDP"  # the plugin's entry-point name: flake8 selects it by default
NAME_KEYS = ("ddp-entry-points", "ddp-module-bases", "ddp-trainer-calls")
CODE_KEYS = ("select", "ignore", "extend-select", "extend-ignore")
LIST_KEYS = (*NAME_KEYS, *CODE_KEYS, "exclude", "extend-exclude")
BOOL_KEYS = ("disable-noqa", "force-exclude", "respect-gitignore")
KNOWN_KEYS = (*LIST_KEYS, "per-file-ignores", *BOOL_KEYS)
# flake8's default --exclude, plus ruff's default exclude list (virtual environments, build output, caches)
FLAKE8_EXCLUDE = tuple(flake8_defaults.EXCLUDE)
RUFF_EXCLUDE = (".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache",
                ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox", ".venv",
                ".vscode", "__pypackages__", "_build", "buck-out", "dist", "node_modules", "site-packages", "venv")
DEFAULT_EXCLUDE = tuple(dict.fromkeys((*FLAKE8_EXCLUDE, *RUFF_EXCLUDE)))
_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_NAME_PATTERNS = {
    "ddp-entry-points": re.compile(rf"^{_IDENTIFIER}$"),
    "ddp-module-bases": re.compile(rf"^{_IDENTIFIER}(\.{_IDENTIFIER})*$"),
    "ddp-trainer-calls": re.compile(rf"^{_IDENTIFIER}(\.{_IDENTIFIER})*$"),
}


class ConfigError(Exception):
    """A configuration that cannot be used: reported as a usage error (exit status 2)."""


@dataclass(frozen=True)
class Config:
    entry_points: Tuple[str, ...] = ()
    module_bases: Tuple[str, ...] = ()
    trainer_calls: Tuple[str, ...] = ()
    select: Optional[Tuple[str, ...]] = None  # None: not given (flake8's default select, which has DDP)
    ignore: Optional[Tuple[str, ...]] = None  # None: flake8's default ignore, which holds the DDP9xx codes
    extend_select: Tuple[str, ...] = ()
    extend_ignore: Tuple[str, ...] = ()
    exclude: Tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: Tuple[str, ...] = ()
    per_file_ignores: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()  # (pattern, codes), as flake8 parses them
    disable_noqa: bool = False
    force_exclude: bool = False
    respect_gitignore: bool = True
    max_line_length: int = 79  # flake8's, read from its configuration: the fixes keep lines within it
    sources: Tuple[str, ...] = field(default=())  # files read, for messages
    origins: Tuple[Tuple[str, str], ...] = field(default=())  # (key, where it was set) for messages

    @property
    def settings(self) -> Settings:
        return Settings(entry_points=self.entry_points, module_bases=self.module_bases,
                        trainer_calls=self.trainer_calls)

    def is_enabled(self, code: str, filename: Optional[str] = None) -> bool:
        extra = self.per_file_codes(filename) if filename is not None else ()
        return is_enabled(code, self.select, self.ignore, self.extend_select, (*self.extend_ignore, *extra))

    def per_file_codes(self, filename: str) -> Tuple[str, ...]:
        """The codes ``per-file-ignores`` adds for this file: flake8 uses the longest matching pattern only."""
        matching = [(pattern, codes) for pattern, codes in self.per_file_ignores
                    if flake8_utils.matches_filename(filename, patterns=[pattern], log_message="%(path)s%(whether)s",
                                                     logger=LOG)]
        if not matching:
            return ()
        return max(matching, key=lambda item: len(item[0]))[1]

    def enabled_codes(self) -> List[str]:
        return [rule.code for rule in all_rules() if self.is_enabled(rule.code)]

    def origin(self, key: str) -> str:
        return next((where for name, where in reversed(self.origins) if name == key), "the command line")


def flake8_options(select: Optional[Sequence[str]], ignore: Optional[Sequence[str]],
                   extend_select: Sequence[str], extend_ignore: Sequence[str]) -> argparse.Namespace:
    """The options flake8's DecisionEngine reads, as flake8 builds them with this plugin installed."""
    return argparse.Namespace(
        select=None if select is None else list(select), ignore=None if ignore is None else list(ignore),
        extend_select=list(extend_select), extend_ignore=list(extend_ignore),
        extended_default_select=[PLUGIN_PREFIX], extended_default_ignore=list(default_off_codes()))


def is_enabled(code: str, select: Optional[Sequence[str]], ignore: Optional[Sequence[str]],
               extend_select: Sequence[str] = (), extend_ignore: Sequence[str] = ()) -> bool:
    """flake8's own decision for ``code`` (its DecisionEngine), so that one configuration gives one answer.

    ``select``/``ignore`` None means "not given". As in flake8, giving ``ignore`` replaces flake8's default
    ignore list, which is where the off-by-default DDP9xx codes live, so ``ignore = E501`` turns them on.
    """
    engine = _engine(None if select is None else tuple(select), None if ignore is None else tuple(ignore),
                     tuple(extend_select), tuple(extend_ignore))
    return engine.decision_for(code) is Decision.Selected


@functools.lru_cache(maxsize=256)
def _engine(select: Optional[Tuple[str, ...]], ignore: Optional[Tuple[str, ...]], extend_select: Tuple[str, ...],
            extend_ignore: Tuple[str, ...]) -> DecisionEngine:
    return DecisionEngine(flake8_options(select, ignore, extend_select, extend_ignore))


def prefix_warnings(select: Optional[Sequence[str]], ignore: Optional[Sequence[str]],
                    extend_select: Sequence[str], extend_ignore: Sequence[str]) -> List[str]:
    """Warnings for prefixes shorter than ``DDP`` that swallow this plugin's codes (pydocstyle's ``D``).

    ``extend-ignore = D`` switches every DDP code off, ``extend-select = D`` switches the off-by-default
    DDP9xx codes on; both are rarely meant. Said only when the decision really changes.
    """
    short = [p for p in (*(select or ()), *extend_select, *(ignore or ()), *extend_ignore)
             if p and PLUGIN_PREFIX.startswith(p) and p != PLUGIN_PREFIX]
    if not short:
        return []
    warnings = []
    ignored_short = [p for p in (*(ignore or ()), *extend_ignore) if p in short]
    default_on = [r.code for r in all_rules() if r.default_on]
    off = [c for c in default_on if not is_enabled(c, select, ignore, extend_select, extend_ignore)]
    if ignored_short and off:
        warnings.append(
            f"ignoring the prefix {', '.join(sorted(set(ignored_short)))} also switches off "
            f"{'every DDP code' if len(off) == len(default_on) else ', '.join(off)} (flake8 matches code "
            "prefixes); list the other plugin's codes instead (D1,D2,D3,D4 for pydocstyle) or add "
            "extend-select = DDP")
    selected_short = [p for p in (*(select or ()), *extend_select) if p in short]
    explicit = [p for p in (*(select or ()), *extend_select) if len(p) >= len(PLUGIN_PREFIX)]
    opt_in = [c for c in default_off_codes() if is_enabled(c, select, ignore, extend_select, extend_ignore)
              and not any(c.startswith(p) for p in explicit)]
    if selected_short and opt_in:
        warnings.append(
            f"selecting the prefix {', '.join(sorted(set(selected_short)))} also switches on the "
            f"off-by-default {', '.join(opt_in)} (flake8 matches code prefixes); select the other plugin's "
            "codes instead (D1,D2,D3,D4 for pydocstyle)")
    return warnings


def name_errors(key: str, values: Sequence[str]) -> List[str]:
    """Entries of a ``ddp-*`` option that cannot be a method name or a qualified name."""
    pattern = _NAME_PATTERNS.get(key)
    if pattern is None:
        return []
    kind = "a method name" if key == "ddp-entry-points" else "a qualified name such as mylib.nn.BaseModel"
    return [f"{key}: {value!r} is not {kind}" for value in values if not pattern.match(value)]


def code_errors(key: str, values: Sequence[str]) -> List[str]:
    """flake8 refuses code prefixes that do not look like codes (``^[A-Z]{1,3}[0-9]{0,3}$``)."""
    return [f"{key}: {value!r} is not a code prefix (like DDP, DDP0 or DDP001)" for value in values
            if not flake8_defaults.VALID_CODE_PREFIX.match(value)]


def unknown_prefixes(values: Sequence[str]) -> List[str]:
    """Prefixes that name no code of this plugin (and are no shorter prefix of DDP)."""
    codes = [rule.code for rule in all_rules()]
    return [value for value in values if not PLUGIN_PREFIX.startswith(value)
            and not any(code.startswith(value) for code in codes)]


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


def _read_ini(path: Path) -> configparser.RawConfigParser:
    """Raises UnicodeDecodeError/ParsingError (flake8 skips such a file) or ConfigError."""
    parser = configparser.RawConfigParser()
    try:
        parser.read(str(path), encoding="utf-8")
    except configparser.ParsingError:
        raise
    except configparser.Error as error:  # a duplicated section or key: flake8 stops with an error too
        raise ConfigError(f"{path}: {error}") from error
    return parser


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
            try:
                parser = _read_ini(candidate)
            except (UnicodeDecodeError, configparser.ParsingError):
                continue  # flake8 warns and skips it too
            if parser.has_section("flake8") or parser.has_section("flake8:local-plugins"):
                return candidate
        parent = path.parent
        if parent == path or parent == home:
            return None
        path = parent


def pyproject_flake8_table(start: Path) -> Optional[Path]:
    """``pyproject.toml`` in ``start`` (not above: Flake8-pyproject looks only there) with ``[tool.flake8]``."""
    candidate = start.resolve() / "pyproject.toml"
    if candidate.is_file() and "flake8" in _tool_tables(candidate):
        return candidate
    return None


def find_pyproject(start: Path) -> Optional[Path]:
    """The nearest pyproject.toml, from ``start`` upwards, with a ``[tool.flake8-ddp-unused]`` table."""
    path = start.resolve()
    while True:
        candidate = path / "pyproject.toml"
        if candidate.is_file() and PYPROJECT_TABLE in _tool_tables(candidate):
            return candidate
        if path.parent == path:
            return None
        path = path.parent


def _tool_tables(path: Path) -> Dict[str, Any]:
    tool = _read_toml(path).get("tool", {})
    return tool if isinstance(tool, dict) else {}


def _read_toml(path: Path) -> Dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot read TOML ({error})") from error


def read_flake8_section(path: Path) -> Dict[str, Any]:
    if path.name == "pyproject.toml" and "flake8" in _tool_tables(path):
        return _table(path, "flake8")
    try:
        parser = configparser.RawConfigParser()
        read = parser.read(str(path), encoding="utf-8")
    except configparser.Error as error:
        raise ConfigError(f"{path}: cannot read ({error})") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: cannot read ({error})") from error
    if not read:
        raise ConfigError(f"{path}: no such file")
    if not parser.has_section("flake8"):
        return {}
    return {key.replace("_", "-"): value for key, value in parser.items("flake8")}


def _table(path: Path, name: str) -> Dict[str, Any]:
    table = _tool_tables(path).get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.{name}] must be a table")
    return {key.replace("_", "-"): value for key, value in table.items()}


def read_pyproject_table(path: Path) -> Dict[str, Any]:
    return _table(path, PYPROJECT_TABLE)


def check_table(values: Mapping[str, Any], where: str) -> None:
    """``[tool.flake8-ddp-unused]`` holds only our keys, with the right types: a typo is an error there."""
    errors = []
    for key, value in values.items():
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1, cutoff=0.75)
            hint = f" (did you mean {close[0]}?)" if close else f" (known keys: {', '.join(KNOWN_KEYS)})"
            errors.append(f"unknown key {key!r}{hint}")
        elif key in BOOL_KEYS and not isinstance(value, bool):
            errors.append(f"{key} must be true or false, not {value!r}")
        elif key not in BOOL_KEYS and not (isinstance(value, str) or (
                isinstance(value, list) and all(isinstance(item, str) for item in value))):
            errors.append(f"{key} must be a string or an array of strings, not {value!r}")
    if errors:
        raise ConfigError(f"{where}: " + "; ".join(errors))


def _bool(key: str, value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "yes", "true", "on"):
        return True
    if text in ("0", "no", "false", "off"):
        return False
    raise ConfigError(f"{where}: {key} must be true or false, not {value!r}")


def apply(config: Config, values: Mapping[str, Any], source: str = "", base: Optional[Path] = None) -> Config:
    """A new Config with the known keys of ``values`` (flake8 spelling) applied; validates what it applies.

    Unknown keys are left alone (a [flake8] section holds other plugins' options), except misspelled
    ``ddp-*`` keys, which can only be meant for this plugin.
    """
    where = source or "the command line"
    changes: Dict[str, Any] = {}
    errors: List[str] = []
    origins = list(config.origins)
    for key, value in values.items():
        if value is None:
            continue
        if key.startswith("ddp-") and key not in KNOWN_KEYS:
            close = difflib.get_close_matches(key, NAME_KEYS, n=1, cutoff=0.75)
            errors.append(f"unknown key {key!r}" + (f" (did you mean {close[0]}?)" if close else ""))
            continue
        if key == "max-line-length":  # flake8's own option: the autofix keeps lines within it
            try:
                changes["max_line_length"] = int(str(value).strip())
            except ValueError:
                errors.append(f"max-line-length must be a whole number, not {value!r}")
            else:
                origins.append((key, where))
            continue
        if key not in KNOWN_KEYS:
            continue
        origins.append((key, where))
        if key in BOOL_KEYS:
            changes[key.replace("-", "_")] = _bool(key, value, where)
            continue
        if key == "per-file-ignores":
            mapping = _per_file_ignores(value, where)
            for _, codes in mapping:
                errors.extend(code_errors(key, codes))
            changes["per_file_ignores"] = mapping
            continue
        items = split_list(value)
        if key in CODE_KEYS:
            errors.extend(code_errors(key, items))
        errors.extend(name_errors(key, items))
        if key in ("exclude", "extend-exclude") and base is not None:
            items = tuple(flake8_utils.normalize_paths(list(items), str(base)))
        changes[key.replace("-", "_").replace("ddp_", "")] = items
    if errors:
        raise ConfigError(f"{where}: " + "; ".join(errors))
    if source:
        changes["sources"] = (*config.sources, source)
    changes["origins"] = tuple(origins)
    return replace(config, **changes)


def _per_file_ignores(value: Any, where: str) -> Tuple[Tuple[str, Tuple[str, ...]], ...]:
    text = value if isinstance(value, str) else "\n".join(str(v) for v in value)
    try:
        mapping = flake8_utils.parse_files_to_codes_mapping(text)
    except ValueError as error:
        raise ConfigError(f"{where}: per-file-ignores: {error}") from error
    # patterns with a slash are relative to the current directory, as flake8 normalises them
    return tuple((flake8_utils.normalize_path(pattern), tuple(codes)) for pattern, codes in mapping)


def load_config(cwd: Path, config_file: Optional[Path] = None, isolated: bool = False) -> Config:
    config = Config()
    if isolated:
        return config
    flake8_file = config_file or pyproject_flake8_table(cwd) or find_flake8_config(cwd)
    if flake8_file is not None:
        base = cwd if flake8_file.name == "pyproject.toml" else flake8_file.parent
        config = apply(config, read_flake8_section(flake8_file), str(flake8_file), base)
    pyproject = find_pyproject(cwd)
    if pyproject is not None:
        values = read_pyproject_table(pyproject)
        where = f"{pyproject} [tool.{PYPROJECT_TABLE}]"
        check_table(values, where)
        config = apply(config, values, where, pyproject.parent)
    return config
