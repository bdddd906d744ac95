"""A finding names a `self.x = ...` line of the file it is reported in, never a line of another file."""
from __future__ import annotations

import ast
from pathlib import Path

from flake8_ddp_unused.lint import analyze_tree

BASE = '''import torch.nn as nn


class Base(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 4)
        self.pooler = nn.Linear(4, 4)

    def forward(self, x):
        return self.pooler(self.body(x))
'''

CHILD = '''from .base import Base


class Child(Base):
    def forward(self, x):  # drops the pooler that Base builds in base.py
        return self.body(x)
'''


def lint(path: Path) -> list:
    source = path.read_text()
    return analyze_tree(ast.parse(source), source.splitlines(True), str(path))


def test_inherited_attribute_is_not_reported_in_the_subclass_file(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "base.py").write_text(BASE)
    (package / "child.py").write_text(CHILD)
    child_findings = lint(package / "child.py")
    assert child_findings == [], [f.text for f in child_findings]  # base.py's line 8 must not appear here
    assert lint(package / "base.py") == []  # Base uses its pooler
