"""Where the project calls a function or constructs a class: the values a parameter is bound to.

``train_one_epoch(model, criterion, ...)`` receives its model from ``main()``, perhaps in another file;
``class MyTrainer(Trainer)`` receives it as ``MyTrainer(model=Net(), ...)``. The call sites are looked
up in the linted file and in the other ``.py`` files of its project (the package it belongs to, or its
directory). Each file's text is searched for the called name (a byte search, remembered per name), and only when it
calls the name is its ``ast`` loaded through :func:`project.load_index` (parsed once per process).
"""
from __future__ import annotations

import ast
import os
import re
from typing import Dict, List, Optional, Tuple

from . import package_text, project
from .index import FileIndex, FunctionNode

_MAX_FILES = 400  # files of one project looked at for call sites
_MAX_BYTES = 1_000_000

# root directory -> the .py files under it (bounded)
_TREES: Dict[str, List[str]] = {}
# (path, name) -> (mtime_ns, whether the text calls the name)
_CALLED_NAMES: Dict[Tuple[str, str], Tuple[int, bool]] = {}


def clear_cache() -> None:
    _TREES.clear()
    _CALLED_NAMES.clear()


def _project_files(path: str) -> List[str]:
    root, module = project.package_root(path)
    if not module or "." not in module:
        root = os.path.dirname(os.path.abspath(path))  # a script, or a top-level module: its directory
    if root in _TREES:
        return _TREES[root]
    found: List[str] = []
    stack = [root]
    while stack and len(found) < _MAX_FILES:
        directory = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") or entry.name in ("__pycache__", "node_modules", "build", "dist"):
                continue
            if entry.is_dir(follow_symlinks=False):
                if os.path.isfile(os.path.join(entry.path, "__init__.py")) or directory == root:
                    stack.append(entry.path)
            elif entry.name.endswith(".py"):
                found.append(os.path.abspath(entry.path))
                if len(found) >= _MAX_FILES:
                    break
    _TREES[root] = found
    return found


def _call_pattern(name: str) -> "re.Pattern[bytes]":
    """``name(`` where ``name`` is a whole word. The word boundary is checked behind the name, so that the
    regex engine jumps between occurrences of the name instead of trying a boundary at every byte."""
    word = re.escape(name.encode())
    return re.compile(word + rb"(?<!\w" + word + rb")\s*\(")


def _calls_name(path: str, name: str) -> bool:
    """Whether the file's text calls ``name`` (a byte search: a few names are asked, files are not kept)."""
    try:
        stat = os.stat(path)
    except OSError:
        return False
    key = (path, name)
    cached = _CALLED_NAMES.get(key)
    if cached is None or cached[0] != stat.st_mtime_ns:
        found = False
        if stat.st_size <= _MAX_BYTES:
            try:
                with open(path, "rb") as handle:
                    found = _call_pattern(name).search(handle.read()) is not None
            except OSError:
                pass
        cached = (stat.st_mtime_ns, found)
        _CALLED_NAMES[key] = cached
    return cached[1]


def candidate_files(index: FileIndex, name: str) -> List[FileIndex]:
    """The linted file and the project files whose text calls ``name`` (each parsed once per process)."""
    out = [index]
    if index.filename.startswith("<") or project.is_installed_file(index.filename):
        return out
    here = os.path.abspath(index.filename)
    for path in _project_files(here):
        if path == here or not _calls_name(path, name):
            continue
        other = project.load_index(path)
        if other is not None:
            out.append(other)
    return out


def files_calling(index: FileIndex, name: str) -> Optional[List[FileIndex]]:
    """Like :func:`candidate_files`, for callers that ask about many class names: the files of the package that
    write ``Name(``, from the package's one text scan (package_text.py). None when the scan does not cover the
    name (not capitalised) or was cut short by its bounds: some call sites would go unseen."""
    if not name[:1].isupper():
        return None
    out = [index]
    if index.filename.startswith("<") or project.is_installed_file(index.filename):
        return out
    here = os.path.abspath(index.filename)
    text = package_text.scan(package_text.package_scope(here))
    if not text.complete:
        return None
    for path in text.constructed.get(name, ()):
        if os.path.abspath(path) != here:
            other = project.load_index(path)
            if other is not None:
                out.append(other)
    return out


def refers_to(caller: FileIndex, func: ast.expr, target: FileIndex, name: str) -> bool:
    """Whether ``func`` (a callee as written in ``caller``) names the top-level ``name`` of ``target``."""
    qual = caller.qualify(func)
    if qual is None or qual.rsplit(".", 1)[-1] != name:
        return False
    if caller is target:
        return qual == target.qualify_dotted(name)
    here = os.path.abspath(target.filename)  # the linted file's index is not the one the project cache holds
    if name in target.classes:
        found = caller.local_class(qual)
        return found is not None and os.path.abspath(found.module.filename) == here and found.name == name
    resolved = project.resolve_function(caller, qual)
    return resolved is not None and os.path.abspath(resolved[0].filename) == here and getattr(
        resolved[1], "name", "") == name


def bound_argument(func: FunctionNode, call: ast.Call, param: str, skip_self: bool) -> Optional[ast.expr]:
    """The argument expression a call passes for ``param`` of ``func``; None when not passed or unknown."""
    positional = [a.arg for a in func.args.posonlyargs + func.args.args]
    if skip_self and positional:
        positional = positional[1:]
    for keyword in call.keywords:
        if keyword.arg == param:
            return keyword.value
    if param in positional:
        at = positional.index(param)
        for i, arg in enumerate(call.args):
            if isinstance(arg, ast.Starred):
                return None
            if i == at:
                return arg
    return None
