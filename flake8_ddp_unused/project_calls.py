"""Method names the project calls on objects (``model.get_normalized_probs(...)``, ``self.selector.sample()``).

A public method of a module class that some other code of the project calls by name may run in the
training step (fairseq's criterions call ``model.get_normalized_probs``; a parent layer calls
``child.sample()`` before ``child(i)``). The linter cannot follow which object the call reaches, so the
name is enough. The index is the text scan of the package the linted file belongs to (``package_text``,
shared with ``eval_only`` and ``inference_only``), built once per package and process, bounded in files and bytes.
"""
from __future__ import annotations

import os
from typing import FrozenSet

from .package_text import package_scope, scan


def trains_with_hf_trainer(filename: str) -> bool:
    """Whether the file's package mentions transformers' Trainer/TrainingArguments anywhere: only then is the
    HF fix hint (TrainingArguments) the right one for a PreTrainedModel subclass."""
    if not filename or filename in ("<string>", "<stdin>", "stdin") or not os.path.exists(filename):
        return True
    return scan(package_scope(filename)).hf_trainer


def called_method_names(filename: str) -> FrozenSet[str]:
    """Every `.name(` called in the files of the file's package (over-approximated from the text)."""
    if not filename or filename in ("<string>", "<stdin>", "stdin") or not os.path.exists(filename):
        return frozenset()
    return scan(package_scope(filename)).method_calls
