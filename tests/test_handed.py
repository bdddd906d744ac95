"""handed.py: where a module handed to a function of the file ends, under which flags, and when it escapes.

The torch ground truth of the shapes below is in fixtures/init_handed_to_functions.py (monai's DynUNet builder)."""
from __future__ import annotations

import ast
import textwrap
from typing import FrozenSet, Optional, Set, Tuple

from flake8_ddp_unused.handed import End, follow, reaches_self


def ends(source: str, param: str, holders: Tuple[str, ...] = ("Block", "nn.Sequential"), first: int = 0
         ) -> Optional[Set[Tuple[str, str, FrozenSet[str]]]]:
    func = ast.parse(textwrap.dedent(source)).body[0]
    assert isinstance(func, ast.FunctionDef)
    name = func.name

    def recursive(node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and node.id == name

    def holds(call: ast.Call) -> bool:
        return ast.unparse(call.func) in holders

    found = follow(func, param, recursive, holds, first)
    if found is None:
        return None
    return {(end.kind, end.attr, _texts(end)) for end in found}


def _texts(end: End) -> FrozenSet[str]:
    return frozenset(text for _, _, text in end.conds)


DYNUNET = """
def create(index, downs, heads, bottom):
    if len(downs) == 0:
        return bottom
    if index == 0:
        current, rest = nn.Identity(), heads
    elif not self.deep_supervision:
        current, rest = nn.Identity(), heads[1:]
    else:
        current, rest = heads[0], heads[1:]
    next_layer = create(index + 1, downs[1:], rest, bottom)
    return Block(index, downs[0], current, next_layer)
"""


def test_recursive_builder_holds_the_heads_only_under_the_flag() -> None:
    assert ends(DYNUNET, "heads") == {("returned", "", frozenset({"self.deep_supervision"}))}


def test_recursive_builder_holds_the_other_modules_always() -> None:
    assert ends(DYNUNET, "downs") == {("returned", "", frozenset())}
    assert ends(DYNUNET, "bottom") == {("returned", "", frozenset())}


def test_a_value_assigned_under_a_branch_keeps_its_tests_after_the_join() -> None:
    source = """
    def build(head):
        if self.use_head:
            kept = head
        else:
            kept = None
        return Block(kept)
    """
    assert ends(source, "head") == {("returned", "", frozenset({"self.use_head"}))}


def test_tests_on_anything_but_self_flags_may_be_true() -> None:
    source = """
    def build(head, n):
        if n > 2 and self.aux:
            return Block(head)
        if not (n > 2 or self.plain):
            self.side = head
        return Block(None)
    """
    assert ends(source, "head") == {("returned", "", frozenset({"self.aux"})),
                                    ("stored", "side", frozenset({"not self.plain"}))}


def test_dropped_everywhere() -> None:
    source = """
    def build(blocks, norm):
        if norm is None or len(blocks) > 8:
            raise ValueError(f"{norm}")
        return nn.Sequential(*blocks)
    """
    assert ends(source, "norm") == set()
    assert ends(source, "blocks") == {("returned", "", frozenset())}


def test_contradicting_tests_drop_the_end() -> None:
    source = """
    def build(head):
        kept = head if self.flag else None
        if not self.flag:
            kept = None
        else:
            pass
        if not self.flag:
            return Block(head)
        return Block(nn.Identity())
    """
    assert ends(source, "head") == {("returned", "", frozenset({"not self.flag"}))}


def test_escapes() -> None:
    escaping = [
        "def f(head):\n    return other(head)\n",  # handed to code not read
        "def f(head):\n    return head.weight\n",  # an attribute of it
        "def f(head):\n    return head(x)\n",  # run here
        "def f(head):\n    self.heads.append(head)\n",  # a method of something else
        "def f(head):\n    self.d[0] = head\n",  # stored into a container
        "def f(head):\n    g = lambda: head\n    return Block(g)\n",  # a closure
        "def f(head, other):\n    return f(head=other, other=head)\n",  # recursion at another position
        "def f(*heads):\n    return Block(heads[0])\n",  # *args: positions unknown
        "def f(head):\n    global H\n    H = head\n",
    ]
    for source in escaping:
        assert ends(source, "head") is None, source


def test_methods_skip_self_and_may_reach_the_attribute_through_self() -> None:
    source = """
    def wrap(self, head):
        return Block(head)
    """
    assert ends(source, "head", first=1) == {("returned", "", frozenset())}
    func = ast.parse(textwrap.dedent("""
    def wrap(self, head):
        self.helper()
        return Block(head)
    """)).body[0]
    assert isinstance(func, ast.FunctionDef)
    assert reaches_self(func, "aux", lambda node: False)  # another method may read self.aux
    reads = ast.parse("def wrap(head):\n    return Block(self.aux)\n").body[0]
    assert isinstance(reads, ast.FunctionDef)
    assert reaches_self(reads, "aux", lambda node: False)
    assert not reaches_self(reads, "other", lambda node: False)
