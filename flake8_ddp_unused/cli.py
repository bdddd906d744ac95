"""The standalone command ``flake8-ddp-unused`` (also ``python -m flake8_ddp_unused``).

The same engine as the flake8 plugin, for projects that do not run flake8 (ruff cannot load flake8
plugins), plus what flake8 lacks: ``--fix``/``--diff`` and the json, sarif and github output formats.

Exit status: 0 no findings, 1 findings (or, with ``--diff``, changes to make), 2 usage or configuration
error. Files that cannot be parsed are named on stderr and skipped; they do not change the status.
"""
from __future__ import annotations

import argparse
import ast
import fnmatch
import io
import os
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Sequence, TextIO, Tuple

from . import __version__
from .config import Config, ConfigError, apply, load_config, split_list
from .docs import render_rule
from .output import FORMATS, Result, render
from .plugin import MARKERS
from .index import source_lines
from .registry import rules_by_code
from .settings import Settings
from .skips import SKIP_CODE, Skip

PROGRESS_MIN_FILES = 20  # below this, progress on a terminal is noise


@dataclass(frozen=True)
class FileOutcome:
    results: Tuple[Result, ...] = ()
    error: str = ""  # why the file was skipped
    skipped: Tuple[Skip, ...] = ()  # parts of the file the analysis gave up on


def read_source(path: Path) -> str:
    """Decode as Python does (PEP 263 coding cookie, UTF-8 BOM)."""
    data = path.read_bytes()
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


def display_path(path: Path) -> str:
    return path.as_posix()


def lint_source(source: str, filename: str, config: Config) -> FileOutcome:
    """Findings of one file's text, filtered by select/ignore. Never raises."""
    if not any(marker in source for marker in MARKERS):
        return FileOutcome()
    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        return FileOutcome(error=f"cannot parse, skipped ({type(error).__name__}: {error})")
    try:
        from .analyzer import analyze_tree  # lazy: `explain` and `--help` do not need the analyser

        skipped: List[Skip] = []
        findings = analyze_tree(tree, source_lines(source), filename, config.settings,
                                skipped=skipped)
    except Exception as error:  # noqa: BLE001 - one bad file must not stop the run
        text = f"{type(error).__name__}: {error}"[:200]
        if config.is_enabled("DDP999"):
            message = rules_by_code()["DDP999"].message.format(error=text)
            return FileOutcome(results=(Result(filename, 1, 1, "DDP999", message),))
        return FileOutcome(error=f"internal error, no findings for this file ({text}); please report it")
    results = tuple(
        Result(filename, f.line, f.col + 1, f.code, f.message,
               bool(f.fixable or rules_by_code()[f.code].fixable))
        for f in findings if config.is_enabled(f.code)
    )
    return FileOutcome(results=results, skipped=tuple(skipped))


def _excluded(path: Path, patterns: Sequence[str]) -> bool:
    name = path.name
    absolute = os.path.abspath(path)
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(absolute, p) for p in patterns)


def discover(paths: Sequence[str], config: Config) -> Iterator[Path]:
    """Python files under ``paths``; excludes apply while walking (named files are always linted)."""
    patterns = (*config.exclude, *config.extend_exclude)
    for name in paths:
        path = Path(name)
        if path.is_file():
            yield path
            continue
        if not path.is_dir():
            raise FileNotFoundError(name)
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not _excluded(Path(root) / d, patterns))
            for file in sorted(files):
                candidate = Path(root) / file
                if file.endswith(".py") and not _excluded(candidate, patterns):
                    yield candidate


def _fix_functions() -> Tuple[Callable[..., str], Callable[..., str]]:
    try:
        from . import fixes
    except ImportError as error:
        raise ConfigError(
            f"--fix/--diff need flake8_ddp_unused.fixes, which this installation lacks ({error})") from error
    return fixes.fix_source, fixes.diff_source


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flake8-ddp-unused",
        description="Find PyTorch parameters that get no gradient in a training iteration, the cause of "
                    "DDP's 'Expected to have finished reduction in the prior iteration'. "
                    "`flake8-ddp-unused explain CODE` prints a rule's documentation.",
        epilog="Configuration: [flake8] in setup.cfg/tox.ini/.flake8 (as flake8 finds it) and "
               "[tool.flake8-ddp-unused] in pyproject.toml. Exit status: 0 clean, 1 findings, 2 usage error.",
    )
    parser.add_argument("paths", nargs="*", default=["."], help="files or directories (default: .)")
    parser.add_argument("--format", choices=FORMATS, default="default",
                        help="output format (default: %(default)s)")
    parser.add_argument("--output-file", type=Path, help="write the report here instead of stdout")
    parser.add_argument("--select", help="comma-separated code prefixes to report (replaces the default)")
    parser.add_argument("--ignore", help="code prefixes not to report (replaces the configured ignore)")
    parser.add_argument("--extend-select", help="code prefixes to report in addition, e.g. DDP901")
    parser.add_argument("--extend-ignore", help="code prefixes not to report, in addition")
    parser.add_argument("--ddp-entry-points", help="extra training entry-point method names")
    parser.add_argument("--ddp-module-bases", help="extra qualified base classes that make an nn.Module")
    parser.add_argument("--ddp-trainer-calls", help="extra qualified calls that launch DDP training")
    parser.add_argument("--exclude", help="comma-separated patterns to skip while walking directories")
    parser.add_argument("--extend-exclude", help="patterns to skip, in addition")
    parser.add_argument("--config", type=Path, help="read [flake8] from this file instead of searching")
    parser.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    fix = parser.add_mutually_exclusive_group()
    fix.add_argument("--fix", action="store_true", help="apply the safe fixes of fixable codes in place")
    fix.add_argument("--diff", action="store_true", help="print the fixes as a unified diff, change nothing")
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None,
                          help="show progress on stderr (default: when stderr is a terminal)")
    progress.add_argument("--no-progress", dest="progress", action="store_false")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help=f"say what the analysis skipped and why (stderr; a \"skipped\" list in the json "
                             f"report); the same records are the opt-in code {SKIP_CODE}")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def explain(argv: Sequence[str], out: TextIO) -> int:
    rules = rules_by_code()
    if len(argv) != 1:
        print("usage: flake8-ddp-unused explain CODE   (codes: " + ", ".join(rules) + ")", file=sys.stderr)
        return 2
    code = argv[0].strip().upper()
    rule = rules.get(code)
    if rule is None:
        print(f"unknown code {argv[0]!r}; known codes: {', '.join(rules)}", file=sys.stderr)
        return 2
    out.write(render_rule(rule))
    return 0


def _config_from_args(args: argparse.Namespace) -> Config:
    config = load_config(Path.cwd(), args.config, args.isolated)
    overrides = {key.replace("_", "-"): getattr(args, key) for key in (
        "select", "ignore", "extend_select", "extend_ignore", "ddp_entry_points", "ddp_module_bases",
        "ddp_trainer_calls", "exclude", "extend_exclude") if getattr(args, key) is not None}
    for key in ("extend-select", "extend-ignore", "extend-exclude"):  # added to the configured ones
        if key in overrides:
            overrides[key] = (*getattr(config, key.replace("-", "_")), *split_list(overrides[key]))
    return apply(config, overrides, base=Path.cwd())


class Progress:
    def __init__(self, total: int, enabled: bool, stream: TextIO) -> None:
        self.total, self.enabled, self.stream, self.width = total, enabled, stream, 0

    def update(self, done: int, path: Path) -> None:
        if self.enabled:
            text = f"[{done}/{self.total}] {display_path(path)}"[:200]
            self.stream.write("\r" + text.ljust(self.width))
            self.width = len(text)
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    config = _config_from_args(args)
    fixers = _fix_functions() if (args.fix or args.diff) else None
    files = sorted(set(discover(args.paths, config)), key=display_path)  # flake8's order
    show_progress = args.progress if args.progress is not None else (
        err.isatty() and len(files) >= PROGRESS_MIN_FILES)
    progress = Progress(len(files), bool(show_progress), err)
    results: List[Result] = []
    skipped: List[Skip] = []
    diffs: List[str] = []
    for done, path in enumerate(files, start=1):
        progress.update(done, path)
        name = display_path(path)
        try:
            source = read_source(path)
        except (OSError, UnicodeDecodeError, SyntaxError, LookupError) as error:
            progress.close()
            print(f"{name}: cannot read, skipped ({type(error).__name__}: {error})", file=err)
            continue
        outcome = lint_source(source, name, config)
        if fixers is not None and any(r.fixable for r in outcome.results):
            fixed = _apply_fix(fixers, source, name, config.settings, args.fix, diffs, err)
            if args.fix and fixed is not None and fixed != source:
                path.write_text(fixed, encoding=_encoding_of(path))
                outcome = lint_source(fixed, name, config)
        if outcome.error:
            progress.close()
            print(f"{name}: {outcome.error}", file=err)
        results.extend(outcome.results)
        skipped.extend(outcome.skipped)
        if args.verbose:
            for skip in outcome.skipped:
                progress.close()
                print(f"{skip.file}:{skip.line}: skipped {skip.subject}: {skip.reason}", file=err)
    progress.close()
    report = "".join(diffs) if args.diff else render(results, args.format, skipped if args.verbose else None)
    if args.output_file is not None:
        args.output_file.write_text(report, encoding="utf-8")
    else:
        out.write(report)
    if args.diff:
        return 1 if diffs else 0
    return 1 if results else 0


def _apply_fix(fixers: Tuple[Callable[..., str], Callable[..., str]], source: str, name: str,
               settings: Settings, write: bool, diffs: List[str], err: TextIO) -> Optional[str]:
    fix_source, diff_source = fixers
    try:
        if write:
            return fix_source(source, name, settings)
        diff = diff_source(source, name, settings)
        if diff:
            diffs.append(diff if diff.endswith("\n") else diff + "\n")
        return None
    except Exception as error:  # noqa: BLE001 - a failed fix leaves the file as it was
        print(f"{name}: could not fix ({type(error).__name__}: {error}); file left unchanged", file=err)
        return None


def _encoding_of(path: Path) -> str:
    with path.open("rb") as handle:
        encoding, _ = tokenize.detect_encoding(handle.readline)
    return encoding


def main(argv: Optional[Sequence[str]] = None, out: Optional[TextIO] = None,
         err: Optional[TextIO] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    out = out or sys.stdout
    err = err or sys.stderr
    if argv and argv[0] == "explain":
        return explain(argv[1:], out)
    args = build_parser().parse_args(argv)
    try:
        return run(args, out, err)
    except ConfigError as error:
        print(f"flake8-ddp-unused: error: {error}", file=err)
        return 2
    except FileNotFoundError as error:
        print(f"flake8-ddp-unused: error: no such file or directory: {error}", file=err)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
