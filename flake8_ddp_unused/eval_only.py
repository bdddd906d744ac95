"""Classes that the project builds only for evaluation: every construction site puts the instance in eval mode.

A model class that a package builds only as ``TextEncoder(config).eval()`` (or ``m = C(...)`` followed by
``m.eval()`` / ``m.requires_grad_(False)`` in the same function) is run by that package without training:
what its ``forward`` leaves unused gets no gradient only in training nobody in the project does. This is
``__init__``'s own ``self.vocoder.eval()`` (not judged already) seen from the construction sites in other
files. The decision needs *every* site: one site that builds the class without putting it in eval mode (a
training script's ``model = C(...)``) keeps it judged, and so does a class the project never builds by
name (a framework builds it from a configuration or a checkpoint). A class that offers gradient checkpointing
(under the name its framework reads) is offered for training and stays judged too
(``inference_only.offers_training``, checked by the caller).

The sites are found by the text scan of the package the class's file belongs to (``package_text``, shared
with ``project_calls`` and ``inference_only``), once per package and process, bounded in files and bytes; only
the files that write ``Name(`` for the class asked about are read, at most ``_MAX_SITE_FILES`` of them (through
the project's file cache: parsed once per process, shared with the resolution of imports).
"""
from __future__ import annotations

import ast
import os
from typing import Dict, List, Optional, Tuple

from .index import FileIndex, walk
from .package_text import package_scope, scan
from .project import load_index, register_cache

_MAX_SITE_FILES = 40
_MAX_FILE_BYTES = 2_000_000
_EVAL_CALLS = {"eval", "requires_grad_", "train"}

_RESULTS: Dict[Tuple[str, str], bool] = {}


def clear_cache() -> None:
    _RESULTS.clear()


register_cache(clear_cache, "all")


def built_only_for_eval(class_name: str, filename: str) -> bool:
    """Whether the project builds ``class_name`` somewhere, and every site puts the instance in eval mode."""
    if not filename or filename in ("<string>", "<stdin>", "stdin") or not os.path.exists(filename):
        return False
    scope = package_scope(filename)
    key = (scope, class_name)
    if key not in _RESULTS:
        paths = scan(scope).constructed.get(class_name, [])  # the files writing `Name(`
        _RESULTS[key] = 0 < len(paths) <= _MAX_SITE_FILES and _all_sites_eval(class_name, paths)
    return _RESULTS[key]


def _all_sites_eval(class_name: str, paths: List[str]) -> bool:
    sites = 0
    for path in paths:
        try:
            if os.path.getsize(path) > _MAX_FILE_BYTES:
                return False
        except OSError:
            return False
        index = load_index(path)  # the project's cached tree: a file is parsed once per process
        if index is None:
            return False  # unreadable or no valid Python
        verdict = _sites_in(index.tree, class_name, _calls_of(index))
        if verdict is None:
            return False
        sites += verdict
    return sites > 0


def _callee(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _sites_in(tree: ast.Module, class_name: str,
              found: Optional[Tuple[Dict[ast.AST, ast.AST], Dict[str, List[ast.Call]]]] = None) -> Optional[int]:
    """How many construction sites of ``class_name`` the tree holds, or None when one of them does not
    put the instance in eval mode. A class statement of that name (the definition) is no site. ``found``:
    the tree's parent map and calls by callee (``_calls_of``), when already built."""
    parents, calls = found if found is not None else _calls_in(tree)
    sites = 0
    for node in calls.get(class_name, []):
        if not _site_is_eval(node, parents):
            return None
        sites += 1
    return sites


def _calls_in(tree: ast.AST) -> Tuple[Dict[ast.AST, ast.AST], Dict[str, List[ast.Call]]]:
    parents: Dict[ast.AST, ast.AST] = {}
    calls: Dict[str, List[ast.Call]] = {}
    for node in walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
        if isinstance(node, ast.Call):
            calls.setdefault(_callee(node), []).append(node)
    return parents, calls


def _calls_of(index: FileIndex) -> Tuple[Dict[ast.AST, ast.AST], Dict[str, List[ast.Call]]]:
    """``_calls_in`` of a file, built once per file: asked per class with a finding, a walk of the whole
    file each time was quadratic in the classes of a file (1,000 classes: 231 s)."""
    cached = index.__dict__.get("_eval_only_calls")
    if cached is None:
        cached = index.__dict__["_eval_only_calls"] = _calls_in(index.tree)
    return cached


def _is_eval_call(call: ast.AST) -> bool:
    """``x.eval()``, ``x.requires_grad_(False)``, ``x.train(False)``."""
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
        return False
    name = call.func.attr
    if name not in _EVAL_CALLS:
        return False
    if name == "eval":
        return not call.args and not call.keywords
    args = [a for a in call.args] + [k.value for k in call.keywords]
    return len(args) == 1 and isinstance(args[0], ast.Constant) and args[0].value is False


def _site_is_eval(call: ast.Call, parents: Dict[ast.AST, ast.AST]) -> bool:
    # `C(...).eval()`, possibly after `.to(device)` and the like: `C(...).to(d).eval()`
    node: ast.AST = call
    while True:
        parent = parents.get(node)
        if isinstance(parent, ast.Attribute) and parent.value is node:
            grand = parents.get(parent)
            if isinstance(grand, ast.Call) and grand.func is parent:
                if _is_eval_call(grand):
                    return True
                node = grand  # a chained method call returns the module (`.to()`, `.cuda()`, `.float()`)
                continue
        break
    # `m = C(...)` (or `self.m = C(...)`), then `m.eval()` in the same function and never `m.train()`
    parent = parents.get(node)
    if not isinstance(parent, ast.Assign) or len(parent.targets) != 1:
        return False
    target = _written(parent.targets[0])
    if target is None:
        return False
    scope = parents.get(parent)
    while scope is not None and not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        scope = parents.get(scope)
    if scope is None:
        return False
    put_in_eval = False
    for other in walk(scope):
        if isinstance(other, ast.Call) and isinstance(other.func, ast.Attribute) \
                and _written(other.func.value) == target:
            if _is_eval_call(other):
                put_in_eval = True
            elif other.func.attr in ("train", "requires_grad_"):
                return False  # trained here after all
    return put_in_eval


def _written(node: ast.AST) -> Optional[str]:
    """``m`` or ``self.m`` as written (a store and a load of the same name compare equal)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None
