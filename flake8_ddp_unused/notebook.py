"""Jupyter notebooks for the standalone command: the code cells in order, as one Python text.

Each code cell's lines follow the previous cell's, so a finding's line maps back to (cell, line in cell).
Cells are numbered from 1 among the code cells, as nbqa numbers them (``nb.ipynb:cell_2:3:9: DDP001 ...``).
IPython syntax that is not Python (``%magic``, ``!shell``, ``%%cell magic``, ``obj?``) is commented out in
place, so lines keep their numbers and the rest of the cell is still analysed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, List, Tuple

MAGIC_PREFIXES = ("%", "!", "?")


class NotebookError(ValueError):
    """The file is not a notebook this command can read."""


@dataclass(frozen=True)
class Notebook:
    source: str
    positions: Tuple[Tuple[int, int], ...]  # for line n (1-based) of source: (cell, line in cell), both 1-based

    def position(self, line: int) -> Tuple[int, int]:
        if 1 <= line <= len(self.positions):
            return self.positions[line - 1]
        return (len({cell for cell, _ in self.positions}) or 1, line)


def _cell_lines(cell: Any) -> List[str]:
    source = cell.get("source", "")
    text = "".join(source) if isinstance(source, list) else str(source)
    return text.splitlines() or [""]


def _python_line(line: str, in_cell_magic: bool) -> str:
    stripped = line.lstrip()
    if in_cell_magic or stripped.startswith(MAGIC_PREFIXES) or (
            stripped.endswith("?") and not stripped.startswith("#")):
        indent = line[:len(line) - len(stripped)]
        return f"{indent}# {stripped}"  # a comment at the same indentation keeps the block valid
    return line


def read_notebook(text: str) -> Notebook:
    """The code cells of a notebook (nbformat 4 JSON) as one Python text, with the line positions."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise NotebookError(f"not a notebook: invalid JSON ({error})") from error
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        raise NotebookError("not a notebook: no 'cells' list (nbformat 4 expected)")
    lines: List[str] = []
    positions: List[Tuple[int, int]] = []
    number = 0
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        number += 1
        cell_lines = _cell_lines(cell)
        cell_magic = cell_lines[0].lstrip().startswith("%%")
        for index, line in enumerate(cell_lines, start=1):
            lines.append(_python_line(line, cell_magic) + "\n")
            positions.append((number, index))
    return Notebook("".join(lines), tuple(positions))
