"""The standalone command ``flake8-ddp-unused`` (also ``python -m flake8_ddp_unused``).

The same engine as the flake8 plugin, for projects that do not run flake8 (ruff cannot load flake8
plugins), with flake8's behaviour where both do the same thing (configuration, select/ignore,
``per-file-ignores``, ``# noqa``, ``--stdin-filename``, ``--exit-zero``, how files are read) plus what flake8
lacks: ruff's default excludes and ``.gitignore``, ``--force-exclude``, notebooks (``.ipynb``),
``--fix``/``--diff`` and the json, sarif and github output formats.

Exit status: 0 no findings, 1 findings (or, with ``--diff``, changes to make), 2 usage or configuration
error. Files that cannot be parsed are named on stderr and skipped; they do not change the status.
"""
from __future__ import annotations

import argparse
import ast
import io
import logging
import os
import subprocess
import sys
import tokenize
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, FrozenSet, Iterator, List, Optional, Sequence, TextIO, Tuple

from flake8 import defaults as flake8_defaults
from flake8 import utils as flake8_utils

from . import __version__
from .config import (CODE_KEYS, Config, ConfigError, apply, load_config, prefix_warnings, split_list,
                     unknown_prefixes)
from .docs import render_rule
from .index import source_lines
from .notebook import Notebook, NotebookError, read_notebook
from .output import FORMATS, Result, render
from .plugin import MARKERS
from .registry import rules_by_code
from .skips import SKIP_CODE, Skip

PROG = "flake8-ddp-unused"
PROGRESS_MIN_FILES = 20  # below this, progress on a terminal is noise
STDIN = "-"
SUFFIXES = (".py", ".ipynb")  # what directories are searched for
LOG = logging.getLogger(__name__)
# flake8 >= 7 names it NOQA_INLINE_REGEXP; older releases NOQA_INLINE_REGEX
NOQA_INLINE = getattr(flake8_defaults, "NOQA_INLINE_REGEXP", None) or getattr(flake8_defaults, "NOQA_INLINE_REGEX")


@dataclass(frozen=True)
class FileOutcome:
    results: Tuple[Result, ...] = ()
    error: str = ""  # why the file was skipped
    skipped: Tuple[Skip, ...] = ()  # parts of the file the analysis gave up on


def read_source(path: Path) -> str:
    """The text of a file as flake8 reads it: PEP 263 coding cookie or UTF-8, else latin-1; no BOM."""
    try:
        with tokenize.open(path) as handle:
            text = handle.read()
    except (SyntaxError, UnicodeError):
        with open(path, encoding="latin-1") as handle:  # flake8's fallback: same input, same answer
            text = handle.read()
    return text[1:] if text.startswith("\ufeff") else text


def read_stdin(stream: io.BufferedIOBase) -> str:
    """Standard input decoded as flake8 decodes it (coding cookie, else UTF-8); latin-1 rather than a crash."""
    data = stream.read()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (LookupError, SyntaxError, UnicodeError):
        try:
            text = data.decode("utf-8")
        except UnicodeError:
            text = data.decode("latin-1")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text[1:] if text.startswith("\ufeff") else text


def display_path(path: Path) -> str:
    return path.as_posix()


def noqa_lines(lines: Sequence[str]) -> Dict[int, str]:
    """flake8's mapping from a line number to the text searched for ``# noqa``: the lines of a token that
    spans several lines (a triple-quoted string, a backslash continuation) share one text."""
    mapping: Dict[int, str] = {}
    try:
        tokens = list(tokenize.generate_tokens(iter(lines).__next__))
    except (tokenize.TokenError, SyntaxError, StopIteration):
        return mapping
    first, last = len(lines) + 2, -1
    for token in tokens:
        if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
            continue
        first, last = min(first, token.start[0]), max(last, token.end[0])
        if token.type in (tokenize.NL, tokenize.NEWLINE):
            joined = "".join(lines[first - 1:last])
            mapping.update(dict.fromkeys(range(first, last + 1), joined))
            first, last = len(lines) + 2, -1
    return mapping


def noqa_suppresses(code: str, text: str) -> bool:
    """flake8's inline rule: a bare ``# noqa``, or ``# noqa: CODES`` naming the code or a prefix of it."""
    match = NOQA_INLINE.search(text)
    if match is None:
        return False
    codes = match.groupdict().get("codes")
    if codes is None:
        return True
    names = set(flake8_utils.parse_comma_separated_list(codes))
    return code in names or code.startswith(tuple(names))


def char_column(line: str, column: int) -> int:
    """The 1-based column in unicode code points for flake8's 1-based column (UTF-8 bytes, from ``ast``)."""
    data = line.encode("utf-8", errors="surrogatepass")
    return len(data[:column - 1].decode("utf-8", errors="ignore")) + 1


def lint_source(source: str, filename: str, config: Config, notebook: Optional[Notebook] = None) -> FileOutcome:
    """Findings of one file's text, filtered as flake8 filters them. Never raises."""
    lines = source_lines(source)  # as Python numbers them (str.splitlines also breaks at form feeds)
    if not config.disable_noqa and any(flake8_defaults.NOQA_FILE.match(line) for line in lines):
        return FileOutcome()  # `# flake8: noqa`: flake8 skips the whole file
    if not any(marker in source for marker in MARKERS):
        return FileOutcome()
    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        return FileOutcome(error=f"cannot parse, skipped ({type(error).__name__}: {error})")
    try:
        from .lint import analyze_tree  # lazy: `explain` and `--help` do not need the analyser

        skipped: List[Skip] = []
        findings = analyze_tree(tree, lines, filename, config.settings, skipped=skipped)
    except Exception as error:  # noqa: BLE001 - one bad file must not stop the run
        text = f"{type(error).__name__}: {error}"[:200]
        if config.is_enabled("DDP999", filename):
            message = rules_by_code()["DDP999"].message.format(error=text)
            return FileOutcome(results=(Result(filename, 1, 1, "DDP999", message),))
        return FileOutcome(error=f"internal error, no findings for this file ({text}); please report it")
    mapping: Optional[Dict[int, str]] = None  # tokenised only when there is a finding to check
    results = []
    for f in findings:
        if not config.is_enabled(f.code, filename):
            continue
        line_text = lines[f.line - 1] if 0 < f.line <= len(lines) else ""
        if not config.disable_noqa:
            mapping = noqa_lines(lines) if mapping is None else mapping
            if noqa_suppresses(f.code, mapping.get(f.line, line_text)):
                continue
        line, cell = f.line, None
        if notebook is not None:
            cell, line = notebook.position(f.line)
        results.append(Result(filename, line, f.col + 1, f.code, f.message,
                              notebook is None and bool(f.fixable or rules_by_code()[f.code].fixable),
                              char_column=char_column(line_text, f.col + 1), cell=cell))
    return FileOutcome(results=tuple(results), skipped=tuple(skipped))


# ---- finding the files ----

def _excluded(path: str, patterns: Sequence[str]) -> bool:
    """flake8's rule: the base name or the absolute path matches a pattern."""
    return bool(patterns) and flake8_utils.matches_filename(
        path, patterns=list(patterns), log_message='"%(path)s" has %(whether)sbeen excluded', logger=LOG)


def _is_venv(directory: str) -> bool:
    """A virtual environment under any name (`env/`, `.venv311/`): it holds pyvenv.cfg."""
    return os.path.isfile(os.path.join(directory, "pyvenv.cfg"))


@dataclass(frozen=True)
class Visible:
    """What git does not ignore under a directory (absolute paths)."""

    files: FrozenSet[str]
    dirs: FrozenSet[str]  # directories holding such files
    nested: FrozenSet[str]  # submodules and nested repositories: git does not list inside, walk them as is

    def has_dir(self, path: str) -> bool:
        return path in self.dirs or path in self.nested or self.in_nested(path)

    def has_file(self, path: str) -> bool:
        return path in self.files or self.in_nested(path)

    def in_nested(self, path: str) -> bool:
        return any(path.startswith(root + os.sep) for root in self.nested)


class GitFiles:
    """Which files git does not ignore (.gitignore, .git/info/exclude, the global excludes file)."""

    def __init__(self) -> None:
        self.cache: Dict[str, Optional[Visible]] = {}

    def visible(self, directory: str) -> Optional[Visible]:
        """None when git cannot tell (no git, not a work tree): then nothing is ignored."""
        directory = os.path.abspath(directory)
        if directory not in self.cache:
            self.cache[directory] = self._list(directory)
        return self.cache[directory]

    @staticmethod
    def _list(directory: str) -> Optional[Visible]:
        try:
            proc = subprocess.run(["git", "-C", directory, "ls-files", "-z", "--cached", "--others",
                                   "--exclude-standard"], capture_output=True, timeout=120, check=False)
            if proc.returncode == 0 and not proc.stdout:  # a directory git ignores, named by the user:
                ignored = subprocess.run(["git", "-C", directory, "check-ignore", "-q", directory],
                                         capture_output=True, timeout=60, check=False)
                if ignored.returncode == 0:
                    return None  # lint it, as a named file is linted (ruff and ripgrep do the same)
        except (OSError, subprocess.SubprocessError):
            return None
        if proc.returncode != 0:
            return None
        files, dirs, nested = set(), {directory}, set()
        for name in proc.stdout.decode("utf-8", errors="surrogateescape").split("\0"):
            if not name:
                continue
            path = os.path.normpath(os.path.join(directory, name))
            if name.endswith("/") or os.path.isdir(path):
                nested.add(path)
            files.add(path)
            parent = os.path.dirname(path)
            while parent not in dirs and parent.startswith(directory):
                dirs.add(parent)
                parent = os.path.dirname(parent)
        return Visible(frozenset(files), frozenset(dirs), frozenset(nested))


def discover(paths: Sequence[str], config: Config, warn: Callable[[str], None] = lambda _: None,
             git: Optional[GitFiles] = None) -> Iterator[str]:
    """The files to lint, as flake8 names them. Directories are walked for *.py and *.ipynb, skipping the
    excludes (flake8's and ruff's defaults, ``exclude``/``extend-exclude``), virtual environments and, in a
    git work tree, what git ignores. A path named on the command line is linted unless ``--force-exclude``."""
    patterns = (*config.exclude, *config.extend_exclude)
    git = git or GitFiles()
    for name in paths:
        if name == STDIN:
            yield name
            continue
        if config.force_exclude and _force_excluded(name, patterns):
            continue
        if os.path.isfile(name):
            yield name
            continue
        if not os.path.isdir(name):
            raise FileNotFoundError(name)
        visible = git.visible(name) if config.respect_gitignore else None
        found = 0
        for root, dirs, files in os.walk(name):
            dirs[:] = sorted(d for d in dirs if not _skip_dir(os.path.join(root, d), patterns, visible))
            for file in sorted(files):
                candidate = os.path.join(root, file)
                if not file.endswith(SUFFIXES) or _excluded(candidate, patterns):
                    continue
                if visible is not None and not visible.has_file(os.path.abspath(candidate)):
                    continue
                found += 1
                yield candidate
        if not found:
            warn(f"no Python files (*.py, *.ipynb) found under {name}")


def _force_excluded(name: str, patterns: Sequence[str]) -> bool:
    """--force-exclude: the named path, or a directory it lies in (as written), is excluded."""
    path = Path(name)
    for candidate in (path, *path.parents):
        text = str(candidate)
        if text in (".", "", os.sep):
            continue
        if _excluded(text, patterns) or (candidate != path and _is_venv(text)):
            return True
    return False


def _skip_dir(path: str, patterns: Sequence[str], visible: Optional[Visible]) -> bool:
    if _excluded(path, patterns) or _is_venv(path):
        return True
    return visible is not None and not visible.has_dir(os.path.abspath(path))


def _fix_functions() -> Tuple[Callable[..., str], Callable[..., str]]:
    try:
        from . import fixes
    except ImportError as error:
        raise ConfigError(
            f"--fix/--diff need flake8_ddp_unused.fixes, which this installation lacks ({error})") from error
    return fixes.fix_source, fixes.diff_source


# ---- command line ----

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Find PyTorch parameters that get no gradient in a training iteration, the cause of "
                    "DDP's 'Expected to have finished reduction in the prior iteration'. "
                    f"`{PROG} explain CODE` prints a rule's documentation.",
        epilog="Configuration: flake8's ([flake8] in setup.cfg/tox.ini/.flake8, or [tool.flake8] in "
               "pyproject.toml) and [tool.flake8-ddp-unused] in pyproject.toml. "
               "Exit status: 0 clean, 1 findings, 2 usage or configuration error.",
    )
    parser.add_argument("paths", nargs="*", default=["."],
                        help="files, directories, or - for standard input (default: .)")
    parser.add_argument("--format", choices=FORMATS, default="default",
                        help="output format (default: %(default)s)")
    parser.add_argument("--output-file", type=Path, help="write the report here instead of stdout")
    parser.add_argument("--select", help="comma-separated code prefixes to report (replaces the default)")
    parser.add_argument("--ignore", help="code prefixes not to report (replaces the default ignore list)")
    parser.add_argument("--extend-select", help="code prefixes to report in addition, e.g. DDP901")
    parser.add_argument("--extend-ignore", help="code prefixes not to report, in addition")
    parser.add_argument("--per-file-ignores", help="as flake8's: 'path/glob:CODES other/glob:CODES'")
    parser.add_argument("--ddp-entry-points", help="extra training entry-point method names")
    parser.add_argument("--ddp-module-bases", help="extra qualified base classes that make an nn.Module")
    parser.add_argument("--ddp-trainer-calls", help="extra qualified calls that launch DDP training")
    parser.add_argument("--exclude", help="comma-separated patterns to skip (replaces the default list)")
    parser.add_argument("--extend-exclude", help="patterns to skip, in addition")
    parser.add_argument("--force-exclude", action="store_true", default=None,
                        help="apply the excludes to paths named on the command line too (for pre-commit)")
    parser.add_argument("--no-respect-gitignore", dest="respect_gitignore", action="store_false", default=None,
                        help="also lint files that .gitignore excludes")
    parser.add_argument("--disable-noqa", action="store_true", default=None, help="ignore # noqa comments")
    parser.add_argument("--max-line-length", help="as flake8's: --fix/--diff keep the lines they change within it "
                                                  "(default 79, or the configured value)")
    parser.add_argument("--stdin-filename", "--stdin-display-name", dest="stdin_filename",
                        help="the path of the file read from standard input (-), for names and per-file-ignores")
    parser.add_argument("--exit-zero", action="store_true",
                        help="exit 0 even with findings (configuration errors still exit 2)")
    parser.add_argument("--config", type=Path, help="read flake8's configuration from this file only")
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


def explain(argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    rules = rules_by_code()
    usage = f"usage: {PROG} explain CODE\n\nPrint the documentation of a code. Codes: {', '.join(rules)}\n"
    if any(arg in ("-h", "--help") for arg in argv):
        out.write(usage)
        return 0
    if len(argv) != 1:
        err.write(usage)
        return 2
    code = argv[0].strip().upper()
    rule = rules.get(code)
    if rule is None:
        print(f"{PROG}: error: unknown code {argv[0]!r}; known codes: {', '.join(rules)}", file=err)
        return 2
    out.write(render_rule(rule))
    return 0


def _config_from_args(args: argparse.Namespace) -> Config:
    config = load_config(Path.cwd(), args.config, args.isolated)
    overrides = {key.replace("_", "-"): getattr(args, key) for key in (
        "select", "ignore", "extend_select", "extend_ignore", "per_file_ignores", "ddp_entry_points",
        "ddp_module_bases", "ddp_trainer_calls", "exclude", "extend_exclude", "force_exclude",
        "respect_gitignore", "disable_noqa", "max_line_length") if getattr(args, key) is not None}
    given = apply(Config(), overrides, base=Path.cwd())  # validated, paths relative to the current directory
    changes: Dict[str, object] = {}
    for key in overrides:
        attr = key.replace("-", "_").replace("ddp_", "")
        value = getattr(given, attr)
        if key in ("extend-select", "extend-ignore", "extend-exclude"):  # added to the configured ones
            value = (*getattr(config, attr), *value)
        changes[attr] = value
    return replace(config, **changes, origins=(*config.origins, *given.origins))  # type: ignore[arg-type]


def check_config(args: argparse.Namespace, config: Config, warn: Callable[[str], None]) -> None:
    """Typos in code prefixes: warnings, and a configuration error when nothing at all is selected."""
    for key in CODE_KEYS:
        given = getattr(args, key.replace("-", "_"))
        unknown = unknown_prefixes(split_list(given)) if given is not None else []
        if unknown:
            warn(f"--{key} {', '.join(unknown)}: no {PROG} code starts with "
                 f"{'this prefix' if len(unknown) == 1 else 'these prefixes'} (codes: {', '.join(rules_by_code())})")
    for message in prefix_warnings(config.select, config.ignore, config.extend_select, config.extend_ignore):
        warn(message)
    if (config.select is not None or config.extend_select) and not config.enabled_codes() and not (
            config.ignore or config.extend_ignore):
        selected = ", ".join((*(config.select or ()), *config.extend_select))
        origin = config.origin("select" if config.select is not None else "extend-select")
        raise ConfigError(f"select {selected} ({origin}) selects no {PROG} code, so nothing "
                          f"would be checked (flake8 would not run these checks either); add DDP to select")


def open_output(path: Optional[Path]) -> Optional[TextIO]:
    """The --output-file, created with its directories as flake8 does; a ConfigError when that fails."""
    if path is None:
        return None
    try:
        if path.parent and not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("w", encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot write --output-file {path}: {error.strerror or error}") from error


class Progress:
    def __init__(self, total: int, enabled: bool, stream: TextIO) -> None:
        self.total, self.enabled, self.stream, self.width = total, enabled, stream, 0

    def update(self, done: int, name: str) -> None:
        if self.enabled:
            text = f"[{done}/{self.total}] {name}"[:200]
            self.stream.write("\r" + text.ljust(self.width))
            self.width = len(text)
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


@dataclass
class FixCount:
    files: int = 0
    fixed: int = 0


def _name(path: str) -> str:
    return Path(path).as_posix() if path != STDIN else path


def run(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: Optional[io.BufferedIOBase] = None) -> int:
    def warn(message: str) -> None:
        progress.close()
        print(f"{PROG}: warning: {message}", file=err)

    progress = Progress(0, False, err)
    config = _config_from_args(args)
    check_config(args, config, warn)
    if STDIN in args.paths and (args.fix or args.diff):
        raise ConfigError("--fix/--diff cannot change standard input")
    fixers = _fix_functions() if (args.fix or args.diff) else None
    output = open_output(args.output_file)
    try:
        files = sorted(set(discover(args.paths, config, warn)), key=_name)  # flake8's order
        show_progress = args.progress if args.progress is not None else (
            err.isatty() and len(files) >= PROGRESS_MIN_FILES)
        progress = Progress(len(files), bool(show_progress), err)
        results: List[Result] = []
        skipped: List[Skip] = []
        diffs: List[str] = []
        count = FixCount()
        for done, path in enumerate(files, start=1):
            progress.update(done, _name(path))
            outcome = _lint_path(path, args, config, fixers, diffs, count, stdin, warn)
            if outcome.error:
                progress.close()
                print(f"{_display(path, args)}: {outcome.error}", file=err)
            results.extend(outcome.results)
            skipped.extend(outcome.skipped)
            if args.verbose:
                for skip in outcome.skipped:
                    progress.close()
                    print(f"{skip.file}:{skip.line}: skipped {skip.subject}: {skip.reason}", file=err)
        progress.close()
        report = "".join(diffs) if args.diff else render(results, args.format, skipped if args.verbose else None)
        (output or out).write(report)
    finally:
        if output is not None:
            output.close()
    if args.fix:
        remaining = len(results)
        print(f"{PROG}: fixed {count.fixed} finding{'s' * (count.fixed != 1)} in {count.files} "
              f"file{'s' * (count.files != 1)}; {remaining} remaining", file=err)
    if args.exit_zero:
        return 0
    if args.diff:
        return 1 if diffs else 0
    return 1 if results else 0


def _display(path: str, args: argparse.Namespace) -> str:
    if path == STDIN:
        return args.stdin_filename or "stdin"
    return _name(path)


def _lint_path(path: str, args: argparse.Namespace, config: Config,
               fixers: Optional[Tuple[Callable[..., str], Callable[..., str]]], diffs: List[str], count: FixCount,
               stdin: Optional[io.BufferedIOBase], warn: Callable[[str], None]) -> FileOutcome:
    name = _display(path, args)
    try:
        if path == STDIN:
            source = read_stdin(stdin if stdin is not None else sys.stdin.buffer)
        else:
            source = read_source(Path(path))
    except (OSError, LookupError) as error:
        return FileOutcome(error=f"cannot read, skipped ({type(error).__name__}: {error})")
    notebook = None
    if name.endswith(".ipynb"):
        try:
            notebook = read_notebook(source)
        except NotebookError as error:
            return FileOutcome(error=f"{error}, skipped")
        source = notebook.source
    outcome = lint_source(source, name, config, notebook)
    if fixers is not None and notebook is None and path != STDIN and any(r.fixable for r in outcome.results):
        fixed = _apply_fix(fixers, source, name, config, args.fix, diffs, warn)
        if args.fix and fixed is not None and fixed != source:
            Path(path).write_text(fixed, encoding=_encoding_of(Path(path)))
            after = lint_source(fixed, name, config)
            count.files += 1
            count.fixed += max(0, len(outcome.results) - len(after.results))
            outcome = after
    return outcome


def _apply_fix(fixers: Tuple[Callable[..., str], Callable[..., str]], source: str, name: str,
               config: Config, write: bool, diffs: List[str], warn: Callable[[str], None]) -> Optional[str]:
    fix_source, diff_source = fixers
    settings, limit = config.settings, config.max_line_length
    try:
        if write:
            return fix_source(source, name, settings, max_line_length=limit)
        diff = diff_source(source, name, settings, max_line_length=limit)
        if diff:
            diffs.append(diff if diff.endswith("\n") else diff + "\n")
        return None
    except Exception as error:  # noqa: BLE001 - a failed fix leaves the file as it was
        warn(f"{name}: could not fix ({type(error).__name__}: {error}); file left unchanged")
        return None


def _encoding_of(path: Path) -> str:
    with path.open("rb") as handle:
        try:
            encoding, _ = tokenize.detect_encoding(handle.readline)
        except SyntaxError:
            return "latin-1"
    return encoding


def main(argv: Optional[Sequence[str]] = None, out: Optional[TextIO] = None,
         err: Optional[TextIO] = None, stdin: Optional[io.BufferedIOBase] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    out = out or sys.stdout
    err = err or sys.stderr
    if argv and argv[0] == "explain":
        return explain(argv[1:], out, err)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) if isinstance(exit_.code, int) else 2
    try:
        return run(args, out, err, stdin)
    except ConfigError as error:
        print(f"{PROG}: error: {error}", file=err)
        return 2
    except FileNotFoundError as error:
        print(f"{PROG}: error: no such file or directory: {error.args[0] if error.args else error}", file=err)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
