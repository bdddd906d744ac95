"""Very deep inputs: long inheritance chains, deeply nested expressions and long operator chains.

The analyser walks class hierarchies and the tree with explicit stacks, and gives up (silently) on
expressions nested more than 100 deep before libcst parses them, so none of these raises or takes long.
"""
from __future__ import annotations

import pytest

from tests.test_robustness import HEADER, deep, plugin_lines


def test_long_inheritance_chain_is_analysed() -> None:
    chain = "".join(f"class C{i}(C{i - 1}):\n    def forward(self, x):\n        return super().forward(x)\n"
                    for i in range(1, 1500))
    source = HEADER + "class C0(nn.Module):\n    def forward(self, x):\n        return x\n" + chain
    assert not [line for line in plugin_lines(source) if line.startswith("DDP999")]


@pytest.mark.parametrize("shape", ["elif", "binop", "ifexp", "not"])
def test_deepest_parsable_nesting_is_analysed(shape: str) -> None:
    assert not [line for line in plugin_lines(deep(shape, 2000)) if line.startswith("DDP999")]


@pytest.mark.parametrize("shape", ["binop", "ifexp"])
def test_long_operator_chains_are_fast(shape: str) -> None:
    """libcst's parse of one forward with a 1,600-term sum takes ~10 s (super-linear): bound it."""
    import time

    start = time.process_time()
    plugin_lines(deep(shape, 1600))
    assert time.process_time() - start < 5
