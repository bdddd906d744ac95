"""Method names the project calls on objects (``model.get_normalized_probs(...)``, ``self.selector.sample()``).

A public method of a module class that some other code of the project calls by name may run in the
training step (fairseq's criterions call ``model.get_normalized_probs``; a parent layer calls
``child.sample()`` before ``child(i)``). The linter cannot follow which object the call reaches, so the
name is enough. The index is a text scan of the package the linted file belongs to (the top package
directory, or the file's own directory when it is not in a package), built once per directory and process,
bounded in files and bytes.
"""
from __future__ import annotations

import os
import re
from typing import Dict, FrozenSet, Iterator, Tuple

from .project import package_root, register_cache

# `.name(` on anything but `self` (calls a class makes on itself are followed by the flow analysis itself)
_CALL = re.compile(rb"(?<!\bself)\.\s*([A-Za-z_]\w*)\s*\(")
_MAX_FILES = 5000
_MAX_BYTES = 64_000_000
_SKIP_DIRS = {".git", "__pycache__", ".tox", ".venv", "venv", "node_modules", "build", "dist", ".eggs"}

_INDEX: Dict[str, FrozenSet[str]] = {}
_HF_TRAINER = re.compile(rb"\bTrainingArguments\b|\bSeq2SeqTrainer\b|transformers import[^\n]*\bTrainer\b")
_HF_TRAINS: Dict[str, bool] = {}


def clear_cache() -> None:
    _INDEX.clear()
    _HF_TRAINS.clear()


register_cache(clear_cache, "all")  # package text indexes are small and costly to rebuild: kept across files


def trains_with_hf_trainer(filename: str) -> bool:
    """Whether the file's package mentions transformers' Trainer/TrainingArguments anywhere: only then is the
    HF fix hint (TrainingArguments) the right one for a PreTrainedModel subclass."""
    called_method_names(filename)
    return _HF_TRAINS.get(package_scope(filename), True) if filename and os.path.exists(filename) else True


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


def called_method_names(filename: str) -> FrozenSet[str]:
    """Every `.name(` called in the files of the file's package (over-approximated from the text)."""
    if not filename or filename in ("<string>", "<stdin>", "stdin") or not os.path.exists(filename):
        return frozenset()
    scope = package_scope(filename)
    if scope in _INDEX:
        return _INDEX[scope]
    names: set = set()
    hf_trainer = False
    for _, data in package_texts(scope):
        names.update(m.decode("ascii", "replace") for m in _CALL.findall(data))
        hf_trainer = hf_trainer or _HF_TRAINER.search(data) is not None
    _INDEX[scope] = frozenset(names)
    _HF_TRAINS[scope] = hf_trainer
    return _INDEX[scope]
