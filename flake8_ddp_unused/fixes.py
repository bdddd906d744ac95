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
    from .project import attach, start_file

    settings = settings if settings is not None else Settings()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    lines = source_lines(source)
    index = FileIndex(tree, lines, filename, "", settings.module_bases)
    start_file()
    attach(index, settings)
    analysis = FileAnalysis(index, settings)
    analysis.run()
    edits: List[Edit] = []
    for hit in launch_hits(analysis):
        for edit in hit.edits:
            if edit not in edits:
                edits.append(_char_columns(edit, lines))
    return edits


def fix_source(source: str, filename: str = "<string>", settings: Optional[Any] = None,
               max_line_length: int = 79) -> str:
    """The source with every safe launch-site fix applied; ``source`` itself when nothing applies.
    An added argument that would make its line longer than ``max_line_length`` (flake8's default) goes on
    a new line."""
    edits = planned_edits(source, filename, settings)
    if not edits:
        return source
    try:
        if cst_nesting(ast.parse(source)) > MAX_EXPRESSION_DEPTH:
            return source  # libcst's native parser could overflow the C stack on it
        module = cst.parse_module(source)
    except (cst.ParserSyntaxError, SyntaxError, ValueError, RecursionError):
        return source
    fixer = _Fixer(edits, source_lines(source), max_line_length)
    fixed = MetadataWrapper(module, unsafe_skip_copy=True).visit(fixer)
    values = [edit.value for edit in edits if edit.kind in ("kwarg", "dict")]
    return _fit_lines(fixed.code, source, values, max_line_length)


def _fit_lines(code: str, source: str, values: Sequence[str], limit: int) -> str:
    """A line the fix made longer than ``limit`` because of an added value (accelerate's
    ``kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)]`` is 76 characters by
    itself) is broken after an opening bracket of that value, the rest on a hanging indent (the line's
    indentation + 4), where both parts fit; where none does, it stays as it is."""
    old = set(source_lines(source))
    out: List[str] = []
    for line in source_lines(code):
        text = line.rstrip("\r\n")
        if len(text) > limit and line not in old:
            line = _break_line(line, text, values, limit)
        out.append(line)
    return "".join(out)


def _break_line(line: str, text: str, values: Sequence[str], limit: int) -> str:
    """Break after the last opening bracket of the added value where the line still fits, again on the rest
    while it is too long (each part one hanging indent deeper)."""
    ending = line[len(text):]
    for value in values:
        start = text.find(value)
        if start < 0:
            continue
        parts: List[str] = []
        indent = len(text) - len(text.lstrip(" "))
        current, end = text, start + len(value)  # the value's part of `current` ends at `end`
        while len(current) > limit:
            fits = [k for k in range(start, end) if current[k] in "([" and k + 1 <= limit]
            if not fits:
                break
            k = fits[-1]
            parts.append(current[:k + 1])
            indent += 4
            rest = current[k + 1:].lstrip(" ")
            start, end = indent, indent + end - (len(current) - len(rest))
            current = " " * indent + rest
        if parts and len(current) <= limit:
            return "".join(part + ending for part in parts) + current + ending
    return line


def diff_source(source: str, filename: str = "<string>", settings: Optional[Any] = None,
                max_line_length: int = 79) -> str:
    """A unified diff from ``source`` to ``fix_source(source)``; empty when nothing changes."""
    fixed = fix_source(source, filename, settings, max_line_length)
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

    def __init__(self, edits: Sequence[Edit], lines: Sequence[str] = (), limit: int = 10 ** 9) -> None:
        super().__init__()
        self.lines, self.limit = lines, limit
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
            wrap = self._wrap_column(original_node.args, f", {edit.path[0]}={edit.value}")
            updated_node = _set_keyword(updated_node, edit.path[0], edit.value, wrap)
        return updated_node

    def leave_Dict(self, original_node: cst.Dict, updated_node: cst.Dict) -> cst.BaseExpression:
        for edit in self._edits("dict", original_node):
            added = f', "{edit.path[0]}": {_nested(edit.path[1:], edit.value)}'
            wrap = self._wrap_column(original_node.elements, added)
            updated_node = _set_dict_path(updated_node, edit.path, edit.value, wrap) or updated_node
        return updated_node

    def _wrap_column(self, items: Sequence[cst.CSTNode], added: str) -> Optional[int]:
        """Where a new item goes when appending ``added`` after the last item would make its line too long:
        under the first item (a visual or a hanging indent, as the call already has)."""
        if not items or not self.lines:
            return None
        last = self.get_metadata(PositionProvider, items[-1]).end
        text = self.lines[last.line - 1].rstrip("\r\n") if last.line <= len(self.lines) else ""
        if len(text) + len(added) <= self.limit:
            return None
        column = self.get_metadata(PositionProvider, items[0]).start.column
        if len(text) > self.limit and column + len(added) - 2 > self.limit:
            return None  # the line is too long already and a new one would be too: one long line, not two
        return column

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


def _set_keyword(call: cst.Call, name: str, value: str, wrap: Optional[int] = None) -> cst.Call:
    expr = cst.parse_expression(value)
    args = list(call.args)
    for i, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == name:
            args[i] = arg.with_changes(value=expr)
            return call.with_changes(args=args)
    new_arg = cst.Arg(value=expr, keyword=cst.Name(name),
                      equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
    if not args:
        return call.with_changes(args=[new_arg])
    tail = args[-1].whitespace_after_arg  # what stands before the closing parenthesis
    args[-1] = args[-1].with_changes(whitespace_after_arg=cst.SimpleWhitespace(""))
    args, closing = _append(args, new_arg, call.whitespace_before_args, tail, wrap)
    args[-1] = args[-1].with_changes(whitespace_after_arg=closing)
    return call.with_changes(args=args)


Element = Union[cst.Arg, cst.BaseDictElement]


Whitespace = cst.BaseParenthesizableWhitespace


def _append(items: List[Any], new: Any, opening: Whitespace, tail: Whitespace,
            wrap: Optional[int] = None) -> Tuple[List[Any], Whitespace]:
    """Append ``new`` keeping the layout; returns the items and the whitespace before the closing bracket.

    ``opening`` follows the opening bracket, ``tail`` precedes the closing one. One item per line stays one
    per line (the new item on its own line, indented like the others, the bracket where it was); items on
    one line get ``, new`` after the last one, or, when that line would be too long, on a new line at column
    ``wrap``. A trailing comma stays trailing, a comment stays on its line."""
    if not items:
        return [new], tail
    last = items[-1]
    trailing = isinstance(last.comma, cst.Comma)
    gap = tail  # between the last item (with its comma) and the closing bracket
    if trailing and not last.comma.whitespace_after.empty:  # libcst gives it to the comma in calls
        gap = last.comma.whitespace_after
    separator = items[-2].comma.whitespace_after if len(items) >= 2 and isinstance(items[-2].comma, cst.Comma) \
        else opening
    if isinstance(separator, cst.ParenthesizedWhitespace) and isinstance(gap, cst.ParenthesizedWhitespace):
        before_new: Whitespace = gap.with_changes(indent=separator.indent, last_line=separator.last_line)
        closing: Whitespace = cst.ParenthesizedWhitespace(indent=gap.indent, last_line=gap.last_line)
    elif wrap is not None:
        before_new = cst.ParenthesizedWhitespace(indent=False, last_line=cst.SimpleWhitespace(" " * wrap))
        closing = gap
    else:
        before_new, closing = cst.SimpleWhitespace(" "), gap
    comma_before = last.comma.whitespace_before if trailing else cst.SimpleWhitespace("")
    last = last.with_changes(comma=cst.Comma(whitespace_before=comma_before, whitespace_after=before_new))
    new = new.with_changes(comma=cst.Comma() if trailing else cst.MaybeSentinel.DEFAULT)
    return items[:-1] + [last, new], closing


def _set_dict_path(node: cst.Dict, path: Sequence[str], value: str, wrap: Optional[int] = None) -> Optional[cst.Dict]:
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
    new = cst.DictElement(cst.SimpleString(f'"{key}"'), cst.parse_expression(_nested(path[1:], value)))
    if not elements:
        return node.with_changes(elements=[new])
    elements, closing = _append(elements, new, node.lbrace.whitespace_after, node.rbrace.whitespace_before, wrap)
    return node.with_changes(elements=elements, rbrace=node.rbrace.with_changes(whitespace_before=closing))


def _nested(path: Sequence[str], value: str) -> str:
    """``{"a": {"b": value}}`` for the path ``a, b``."""
    for part in reversed(path):
        value = f'{{"{part}": {value}}}'
    return value
