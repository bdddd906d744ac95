"""Two cost cuts of the linted file's side that must not change what the analysis reads: the listing of a
definition's nodes without ``ast.walk``'s generators (``index.walk``), and libcst's parse of a method without
the checks its node constructors run (``flow._parse_unvalidated``)."""
from __future__ import annotations

import ast
import textwrap

import libcst as cst
import pytest

from flake8_ddp_unused import flow, index

SOURCE = textwrap.dedent('''
    import torch.nn as nn

    class Net(nn.Module):
        """A docstring."""
        scale: float = 2.0

        def __init__(self, n: int = 3, *args, flag=True, **kwargs) -> None:
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(n, n) for _ in range(n)])
            self.head = nn.Linear(n, 1) if flag else None

        @property
        def width(self):
            return len(self.blocks)

        async def later(self):
            async with self.lock as held:
                await held

        def forward(self, x, *, mask=None):
            for i, block in enumerate(self.blocks):
                x = block(x) * self.scale if i % 2 else x[..., 1:2]
            try:
                y = {k: v for k, v in zip("ab", (x, x)) if k} | {"c": lambda z=1: z + x}
            except (ValueError, KeyError) as error:
                raise RuntimeError(f"bad {error!r:>10}") from error
            match mask:
                case None | [1, *_]:
                    pass
            return self.head(x) if self.head is not None else (y, not x, -x, x @ x)
''')


_DEFINITIONS = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def _definitions(tree: ast.AST):
    return [node for node in ast.walk(tree) if isinstance(node, _DEFINITIONS)]


def test_walk_lists_the_nodes_of_ast_walk_in_its_order() -> None:
    tree = ast.parse(SOURCE)
    definitions = _definitions(tree)
    assert len(definitions) == 5  # the class and its four methods
    for node in definitions:
        assert [id(n) for n in index.walk(node)] == [id(n) for n in ast.walk(node)]
        assert [id(n) for n in index.walk(node)] == [id(n) for n in ast.walk(node)]  # the kept list, read again
    module = ast.parse("x = [a.b for a in c if d]\n")  # not a definition: ast.walk itself
    assert [id(n) for n in index.walk(module)] == [id(n) for n in ast.walk(module)]


def _methods(tree: ast.Module, lines):
    module = index.FileIndex(tree, lines, "t.py")
    return module, [func for info in module.classes.values() for func in info.methods.values()]


def test_methods_parse_to_the_trees_of_a_validating_parse() -> None:
    tree = ast.parse(SOURCE)
    module, methods = _methods(tree, index.source_lines(SOURCE))
    assert len(methods) == 3  # __init__, later, forward (the property is kept apart)
    for func in methods + list(module.classes["Net"].properties.values()):
        parsed = flow.parse_method(module, func)
        first = min([func.lineno] + [d.lineno for d in func.decorator_list])
        segment = "".join(module.lines[first - 1:func.end_lineno])
        checked = cst.parse_module("if 1:\n" + segment).body[0].body.body[0]  # type: ignore[attr-defined]
        assert parsed.deep_equals(checked)
        assert cst.Module(body=[]).code_for_node(parsed) == cst.Module(body=[]).code_for_node(checked)
    assert cst.CSTNode.__post_init__ is flow._VALIDATE


def test_nodes_built_by_hand_are_still_checked_after_a_parse_and_after_a_failed_one() -> None:
    flow._parse_unvalidated("x = 1\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")
    with pytest.raises(cst.ParserSyntaxError):
        flow._parse_unvalidated("def (:\n")
    assert cst.CSTNode.__post_init__ is flow._VALIDATE
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")
