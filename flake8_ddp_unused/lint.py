"""One file in, findings out: the model classes of the file (``analyzer.py``), then its launch sites
(``launch.py``), which may settle what the model side left open. The front ends (the flake8 plugin, the
standalone command) call only this."""
from __future__ import annotations

import ast
from typing import List, Optional, Sequence

from .analyzer import FileAnalysis
from .index import FileIndex, source_lines
from .launch import check_launches, drop_settled
from .project import attach, release, start_file
from .rules import Finding
from .settings import Settings
from .skips import Skip


def analyze_tree(tree: ast.Module, lines: Sequence[str], filename: str = "<string>",
                 settings: Settings = Settings(), module_name: str = "",
                 skipped: Optional[List[Skip]] = None) -> List[Finding]:
    """Findings of one file, with a DDP998 finding per part skipped; ``skipped`` (when given) also
    receives the skip records themselves."""
    index = FileIndex(tree, lines, filename, module_name, settings.module_bases)
    start_file()
    attach(index, settings)  # classes imported from other files of the project
    analysis = FileAnalysis(index, settings)
    try:
        own = analysis.run()
        launches = check_launches(analysis)
        findings = drop_settled(analysis, own) + launches  # the training code here may settle a mode argument
        if skipped is not None:
            skipped.extend(analysis.skipped)
        findings += [skip.finding() for skip in analysis.skipped]
    finally:
        release(analysis, index)  # nothing outside this call holds them (project.py keeps other files only)
    return sorted(findings, key=lambda f: (f.line, f.col, f.code))


def analyze_source(source: str, filename: str = "<string>", settings: Settings = Settings()) -> List[Finding]:
    tree = ast.parse(source)
    lines = source_lines(source)
    return analyze_tree(tree, lines, filename, settings)
