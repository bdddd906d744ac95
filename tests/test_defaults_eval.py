"""The one evaluator of a test at literal defaults (defaults_eval): every construct held, not held, and unknown.

The expected truths are Python's own (each known case is also checked against `eval` of the same text with the
binding as its namespace), so a table row cannot agree with the evaluator by construction alone.
"""
from __future__ import annotations

import ast
import warnings
from types import SimpleNamespace
from typing import Dict, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flake8_ddp_unused.defaults_eval import UNKNOWN, compare, literal, truth, truth_of, value_of

BINDING: Dict[str, object] = {
    "flag": True, "off": False, "none": None, "n": 0, "stages": -1, "depth": 4, "rate": 0.1, "name": "relative_key",
    "names": ("a", "b"), "items": [], "self.frozen_stages": -1, "self.use_aux": False, "self.cols": ["x", "y"],
    "config.layerdrop": 0.0, "self.config.mode": "absolute",
}


def _expr(text: str) -> ast.expr:
    return ast.parse(text, mode="eval").body


def _namespace() -> Dict[str, object]:
    """The binding as a namespace `eval` understands: `self.x` and `config.x` become attributes."""
    plain: Dict[str, object] = {k: v for k, v in BINDING.items() if "." not in k}
    config = SimpleNamespace(layerdrop=BINDING["config.layerdrop"])
    self_config = SimpleNamespace(mode=BINDING["self.config.mode"])
    plain["config"] = config
    plain["self"] = SimpleNamespace(frozen_stages=BINDING["self.frozen_stages"], use_aux=BINDING["self.use_aux"],
                                    cols=BINDING["self.cols"], config=self_config)
    return plain


# (test, truth at the binding): every construct held (True), not held (False), and undecided (None)
CASES = [
    # constants and truthiness of bound names and attribute chains
    ("flag", True), ("off", False), ("unbound", None),
    ("self.cols", True), ("self.use_aux", False), ("self.missing", None),
    ("self.config.mode", True), ("config.layerdrop", False), ("config.other", None),
    ("1", True), ("0", False), ("items", False), ("names", True),
    # not
    ("not off", True), ("not flag", False), ("not unbound", None),
    # unary minus and plus
    ("stages == -1", True), ("-stages < 0", False), ("-name", None), ("+depth == 4", True),
    # and / or, short-circuiting as Python does
    ("flag and depth", True), ("flag and n", False), ("flag and unbound", None),
    ("off or depth", True), ("off or items", False), ("off or unbound", None),
    ("flag or unbound", True), ("off and unbound", False), ("unbound or flag", None),
    # ==, !=
    ("name == 'relative_key'", True), ("name == 'absolute'", False), ("name == unbound", None),
    ("depth != 3", True), ("self.config.mode != 'absolute'", False), ("unbound != 3", None),
    ("depth == 4.0", True), ("flag == 1", True),
    # <, <=, >, >=
    ("depth > 0", True), ("self.frozen_stages >= 0", False), ("none > 0", None),
    ("rate < 0.5", True), ("depth <= 3", False), ("name < 1", None),
    ("name >= 'a'", True), ("names < ('a',)", False), ("names < [1]", None),
    # chained comparisons
    ("0 <= n < depth", True), ("0 < n < depth", False), ("0 < depth < unbound", None), ("0 < n < unbound", False),
    # in, not in
    ("'a' in names", True), ("'c' in names", False), ("1 in none", None),
    ("name not in ('absolute',)", True), ("'x' not in self.cols", False), ("'x' not in unbound", None),
    ("'key' in name", True), ("1 in name", None),
    # is None / is not None, and identity decided only against singletons
    ("none is None", True), ("name is None", False), ("unbound is None", None),
    ("name is not None", True), ("none is not None", False), ("unbound is not None", None),
    ("self.use_aux is False", True), ("flag is False", False), ("None is none", True),
    ("depth is 4", None), ("name is 'relative_key'", None), ("n is not 0", None),
    # x if c else y
    ("depth if flag else n", True), ("depth if off else n", False), ("depth if unbound else n", None),
    ("unbound if off else n", False),
    # literal containers
    ("[n]", True), ("[]", False), ("[unbound]", None), ("(n,)", True), ("()", False), ("{n}", True),
    ("[*items]", None), ("{self.cols}", None), ("len([n, depth]) == 2", True),
    # + and - on numbers
    ("self.frozen_stages + 1 > 0", False), ("depth - 4 == 0", True), ("name + 1", None), ("depth + unbound", None),
    # len, bool, list, tuple of one value
    ("len(self.cols)", True), ("len(items)", False), ("len(depth)", None), ("len(unbound)", None),
    ("bool(depth)", True), ("bool(n)", False), ("list(names) == ['a', 'b']", True), ("tuple(items)", False),
    ("len()", None), ("len(names, 1)", None), ("len(x=names)", None), ("max(depth, 1)", None),
    # anything else is unknown
    ("depth * 2", None), ("names[0]", None), ("f'{name}'", None), ("lambda: 1", None), ("self.cols.x", None),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_truth_at_the_binding(text: str, expected: Optional[bool]) -> None:
    assert truth_of(_expr(text), BINDING) is expected
    if expected is not None:  # the answer is Python's
        builtins = {"len": len, "bool": bool, "list": list, "tuple": tuple}
        assert bool(eval(compile(text, "<test>", "eval"), {"__builtins__": builtins}, _namespace())) is expected


def test_values_and_what_decided_them() -> None:
    reads: set = set()
    assert value_of(_expr("list(names) if names is not None else []"), BINDING, reads) == ["a", "b"]
    assert reads == {"names"}
    reads = set()
    assert value_of(_expr("items or names"), BINDING, reads) == ("a", "b")
    assert reads == {"items", "names"}
    reads = set()
    assert value_of(_expr("flag or depth"), BINDING, reads) is True
    assert reads == {"flag"}  # depth never runs
    reads = set()
    assert value_of(_expr("depth if off else self.frozen_stages"), BINDING, reads) == -1
    assert reads == {"off", "self.frozen_stages"}
    assert value_of(_expr("len(unbound)"), BINDING) is UNKNOWN
    assert value_of(_expr("(n, [depth])"), BINDING) == (0, [4])


def test_a_shadowed_builtin_is_not_the_builtin() -> None:
    assert truth_of(_expr("len(items)"), {"items": [], "len": 3}) is None


def test_compare_on_values() -> None:
    assert compare("==", "relative_key", "absolute") is False
    assert compare("in", "a", ("a", "b")) is True
    assert compare("not in", "a", ("a", "b")) is False
    assert compare(">", 0.0, 0) is False
    assert compare("<", "a", "b") is True
    assert compare("is", None, None) is True
    assert compare("is not", False, None) is True
    assert compare("is", 1, 1) is None
    assert compare("<", None, 1) is None
    assert compare("in", 1, None) is None
    assert compare("<", UNKNOWN, 1) is None
    assert compare("@", 1, 1) is None


def test_literal_and_truth() -> None:
    assert literal(_expr("-1")) == -1 and literal(_expr("(2, 'a')")) == (2, "a") and literal(_expr("None")) is None
    assert literal(_expr("nn.ReLU")) is UNKNOWN and literal(None) is UNKNOWN
    assert truth([]) is False and truth("x") is True and truth(UNKNOWN) is None


def test_deep_nesting_is_unknown_not_a_crash() -> None:
    text = "not " * 3000 + "flag"
    try:
        node = _expr(text)
    except RecursionError:  # the parser itself refuses on some builds
        return
    assert truth_of(node, BINDING) in (None, True, False)


# ---- generated expressions: whenever the evaluator answers, Python gives the same value -------------------------
_ATOMS = ["flag", "off", "none", "n", "stages", "depth", "rate", "name", "names", "items", "unbound",
          "self.frozen_stages", "self.use_aux", "self.cols", "self.missing", "config.layerdrop", "self.config.mode",
          "0", "1", "-1", "2.5", "'a'", "'relative_key'", "None", "True", "False", "()", "('a', 'b')", "[]", "[1, 2]"]
_BINARY = ["and", "or", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "is", "is not", "+", "-"]


def _expressions() -> "st.SearchStrategy[str]":
    def extend(inner: "st.SearchStrategy[str]") -> "st.SearchStrategy[str]":
        return st.one_of(
            st.builds(lambda a, op, b: f"({a} {op} {b})", inner, st.sampled_from(_BINARY), inner),
            st.builds(lambda a, b, c: f"({a} < {b} <= {c})", inner, inner, inner),
            st.builds(lambda a: f"(not {a})", inner),
            st.builds(lambda a: f"(-{a})", inner),
            st.builds(lambda a, b, c: f"({a} if {b} else {c})", inner, inner, inner),
            st.builds(lambda f, a: f"{f}({a})", st.sampled_from(["len", "bool", "list", "tuple"]), inner),
            st.builds(lambda a, b: f"[{a}, {b}]", inner, inner),
            st.builds(lambda a: f"({a},)", inner),
        )
    return st.recursive(st.sampled_from(_ATOMS), extend, max_leaves=8)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(_expressions())
def test_generated_expressions_agree_with_python(text: str) -> None:
    value = value_of(_expr(text), BINDING)
    if value is UNKNOWN:
        return
    builtins = {"len": len, "bool": bool, "list": list, "tuple": tuple}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # `x is 1`: Python warns, the evaluator answers unknown
        expected = eval(compile(text, "<test>", "eval"), {"__builtins__": builtins}, _namespace())
    assert value == expected and type(value) is type(expected), (text, value, expected)
