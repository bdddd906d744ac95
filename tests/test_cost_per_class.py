"""Facts that depend only on one class's own code are read once per class (issue 12's cost).

Every class of a hierarchy reads the facts of its whole MRO (what the methods assign, which configuration
values ``__init__`` stores, which ``self.m()`` calls they make). Re-walking each base for every subclass and
every call context made transformers' large files quadratic in their classes (each model class walking
``PreTrainedModel`` again). These tests count the walks and the look-ups instead of timing them: a walk
per class and MRO level comes back as a count that grows with the depth.
"""
from __future__ import annotations

import ast
from collections import Counter
from typing import Dict, List

import pytest

from flake8_ddp_unused import index, project
from flake8_ddp_unused.lint import analyze_source, analyze_tree
from flake8_ddp_unused.index import source_lines

DEPTH = 40  # below the MRO cut (64): every class reads every base
LEAVES = 20  # siblings at the bottom of the chain


def hierarchy(depth: int, leaves: int) -> str:
    """A chain of module classes reading a configuration, each with a helper that writes ``self``, plus
    sibling leaves at the bottom: every class's MRO holds the whole chain. Each ``forward`` overrides its
    base's (the bases' layers are unused there: DDP001 findings, one per class) without a ``super()`` chain
    deeper than the interpreter follows."""
    out: List[str] = [
        "import torch.nn as nn", "", "",
        "class Config:",
        "    def __init__(self, dropout=0.1, use_x=True):",
        "        self.dropout = dropout",
        "        self.use_x = use_x", "", "",
    ]
    for i in range(depth):
        base = "nn.Module" if i == 0 else f"C{i - 1}"
        out += [
            f"class C{i}({base}):",
            "    def __init__(self, config: Config):",
            "        super().__init__()" if i == 0 else "        super().__init__(config)",
            "        self.config = config",
            f"        self.rate{i} = config.dropout",
            f"        self.lin{i} = nn.Linear(2, 2)", "",
            f"    def helper{i}(self, x):",
            f"        self.cache{i} = x",
            f"        return self.lin{i}(x)", "",
            "    def forward(self, x):",
            "        if self.config.use_x:",
            f"            x = self.lin{i}(x)",
            f"        return self.helper{i}(x)", "", "",
        ]
    for j in range(leaves):
        out += [
            f"class Leaf{j}(C{depth - 1}):",
            "    def __init__(self, config: Config):",
            "        super().__init__(config)",
            f"        self.head{j} = nn.Linear(2, 2)", "",
            "    def forward(self, x):",
            f"        return self.head{j}(x)", "", "",
        ]
    return "\n".join(out)


def test_each_class_and_method_is_walked_a_bounded_number_of_times(monkeypatch: pytest.MonkeyPatch) -> None:
    source = hierarchy(DEPTH, LEAVES)
    tree = ast.parse(source)
    definitions: Dict[int, str] = {id(node): f"{type(node).__name__} {node.name} line {node.lineno}"
                                   for node in ast.walk(tree) if isinstance(node, (ast.ClassDef, ast.FunctionDef))}
    walks: Counter = Counter()
    real_walk = ast.walk

    def counting_walk(node: ast.AST):  # type: ignore[no-untyped-def]
        walks[id(node)] += 1
        return real_walk(node)

    real_below = index._below  # index.walk lists a definition's nodes once, without ast.walk

    def counting_below(node: ast.AST):  # type: ignore[no-untyped-def]
        walks[id(node)] += 1
        return real_below(node)

    monkeypatch.setattr(ast, "walk", counting_walk)
    monkeypatch.setattr(index, "_below", counting_below)
    project.clear_cache()
    findings = analyze_tree(tree, source_lines(source), "t.py")
    monkeypatch.undo()
    assert "DDP998" not in {f.code for f in findings}, "a class was skipped: its walks are not counted"
    assert {f.code for f in findings} == {"DDP001"}
    walked = {definitions[key]: count for key, count in walks.items() if key in definitions}
    assert walked, "the analysis no longer walks definitions: this test counts nothing"
    worst = max(walked.items(), key=lambda item: item[1])
    # once per fact, whatever the depth: a walk per subclass would make the base's count ~DEPTH + LEAVES
    assert worst[1] <= 4, f"{worst[0]} walked {worst[1]} times for {DEPTH} levels and {LEAVES} leaves"


def test_an_unresolvable_configuration_class_is_looked_up_once_per_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """`from some_package import FooConfig` that no file of the project or installed package defines: every
    configuration scope of the file asks for it; the search (a whole package's star imports, for
    transformers 1,500 files read) runs once per file, not once per class."""
    classes = 30
    source = "\n".join(["import torch.nn as nn", "from not_a_package_anywhere import FooConfig", "", ""] + [
        line for i in range(classes) for line in (
            f"class M{i}(nn.Module):",
            "    def __init__(self, config: FooConfig):",
            "        super().__init__()",
            "        self.rate = config.dropout",
            "        self.lin = nn.Linear(2, 2)",
            "        self.spare = nn.Linear(2, 2)", "",
            "    def forward(self, x):",
            "        if self.rate > 0.5:",
            "            x = self.spare(x)",
            "        return self.lin(x)", "", "")])
    asked: Counter = Counter()
    real_resolve = project.resolve_class

    def counting_resolve(importer, qualname, settings=None, depth=0, installed=False):  # type: ignore[no-untyped-def]
        if installed:
            asked[qualname] += 1
        return real_resolve(importer, qualname, settings, depth, installed)

    monkeypatch.setattr(project, "resolve_class", counting_resolve)
    project.clear_cache()
    analyze_source(source, "t.py")
    assert asked["not_a_package_anywhere.FooConfig"] == 1, asked
