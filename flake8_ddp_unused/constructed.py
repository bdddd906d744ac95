"""Modules handed to a model's constructor: ``Classifier(encoder=BertModel(config))``.

A wrapper that stores a constructor parameter as it is (``self.encoder = encoder``) owns whatever module its
caller hands over. Which class that is can be read where the project builds the wrapper: every call of
the class in the project (the linted file and the files of its package that call it by name, see
``callsites.py``) and every ``cls(...)`` in the class's own class methods. This module finds, for each such
construction site, the call that builds the argument: written in place (``Classifier(BertModel(cfg))``) or
held by a local assigned once from a call and used nowhere else (so no freezing or other change of it can
hide in between). When any site passes something else (an argument, a star, nothing), the answer is None:
the caller stays silent. Deciding the class of each call is the summaries' job.
"""
from __future__ import annotations

import ast
import re
from typing import Iterator, List, Optional, Set, Tuple

from . import callsites
from .index import ClassInfo, FileIndex, walk

_MAX_SITES = 32


def argument_calls(info: ClassInfo, param: str) -> Optional[List[Tuple[FileIndex, ast.Call]]]:
    """For each construction site of ``info`` in the project, the file and the call that builds the module it
    passes for ``param`` of ``__init__``; None when a site passes anything else, or when there is no site."""
    init = info.methods.get("__init__")
    if init is None or not info.name[:1].isupper():
        return None  # the project index covers capitalised class names only: other sites would go unseen
    sites = _sites(info)
    if sites is None or len(sites) > _MAX_SITES:
        return None
    found: List[Tuple[FileIndex, ast.Call]] = []
    for index, scope, call in sites:
        arg = callsites.bound_argument(init, call, param, skip_self=True)
        if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            return None
        built = _built_by(arg, scope, call) if arg is not None else None
        if built is None:
            return None
        found.append((index, built))
    return found or None


def _sites(info: ClassInfo) -> Optional[List[Tuple[FileIndex, ast.AST, ast.Call]]]:
    """(file, enclosing function or module, call) for every call that builds ``info``; None when some may go
    unseen (the package's text scan was cut short)."""
    sites = []
    for method in info.methods.values():
        names = [d.id for d in method.decorator_list if isinstance(d, ast.Name)]
        params = method.args.posonlyargs + method.args.args
        if "classmethod" in names and params:
            own = params[0].arg  # `cls(encoder=encoder, ...)` in `from_encoder_decoder_pretrained`
            sites += [(info.module, method, node) for node in walk(method)
                      if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == own]
    files = callsites.files_calling(info.module, info.name)
    if files is None:
        return None
    pattern = re.compile(rf"\b{re.escape(info.name)}\s*\(")
    for index in files:
        lines = {n for n, line in enumerate(index.lines, start=1) if info.name in line and pattern.search(line)}
        for scope in _scopes(index, lines):
            sites += [(index, scope, node) for node in walk(scope) if isinstance(node, ast.Call)
                      and callsites.refers_to(index, node.func, info.module, info.name)]
    return sites


def _scopes(index: FileIndex, lines: Set[int]) -> Iterator[ast.AST]:
    """The functions, methods and module statements of the file that span one of ``lines`` (the module's own
    statements as one scope)."""
    def spans(node: ast.AST) -> bool:
        return any(node.lineno <= n <= (node.end_lineno or node.lineno) for n in lines)  # type: ignore[attr-defined]

    if not lines:
        return
    yield ast.Module(body=[s for s in index.tree.body if not isinstance(
        s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and spans(s)], type_ignores=[])
    yield from (f for f in index.functions.values() if spans(f))
    for cls in index.classes.values():
        if spans(cls.node):
            yield from (f for f in list(cls.methods.values()) + list(cls.properties.values()) if spans(f))


def _built_by(arg: ast.expr, scope: ast.AST, site: ast.Call) -> Optional[ast.Call]:
    """The call that builds the argument: the argument itself, or the one call a local is assigned from when
    the local is read nowhere but at the site."""
    if isinstance(arg, ast.Call):
        return arg
    if not isinstance(arg, ast.Name):
        return None
    assigned: List[ast.expr] = []
    reads = 0
    for node in walk(scope):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With, ast.NamedExpr)):
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            for target in targets:
                for part in walk(target) if target is not None else ():
                    if isinstance(part, ast.Name) and part.id == arg.id:
                        assigned.append(node.value if isinstance(node, ast.Assign) and target is part else arg)
        elif isinstance(node, ast.Name) and node.id == arg.id and isinstance(node.ctx, ast.Load):
            reads += 1
    site_reads = sum(1 for node in walk(site) if isinstance(node, ast.Name) and node.id == arg.id)
    if len(assigned) != 1 or reads != site_reads or not isinstance(assigned[0], ast.Call):
        return None
    return assigned[0]
