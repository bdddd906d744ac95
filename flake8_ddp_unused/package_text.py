"""One text scan of a package, shared by the readers that need names from all of its files.

Three judges ask about the whole package the linted file belongs to (the top package directory, or the
file's own directory when it is not in a package): ``project_calls`` (method names called on objects,
``model.get_normalized_probs(``; does the package train with transformers' Trainer), ``eval_only`` (which files
write ``Name(`` for a class) and ``inference_only`` (the classes the package defines, and the files naming each).
Each used to read every file of the package for its own index; transformers' 2,900 files (53 MB) cost about
3 s of CPU, paid by the first linted file with a finding. Now one read of the package builds what all three
need (``scan``), once per package and process, bounded in files and bytes.

The files naming each defined class (``naming``) need the set of defined classes before the files are read
for their words, so they take a second read, made only when a class with a finding asks: keeping every
file's words between the two reads would hold about 120 MB for transformers.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterator, List, Optional, Set, Tuple

from .project import package_root, register_cache

_MAX_FILES = 5000
_MAX_BYTES = 64_000_000
_SKIP_DIRS = {".git", "__pycache__", ".tox", ".venv", "venv", "node_modules", "build", "dist", ".eggs"}

# `.name(` on anything but `self` (calls a class makes on itself are followed by the flow analysis itself).
# The look-behind comes after the dot, so that the regex engine looks only at dots (four times faster).
_CALL = re.compile(rb"\.(?<!\bself\.)\s*([A-Za-z_]\w*)\s*\(")
_HF_TRAINER = re.compile(rb"\bTrainingArguments\b|\bSeq2SeqTrainer\b|transformers import[^\n]*\bTrainer\b")
# `ClassName(` (class names are capitalised by convention), matched in the reversed text: `(` first lets the
# regex engine jump from one parenthesis to the next instead of trying a word boundary at every byte.
_CALLED_NAME_REVERSED = re.compile(rb"\(\s*(\w*[A-Z])(?!\w)")
# `class Name` at the start of a line (checked by hand: a `^` under re.M is tried at every byte)
_CLASS_KEYWORD = re.compile(rb"class[ \t]+([A-Za-z_]\w*)")
_DIGITS = b"0123456789"
# every byte that is not a word byte (ASCII letters, digits, `_`) becomes a space: split() then gives the words
_WORDS_ONLY = bytes(c if chr(c).isascii() and (chr(c).isalnum() or c == ord("_")) else ord(" ")
                    for c in range(256))


@dataclass
class PackageText:
    """What one read of a package's files found."""

    method_calls: FrozenSet[str]  # every `.name(` called (not on self), over-approximated from the text
    hf_trainer: bool  # the package mentions transformers' Trainer/TrainingArguments
    constructed: Dict[str, List[str]]  # capitalised `Name(` -> the files writing it
    defined: FrozenSet[bytes]  # names of the classes the package defines (`class Name` at a line start)
    complete: bool  # every file was read (under the bounds in files and bytes)
    naming: Optional[Dict[str, List[str]]] = field(default=None)  # defined class -> files naming it (lazy)


_SCANS: Dict[str, PackageText] = {}


def clear_cache() -> None:
    _SCANS.clear()


register_cache(clear_cache, "all")  # small per package, costly to rebuild: kept across files


def package_scope(filename: str) -> str:
    """The directory whose files are scanned: the top package of the file, else its own directory."""
    root, module = package_root(filename)
    if module and "." in module or os.path.basename(filename) == "__init__.py":
        top = module.split(".")[0] if module else ""
        return os.path.join(root, top) if top else os.path.dirname(os.path.abspath(filename))
    return os.path.dirname(os.path.abspath(filename))


def package_texts(scope: str) -> Iterator[Tuple[str, bytes]]:
    """(path, bytes) of the `.py` files under ``scope`` (recursively when it is a package), bounded in
    files and bytes."""
    files = 0
    budget = _MAX_BYTES
    recursive = os.path.isfile(os.path.join(scope, "__init__.py"))
    for directory, subdirs, filenames in os.walk(scope):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIP_DIRS) if recursive else []
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            files += 1
            if files > _MAX_FILES or budget <= 0:
                return
            path = os.path.join(directory, name)
            try:
                with open(path, "rb") as fh:
                    data = fh.read(min(budget, 4_000_000))
            except OSError:
                continue
            budget -= len(data)
            yield path, data


def scan(scope: str) -> PackageText:
    """The package's text index, built by one read of its files, once per process."""
    found = _SCANS.get(scope)
    if found is None:
        found = _SCANS[scope] = _scan(scope)
    return found


def _scan(scope: str) -> PackageText:
    calls: Set[bytes] = set()
    hf_trainer = False
    constructed: Dict[str, List[str]] = {}
    defined: Set[bytes] = set()
    files = 0
    size = 0
    for path, data in package_texts(scope):
        files += 1
        size += len(data)
        calls.update(_CALL.findall(data))
        if not hf_trainer and (b"Trainer" in data or b"TrainingArguments" in data):
            hf_trainer = _HF_TRAINER.search(data) is not None
        for called in set(_CALLED_NAME_REVERSED.findall(data[::-1])):
            constructed.setdefault(called[::-1].decode("ascii", "replace"), []).append(path)
        defined.update(_class_names(data))
    return PackageText(frozenset(name.decode("ascii", "replace") for name in calls), hf_trainer, constructed,
                       frozenset(defined), files < _MAX_FILES and size < _MAX_BYTES)


def _class_names(data: bytes) -> Iterator[bytes]:
    for match in _CLASS_KEYWORD.finditer(data):
        start = match.start()
        if not data[data.rfind(b"\n", 0, start) + 1:start].strip(b" \t"):
            yield match.group(1)


def naming(scope: str) -> Optional[Dict[str, List[str]]]:
    """Class name defined in the scope -> files whose text names it (as a whole word, as ``[A-Za-z_]\\w*``
    finds words); None when the scan was cut short by its bounds."""
    text = scan(scope)
    if not text.complete:
        return None
    if text.naming is None:
        found: Dict[str, List[str]] = {}
        for path, data in package_texts(scope):
            for name in _names_in(data, text.defined):
                found.setdefault(name.decode("ascii", "replace"), []).append(path)
        text.naming = found
    return text.naming


def _names_in(data: bytes, defined: FrozenSet[bytes]) -> Set[bytes]:
    """The names of ``defined`` that the text spells as words. A word run starting with digits (`3D`) holds
    the word after its digits (`D`), as the pattern ``[A-Za-z_]\\w*`` reads it."""
    words = set(data.translate(_WORDS_ONLY).split())
    names = set(defined.intersection(words))
    names.update(defined.intersection([word.lstrip(_DIGITS) for word in words if word[0] in _DIGITS]))
    return names
