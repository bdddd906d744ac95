"""Autofixes for launch sites (DDP2xx): add the framework's flag that tolerates unused parameters.

Library functions for the standalone CLI (``python -m flake8_ddp_unused --fix/--diff``):
``fix_source`` returns the fixed text (libcst, formatting preserved, idempotent) and ``diff_source``
a unified diff. The launch checks (``launch.py``, on the ``ast`` tree) decide what is safe and describe
each fix as :class:`~flake8_ddp_unused.launch.Edit` plans anchored on ast positions; this module finds
the matching libcst nodes and applies them in one pass.
"""
from __future__ import annotations

import ast
import difflib
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .flow import MAX_EXPRESSION_DEPTH, cst_nesting
from .index import source_lines
from .launch import Edit, launch_hits

Key = Tuple[int, int]


def planned_edits(source: str, filename: str = "<string>", settings: Optional[Any] = None) -> List[Edit]:
    """The edits the launch checks offer for ``source`` (empty when nothing is fixable)."""
    from .analyzer import FileAnalysis, Settings
    from .index import FileIndex
    from .project import attach

    settings = settings if settings is not None else Settings()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    lines = source_lines(source)
    index = FileIndex(tree, lines, filename, "", settings.module_bases)
    attach(index, settings)
    analysis = FileAnalysis(index, settings)
    analysis.run()
    edits: List[Edit] = []
    for hit in launch_hits(analysis):
        for edit in hit.edits:
            if edit not in edits:
                edits.append(_char_columns(edit, lines))
    return edits


def fix_source(source: str, filename: str = "<string>", settings: Optional[Any] = None) -> str:
    """The source with every safe launch-site fix applied; ``source`` itself when nothing applies."""
    edits = planned_edits(source, filename, settings)
    if not edits:
        return source
    try:
        if cst_nesting(ast.parse(source)) > MAX_EXPRESSION_DEPTH:
            return source  # libcst's native parser could overflow the C stack on it
        module = cst.parse_module(source)
    except (cst.ParserSyntaxError, SyntaxError, ValueError, RecursionError):
        return source
    fixed = MetadataWrapper(module, unsafe_skip_copy=True).visit(_Fixer(edits))
    return fixed.code


def diff_source(source: str, filename: str = "<string>", settings: Optional[Any] = None) -> str:
    """A unified diff from ``source`` to ``fix_source(source)``; empty when nothing changes."""
    fixed = fix_source(source, filename, settings)
    if fixed == source:
        return ""
    return "".join(difflib.unified_diff(source_lines(source), source_lines(fixed),
                                        fromfile=filename, tofile=filename))


def _char_columns(edit: Edit, lines: Sequence[str]) -> Edit:
    """ast columns count UTF-8 bytes, libcst columns count characters."""
    line, col = edit.pos
    if 1 <= line <= len(lines) and col:
        col = len(lines[line - 1].encode("utf-8")[:col].decode("utf-8", errors="replace"))
    return Edit(edit.kind, (line, col), edit.path, edit.value)


class _Fixer(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, edits: Sequence[Edit]) -> None:
        super().__init__()
        self.by_pos: Dict[Tuple[str, Key], List[Edit]] = {}
        self.imports = [e.value for e in edits if e.kind == "import"]
        for edit in edits:
            if edit.kind != "import":
                self.by_pos.setdefault((edit.kind, edit.pos), []).append(edit)

    def _edits(self, kind: str, node: cst.CSTNode) -> List[Edit]:
        start = self.get_metadata(PositionProvider, node).start
        return self.by_pos.pop((kind, (start.line, start.column)), [])

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        for edit in self._edits("kwarg", original_node):
            updated_node = _set_keyword(updated_node, edit.path[0], edit.value)
        return updated_node

    def leave_Dict(self, original_node: cst.Dict, updated_node: cst.Dict) -> cst.BaseExpression:
        for edit in self._edits("dict", original_node):
            updated_node = _set_dict_path(updated_node, edit.path, edit.value) or updated_node
        return updated_node

    def _replace(self, original_node: cst.BaseExpression, updated_node: cst.BaseExpression) -> cst.BaseExpression:
        for edit in self._edits("replace", original_node):
            new = cst.parse_expression(edit.value)
            if isinstance(original_node, cst.SimpleString) and isinstance(new, cst.SimpleString):
                text = new.evaluated_value
                if isinstance(text, str) and original_node.quote not in text and "\\" not in text:
                    return original_node.with_changes(value=f"{original_node.prefix}{original_node.quote}{text}"
                                                            f"{original_node.quote}")
            return new
        return updated_node

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> Any:
        return self._replace(original_node, updated_node)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> Any:
        return self._replace(original_node, updated_node)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self.imports:
            return updated_node
        body = list(updated_node.body)
        last_import = -1
        for i, stmt in enumerate(body):
            if isinstance(stmt, cst.SimpleStatementLine) and any(
                    isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body):
                last_import = i
        new = [cst.parse_statement(text + "\n") for text in self.imports]
        return updated_node.with_changes(body=body[:last_import + 1] + new + body[last_import + 1:])


def _set_keyword(call: cst.Call, name: str, value: str) -> cst.Call:
    expr = cst.parse_expression(value)
    args = list(call.args)
    for i, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == name:
            args[i] = arg.with_changes(value=expr)
            return call.with_changes(args=args)
    new_arg = cst.Arg(value=expr, keyword=cst.Name(name),
                      equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
    return call.with_changes(args=_append(args, new_arg))


Element = Union[cst.Arg, cst.BaseDictElement]


def _append(items: List[Any], new: Any) -> List[Any]:
    """Append keeping the layout: a trailing comma stays trailing, a one-line call stays one line."""
    if not items:
        return [new]
    last = items[-1]
    if isinstance(last.comma, cst.Comma):  # trailing comma: the new item takes the same place
        between = items[-2].comma.whitespace_after if len(items) >= 2 and isinstance(
            items[-2].comma, cst.Comma) else last.comma.whitespace_after
        items[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=between))
        return items + [new.with_changes(comma=last.comma)]
    items[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return items + [new]


def _set_dict_path(node: cst.Dict, path: Sequence[str], value: str) -> Optional[cst.Dict]:
    """Set ``node[path[0]][path[1]]... = value`` in a dict literal, creating inner dicts; None if impossible."""
    key = path[0]
    elements = list(node.elements)
    for i, element in enumerate(elements):
        if not isinstance(element, cst.DictElement) or not isinstance(element.key, cst.SimpleString):
            continue
        if element.key.evaluated_value != key:
            continue
        if len(path) == 1:
            elements[i] = element.with_changes(value=cst.parse_expression(value))
        else:
            if not isinstance(element.value, cst.Dict):
                return None
            inner = _set_dict_path(element.value, path[1:], value)
            if inner is None:
                return None
            elements[i] = element.with_changes(value=inner)
        return node.with_changes(elements=elements)
    text = value
    for part in reversed(path[1:]):
        text = f'{{"{part}": {text}}}'
    new = cst.DictElement(cst.SimpleString(f'"{key}"'), cst.parse_expression(text))
    return node.with_changes(elements=_append(elements, new))
