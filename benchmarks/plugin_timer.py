"""Time one flake8 plugin alone, in-process, file by file (run by any venv's python; stdlib only).

    python plugin_timer.py MODULE:CLASS PATH [PATH ...]

flake8 hands a tree plugin the ``ast`` tree it already parsed and the file's lines; this script does the
same (parsing is not timed) and times only ``list(Plugin(...).run())``. It prints one JSON object:
total plugin CPU seconds, lines, files, findings, the slowest files, and any exception (which in a real
flake8 run would abort the whole run).
"""
from __future__ import annotations

import ast
import importlib
import inspect
import json
import sys
import time
import tokenize
import traceback
from pathlib import Path
from typing import Any, Dict, List, Tuple


def load_plugin(spec: str) -> Any:
    module_name, _, class_name = spec.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def read(path: Path) -> Tuple[ast.Module, List[str]]:
    with tokenize.open(path) as handle:  # PEP 263 encoding, like flake8
        text = handle.read()
    lines = text.splitlines(keepends=True)
    return ast.parse(text, str(path)), lines


def make_checker(plugin: Any, tree: ast.Module, lines: List[str], filename: str) -> Any:
    params = inspect.signature(plugin).parameters
    kwargs: Dict[str, Any] = {}
    for name in params:
        if name == "tree":
            kwargs[name] = tree
        elif name == "lines":
            kwargs[name] = lines
        elif name == "filename":
            kwargs[name] = filename
    return plugin(**kwargs)


def main(argv: List[str]) -> int:
    plugin = load_plugin(argv[0])
    files: List[Path] = []
    for arg in argv[1:]:
        path = Path(arg)
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    total = 0.0
    lines_total = 0
    findings = 0
    per_file: List[Tuple[float, int, str]] = []
    errors: List[str] = []
    skipped = 0
    for path in files:
        try:
            tree, lines = read(path)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            skipped += 1  # flake8 reports E902/E999 and never calls tree plugins
            continue
        start = time.process_time()
        try:
            findings += len(list(make_checker(plugin, tree, lines, str(path)).run()))
        except Exception:  # noqa: BLE001 - recorded: in flake8 this would abort the run
            errors.append(f"{path}: {traceback.format_exc(limit=-3)}")
        spent = time.process_time() - start
        total += spent
        lines_total += len(lines)
        per_file.append((spent, len(lines), str(path)))
    per_file.sort(reverse=True)
    print(json.dumps({
        "plugin": argv[0], "cpu_s": total, "lines": lines_total, "files": len(per_file), "skipped": skipped,
        "findings": findings, "errors": errors,
        "slowest": [{"cpu_s": round(s, 4), "lines": n, "file": f} for s, n, f in per_file[:10]],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
