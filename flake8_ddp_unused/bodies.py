"""Function bodies of other files' kept trees, dropped under memory pressure and read back when asked for.

The trees of other files are kept between linted files so that each file is parsed once per process. Most of
a tree is function bodies (about 85% of the nodes of transformers' shared infrastructure), and most of
those bodies are never read by the analysis of a later file: what it reads of a base class are its
header, its class-level statements, its methods' signatures and the facts already computed on it
(``ClassInfo.fact``). ``drop`` takes the bodies out of a kept tree; the first time a reader asks for one
(``node.body``, any ``ast.walk``), it is parsed again from the file's kept lines, alone, and put back in
place, so every reader sees the same nodes at the same positions as a whole-file parse gives.
"""
from __future__ import annotations

import ast
import re
from typing import Iterator, List, Optional, Sequence, Set, Tuple, Union

_Def = Union[ast.FunctionDef, ast.AsyncFunctionDef]

# bodies parsed back, their lines, and whole files parsed again where a body could not be parsed alone
RESTORED = {"bodies": 0, "values": 0, "lines": 0, "files": 0}


def _body(node: _Def) -> List[ast.stmt]:
    state = node.__dict__
    body = state.get("body")
    if body is None:
        body = state["body"] = _parse_back(node)
        state["_parsed_back"] = True  # read again after a drop: later files will read it too, it stays
    return body


def _set_body(node: _Def, body: List[ast.stmt]) -> None:
    node.__dict__["body"] = body


class LazyFunctionDef(ast.FunctionDef):
    """A ``def`` whose body may have been dropped: reading ``body`` parses it back."""

    body = property(_body, _set_body)  # type: ignore[assignment]


class LazyAsyncFunctionDef(ast.AsyncFunctionDef):
    body = property(_body, _set_body)  # type: ignore[assignment]


_LAZY = {ast.FunctionDef: LazyFunctionDef, ast.AsyncFunctionDef: LazyAsyncFunctionDef}


def _value(node: "ast.Assign") -> ast.expr:
    state = node.__dict__
    value = state.get("value")
    if value is None:
        value = state["value"] = _parse_back_value(node)
        state["_parsed_back"] = True
    return value


def _set_value(node: "ast.Assign", value: ast.expr) -> None:
    node.__dict__["value"] = value


class LazyAssign(ast.Assign):
    """A module-level assignment of a long value (transformers' ``MODEL_MAPPING_NAMES = OrderedDict([...])``,
    ``_import_structure = {...}``) whose value may have been dropped: reading ``value`` parses it back."""

    value = property(_value, _set_value)  # type: ignore[assignment]


class LazyAnnAssign(ast.AnnAssign):
    value = property(_value, _set_value)  # type: ignore[assignment]


_LAZY_VALUES = {ast.Assign: LazyAssign, ast.AnnAssign: LazyAnnAssign}
_MIN_VALUE_LINES = 8  # a shorter value costs more to parse back than it holds
_LAZY_NODES = (LazyAssign, LazyAnnAssign)
_STATEMENT_OF = {LazyAssign: ast.Assign, LazyAnnAssign: ast.AnnAssign}


def first_line(node: _Def) -> int:
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())])


def _parse_segment(lines: Sequence[str], first: int, last: int, indented: bool, filename: str) -> Optional[ast.AST]:
    """The one statement on ``lines[first..last]`` (1-based), parsed alone: an indented statement parses under
    an ``if 1:`` header that keeps its columns; line numbers are moved back to the file's. None if it fails."""
    segment = "".join(lines[first - 1:last])
    try:
        tree = ast.parse("if 1:\n" + segment if indented else segment, filename=filename)
        found = tree.body[0].body[0] if indented else tree.body[0]  # type: ignore[attr-defined]
        ast.increment_lineno(found, first - 1 - (1 if indented else 0))
        return found
    except (SyntaxError, ValueError, RecursionError, MemoryError, IndexError, AttributeError):
        return None


def _parse_back(node: _Def) -> List[ast.stmt]:
    """The body of a dropped ``def``, parsed from its own lines: an indented method parses under an ``if 1:``
    header that keeps its columns; line numbers are moved back to the file's."""
    lines: Sequence[str] = node.__dict__["_lines"]
    first, last = first_line(node), node.end_lineno or node.lineno
    found = _parse_segment(lines, first, last, node.col_offset > 0, "<body>")
    if not _same_def(found, node):
        found = _from_whole_file(lines, node)
    RESTORED["bodies"] += 1
    RESTORED["lines"] += last - first + 1
    return found.body if found is not None else []  # type: ignore[union-attr]


def _parse_back_value(node: ast.stmt) -> ast.expr:
    """The value of a dropped module-level assignment, parsed from the statement's own lines (under ``if 1:``
    when it sits in a module-level ``if``/``try`` block), line numbers moved back to the file's."""
    lines: Sequence[str] = node.__dict__["_lines"]
    first, last = node.lineno, node.end_lineno or node.lineno
    found = _parse_segment(lines, first, last, node.col_offset > 0, "<value>")
    if not (type(found) is _STATEMENT_OF[type(node)] and _same_place(found, node)):
        found = _same_statement(ast.parse("".join(lines)), node)
        RESTORED["files"] += 1
    RESTORED["values"] += 1
    RESTORED["lines"] += last - first + 1
    value = getattr(found, "value", None)
    return value if value is not None else ast.Constant(value=None)


def _place(node: ast.AST) -> Tuple[int, int, Optional[int], Optional[int]]:
    return (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]


def _same_place(found: Optional[ast.AST], node: ast.AST) -> bool:
    return found is not None and _place(found) == _place(node)


def _same_statement(tree: ast.Module, node: ast.stmt) -> Optional[ast.AST]:
    for other in ast.walk(tree):
        if type(other) is _STATEMENT_OF[type(node)] and _same_place(other, node):
            return other
    return None


def _same_def(found: Optional[ast.AST], node: _Def) -> bool:
    return (isinstance(found, (ast.FunctionDef, ast.AsyncFunctionDef)) and found.name == node.name
            and (found.lineno, found.col_offset, found.end_lineno, found.end_col_offset)
            == (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset))


def _from_whole_file(lines: Sequence[str], node: _Def) -> Optional[ast.AST]:
    """The fallback (not met on the benchmarks' files): the whole file parsed again, the same ``def`` found."""
    RESTORED["files"] += 1
    tree = ast.parse("".join(lines))
    for other in ast.walk(tree):
        if _same_def(other, node):
            return other
    return None


# PEP 263: a coding declaration in the first two lines
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.M)


def lines_reparse_alike(data: bytes) -> bool:
    """Whether the file's decoded lines parse to what its bytes parse to: UTF-8 text, no other declared
    encoding, no byte-order mark (only then is a body parsed back from the kept lines)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    head = b"\n".join(data.split(b"\n", 2)[:2])
    match = _CODING.search(head)
    return match is None or match.group(1).lower().replace(b"_", b"-") in (b"utf-8", b"utf8")


def _defs_of(tree: ast.Module, keep: Set[int]) -> Iterator[_Def]:
    """Every ``def`` outside function bodies: module functions and methods of (nested) classes, and of
    if/try blocks at those levels. A ``def`` whose body holds a class in ``keep`` (a class the file's index
    reads, written inside a function) keeps its body, so that class's node stays the one in the tree."""
    stack: List[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if not any(child.lineno <= line <= (child.end_lineno or child.lineno) for line in keep):
                    yield child
            elif isinstance(child, (ast.ClassDef, ast.If, ast.Try, ast.With, ast.AsyncWith)) or (
                    isinstance(child, ast.ExceptHandler)):
                stack.append(child)


def _long_values(tree: ast.Module) -> Iterator[ast.stmt]:
    """Module-level assignments (also in module-level if/try blocks) whose value spans many lines."""
    stack: List[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            if node.value is not None and (node.end_lineno or node.lineno) - node.lineno + 1 >= _MIN_VALUE_LINES:
                yield node
        elif isinstance(node, ast.If):
            stack.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            stack.extend(node.body + [s for h in node.handlers for s in h.body] + node.orelse + node.finalbody)


def make_lazy(tree: ast.Module, lines: Sequence[str], keep_classes: Sequence[ast.ClassDef]) -> List[ast.stmt]:
    """Turn the ``def`` nodes outside function bodies into ones whose body may be dropped, and the module-level
    assignments of long values into ones whose value may be dropped (their fields and positions unchanged;
    ``isinstance(node, ast.FunctionDef)`` still holds). Returns them."""
    keep = {cls.lineno for cls in keep_classes}
    made: List[ast.stmt] = []
    for node in _defs_of(tree, keep):
        lazy = _LAZY.get(type(node))
        if lazy is None:
            continue
        node.__dict__["_lines"] = lines
        node.__class__ = lazy
        made.append(node)
    for value in _long_values(tree):
        lazy_value = _LAZY_VALUES.get(type(value))
        if lazy_value is not None:
            value.__dict__["_lines"] = lines
            value.__class__ = lazy_value
            made.append(value)
    return made


def _field(node: ast.AST) -> str:
    return "value" if isinstance(node, _LAZY_NODES) else "body"


def drop(defs: Sequence[ast.stmt], tree: ast.Module, parsed_back: bool = False) -> None:
    """Drop the bodies (values) of ``defs`` that were never parsed back (one parsed back was read by a later
    file, and may well be read by the next: it stays), or with ``parsed_back`` those too. The node lists
    ``index.walk`` keeps on class and ``def`` nodes go too, since they hold the dropped nodes."""
    for node in defs:
        state = node.__dict__
        field = _field(node)
        if state.get(field) is not None and (parsed_back or not state.get("_parsed_back")):
            state[field] = None
    for node in _skeleton(tree):
        node.__dict__.pop("_walked", None)


def string_lines(tree: ast.Module) -> int:
    """Lines of the string statements outside function bodies (module and class docstrings, documented
    fields): a few nodes each, whatever their length."""
    count = 0
    stack: List[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for child in getattr(node, "body", ()):
            if isinstance(child, ast.ClassDef):
                stack.append(child)
            elif isinstance(child, ast.Expr) and isinstance(child.value, ast.Constant) and isinstance(
                    child.value.value, str):
                count += (child.end_lineno or child.lineno) - child.lineno + 1
    return count


def _skeleton(tree: ast.Module) -> Iterator[ast.AST]:
    """The class and ``def`` nodes reachable without entering a dropped body."""
    stack: List[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node
        if isinstance(node, (LazyFunctionDef, LazyAsyncFunctionDef)) and node.__dict__.get("body") is None:
            continue
        if isinstance(node, _LAZY_NODES):
            continue  # no statement below, and reading its value would parse it back
        stack.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt)
                     or isinstance(child, ast.ExceptHandler))


def dropped_lines(defs: Sequence[ast.stmt]) -> int:
    """Lines of ``defs`` whose bodies (values) are dropped now."""
    return sum((node.end_lineno or node.lineno) - first_line(node) + 1 for node in defs  # type: ignore[arg-type]
               if node.__dict__.get(_field(node)) is None)
