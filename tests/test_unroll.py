"""Bounded unrolling of loops over literal values (unroll.py): which names a computed name takes, and where the
linter stays silent. The end-to-end behaviour (registration with ``add_module(f"norm{i}")``, reads with
``getattr(self, f"norm{idx}")``, torch gradients) is in fixtures/init_computed_names.py."""
from __future__ import annotations

import ast
import textwrap

from flake8_ddp_unused import unroll
from flake8_ddp_unused.lint import analyze_source


def expr(text: str) -> ast.expr:
    parsed = unroll.parse_expr(text)
    assert parsed is not None
    return parsed


def test_constants_and_names() -> None:
    assert unroll.const_of(expr('f"norm{i}"'), {"i": 2}) == "norm2"
    assert unroll.const_of(expr('"head" + str(i)'), {"i": 0}) == "head0"
    assert unroll.const_of(expr('f"norm{i}"'), {}) is unroll.UNKNOWN
    assert unroll.const_of(expr('f"norm{i:02d}"'), {"i": 2}) is unroll.UNKNOWN  # a format spec: not followed
    assert unroll.const_of(expr('f"norm{i!r}"'), {"i": "a"}) is unroll.UNKNOWN


def test_literal_iterables_are_bounded() -> None:
    assert unroll.literal_items(expr("range(3)"), {}, {}) == [0, 1, 2]
    assert unroll.literal_items(expr("enumerate(self.out_indices)"), {}, {"out_indices": (0, 2)}) == [(0, 0), (1, 2)]
    assert unroll.literal_items(expr("[1, 'a']"), {}, {}) == [1, "a"]
    assert unroll.literal_items(expr("range(n)"), {}, {}) is None
    assert unroll.literal_items(expr(f"range({unroll.MAX_UNROLL + 1})"), {}, {}) is None
    assert unroll.literal_items(expr("self.other"), {}, {"out_indices": (0,)}) is None
    assert unroll.bind(expr("i, j"), (0, 1)) == {"i": 0, "j": 1}
    assert unroll.bind(expr("i, j"), 0) is None


def _findings(source: str):
    return [(f.code, f.attr) for f in analyze_source(textwrap.dedent(source), "model.py")]


def test_a_longer_loop_or_a_reassigned_literal_stays_silent() -> None:
    template = """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.stages = STAGES
                for i in self.stages:
                    self.add_module(f"norm{i}", nn.Linear(2, 2))

            def forward(self, x):
                for i in READ:
                    x = getattr(self, f"norm{i}")(x)
                return x
        EXTRA"""

    def source(stages: str, read: str, extra: str = "") -> str:
        return template.replace("STAGES", stages).replace("READ", read).replace("EXTRA", extra)

    # three registered, two read: the third is reported
    assert _findings(source("[0, 1, 2]", "(0, 1)")) == [("DDP001", "self.norm2")]
    assert _findings(source("[0, 1, 2]", "self.stages")) == []
    # more values than the bound: the names are not known, nothing is said
    assert _findings(source(str(list(range(unroll.MAX_UNROLL + 1))), "(0, 1)")) == []
    # read over the attribute, which another method changes: its values are not known when forward runs
    changed = """
            def set_stages(self, stages):
                self.stages = stages
        """
    assert _findings(source("[0, 1]", "self.stages[:1]")) == []
    assert _findings(source("[0, 1, 2]", "self.stages", changed)) == []


def test_a_list_filled_after_its_literal_is_not_that_literal() -> None:
    """mmsegmentation's ResNet shape: `self.res_layers = []`, then names appended in `__init__` and read back with
    `getattr` in forward. The empty literal is not what the list holds: no unrolling, the class stays silent (it
    used to read as an empty loop, and the stem's output as never returned)."""
    source = """
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, num_stages=2):
                super().__init__()
                self.stem = nn.Linear(2, 2)
                self.res_layers = []
                for i in range(num_stages):
                    name = f"layer{i + 1}"
                    self.add_module(name, nn.Linear(2, 2))
                    self.res_layers.append(name)

            def forward(self, x):
                x = self.stem(x)
                outs = []
                for name in self.res_layers:
                    x = getattr(self, name)(x)
                    outs.append(x)
                return tuple(outs)
        """
    assert _findings(source) == []
    assert _findings(source.replace("self.res_layers.append(name)", "pass")) == [("DDP004", "self.stem")]


GROWN = """
    import torch.nn as nn

    class Base(nn.Module):
        def __init__(self, num_stages=2):
            super().__init__()
            self.res_layers = []
            for i in range(num_stages):
                name = f"layer{i + 1}"
                self.add_module(name, nn.Linear(2, 2))
                APPEND
            self.fc = nn.Linear(2, 2)
        EXTRA

        def forward(self, x):
            for name in self.res_layers:
                x = getattr(self, name)(x)
            return x
    """


def _grown(append: str = "self.res_layers.append(name)", extra: str = "", signature: str = "num_stages=2") -> list:
    source = GROWN.replace("APPEND", append).replace("EXTRA", extra).replace("num_stages=2", signature)
    return _findings(source)


def test_a_list_grown_by_an_unrolled_loop_holds_the_names_appended() -> None:
    """The growing loop runs over ``range`` of a literal or of the default of an argument of the ``__init__`` a
    bare call runs: the names are known, ``fc`` is never read and the stages are (torch truth in
    fixtures/init_names_grown_unrolled.py)."""
    assert _grown() == [("DDP001", "self.fc")]
    assert _grown(signature="num_stages=2, depth=4") == [("DDP001", "self.fc")]


def test_a_list_grown_otherwise_stays_unknown() -> None:
    assert _grown(signature="num_stages") == []  # no default: the names are not known
    assert _grown(signature="num_stages=20") == []  # more than the bound
    assert _grown(append="if i:\n                    self.res_layers.append(name)") == []  # in a branch
    assert _grown(append="self.res_layers.append(name)\n                self.res_layers.append(name)") == [
        ("DDP001", "self.fc")]  # twice per iteration: still every append evaluated
    after = "self.res_layers.append(name)\n            self.res_layers.append('layer1')"
    assert _grown(append=after) == []  # an append after the loop
    changed = """
        def add_stage(self, name):
            self.res_layers.append(name)
    """
    assert _grown(extra=changed) == []  # another method may grow it
    rebound = "self.res_layers.append(name)\n            num_stages = 3"
    assert _grown(append=rebound) == []  # the argument is rebound in __init__: its default is not its value
