"""The flake8 adapter: thin on purpose. It never raises out of ``run()`` (that would abort flake8)."""
from __future__ import annotations

import argparse
import ast
import gc
import multiprocessing
import sys
from typing import Any, ClassVar, Iterator, List, Sequence, Tuple

from . import __version__
from .registry import all_rules, default_off_codes, rules_by_code
from .settings import Settings

# The analyser (and libcst) is imported on first use: a flake8 run that deselects every DDP code, or
# lints no file with a module class, never pays for it.

# A file that mentions none of these cannot hold a module class or a launch site we can judge.
MARKERS = ("torch", "nn.", "Module", "Lightning", "PreTrainedModel", "Trainer", "DistributedDataParallel",
           "Accelerator", "fastNLP", "create_ddp_model", "find_unused_parameters", "class ")


class DDPChecker:
    name = "flake8-ddp-unused"
    version = __version__

    enabled: ClassVar[bool] = True
    settings: ClassVar[Settings] = Settings()

    def __init__(self, tree: ast.AST, lines: Sequence[str], filename: str = "<stdin>") -> None:
        self.tree = tree
        self.lines = lines
        self.filename = filename

    @classmethod
    def add_options(cls, manager: Any) -> None:
        manager.add_option(
            "--ddp-entry-points", default="", parse_from_config=True, comma_separated_list=True,
            help="Extra method names that start a training step (tried before training_step, train_step, "
                 "forward). Example: compute_loss,shared_step",
        )
        manager.add_option(
            "--ddp-module-bases", default="", parse_from_config=True, comma_separated_list=True,
            help="Extra qualified base classes that make a class an nn.Module. Example: mylib.nn.BaseModel",
        )
        manager.add_option(
            "--ddp-trainer-calls", default="", parse_from_config=True, comma_separated_list=True,
            help="Extra qualified calls that launch DDP training with the model as first argument. "
                 "Example: mylib.launch.wrap_ddp",
        )
        manager.extend_default_ignore(list(default_off_codes()))

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        from .config import name_errors, prefix_warnings

        warnings: List[str] = []
        values = {}
        for key in ("ddp-entry-points", "ddp-module-bases", "ddp-trainer-calls"):
            names = _names(getattr(options, key.replace("-", "_"), ()))
            bad = name_errors(key, names)
            warnings += [f"{message}; ignored" for message in bad]
            values[key] = tuple(n for n in names if not name_errors(key, [n]))
        cls.settings = Settings(entry_points=values["ddp-entry-points"], module_bases=values["ddp-module-bases"],
                                trainer_calls=values["ddp-trainer-calls"])
        cls.enabled = _any_code_selected(options)
        try:
            warnings += prefix_warnings(options.select, options.ignore, options.extend_select or (),
                                        options.extend_ignore or ())
        except Exception:  # noqa: BLE001 - an unexpected flake8 version: no warning rather than a crash
            pass
        if warnings and multiprocessing.parent_process() is None:  # once, not in each --jobs worker
            for message in warnings:
                print(f"flake8-ddp-unused: warning: {message}", file=sys.stderr)

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        if not self.enabled:
            return
        try:
            if not any(marker in line for line in self.lines for marker in MARKERS):
                return
            if not isinstance(self.tree, ast.Module):
                return
            findings = self._analyze()
        except Exception as error:  # noqa: BLE001 - a plugin exception aborts the whole flake8 run
            message = rules_by_code()["DDP999"].message.format(error=f"{type(error).__name__}: {error}"[:200])
            yield 1, 0, f"DDP999 {message}", type(self)
            return
        for finding in findings:
            yield finding.line, finding.col, finding.text, type(self)

    def _analyze(self) -> List[Any]:
        """The file's findings, with the cycle collector paused. The analysis allocates many short-lived
        objects, and each time the collector ran it also traversed the long-lived ones (the trees of other
        files kept between linted files, flake8's own): on timm it cost about 5 s of the run's CPU, more than
        half of what the plugin added to flake8 alone. What the analysis drops is freed by reference counting
        (``project.release`` breaks its cycles); anything cyclic left waits for the next collection. What it
        keeps for later files is frozen out of the collector's reach (``_freeze_kept_trees``)."""
        from .lint import analyze_tree

        collecting = gc.isenabled()
        gc.disable()
        try:
            return analyze_tree(self.tree, self.lines, self.filename, self.settings)
        finally:
            if collecting:
                _freeze_kept_trees()
                gc.enable()
            if len(self.lines) >= _TRIM_MIN_LINES:
                _return_freed_memory()


# Lines of other files parsed when the collector last froze what was alive, and how many of them were kept.
_frozen_at: List[int] = [0, 0]
_REFREEZE_MIN_LINES = 2_000


def _freeze_kept_trees() -> None:
    """Once the trees of other files kept between linted files (project.py) have grown by enough new lines,
    collect once and freeze what is alive (``gc.freeze``): the collector's later full collections skip it.
    flake8 itself needs those collections (pyflakes links each file's tree into cycles), and each one
    traversed the kept trees again: on timm, 41 full collections over ~140,000 of the plugin's objects cost
    about 2-3 s of CPU, against 0.8 s for flake8 alone. The unfreeze first hands the collector everything
    frozen before, so cyclic garbage frozen then (the tree flake8 was checking at that time) is freed now;
    at most the garbage of one such moment waits. The lines parsed since then, not the lines kept, decide:
    trees replaced under the cache's cap are new objects too."""
    from .project import kept_lines

    loaded, kept = kept_lines()
    if loaded - _frozen_at[0] <= max(_REFREEZE_MIN_LINES, _frozen_at[1] // 2):
        return
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    _frozen_at[:] = [loaded, kept]


# A linted file this long parses enough methods with libcst for its freed trees to be worth handing back.
_TRIM_MIN_LINES = 300
_malloc_trim: List[Any] = []  # [the C library's malloc_trim, or None where there is none], looked up once


def _return_freed_memory() -> None:
    """Hand the heap memory freed by the file's analysis back to the system (glibc's ``malloc_trim``). The
    libcst trees of a large file's methods take tens of MB for a moment; freed, they stay in the process's
    heap, so each flake8 worker keeps the high-water mark of its largest file for the rest of the run (on
    transformers' ``models/``, ~7 MB a worker). Elsewhere than glibc this does nothing."""
    if not _malloc_trim:
        try:
            import ctypes
            import ctypes.util

            name = ctypes.util.find_library("c")
            _malloc_trim.append(getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None)
        except (OSError, AttributeError, ImportError):
            _malloc_trim.append(None)
    trim = _malloc_trim[0]
    if trim is not None:
        trim(0)


def _names(value: Any) -> List[str]:
    if not value:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [v.strip() for v in value if v and v.strip()]


def _any_code_selected(options: argparse.Namespace) -> bool:
    """False when the user's --select/--ignore switch every DDP code off: then we cost nothing."""
    try:
        from flake8.style_guide import Decision, DecisionEngine

        engine = DecisionEngine(options)
        return any(engine.decision_for(rule.code) is Decision.Selected for rule in all_rules())
    except Exception:  # noqa: BLE001 - an unexpected flake8 version: stay on
        return True
