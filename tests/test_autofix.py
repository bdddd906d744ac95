"""Autofix pairs: ``X.in.py`` fixed by ``fix_source`` is ``X.out.py``; fixing again changes nothing, and the
fixed file has no fixable launch finding left (the unfixable ones stay, unchanged)."""
from __future__ import annotations

import re
from pathlib import Path
import subprocess
import sys
from typing import List

import pytest

from flake8_ddp_unused import project
from flake8_ddp_unused.lint import analyze_source
from flake8_ddp_unused.fixes import diff_source, fix_source

AUTOFIX = Path(__file__).resolve().parent / "autofix"


def _pairs() -> List[Path]:
    return sorted(AUTOFIX.glob("*.in.py"))


def _launch(source: str, path: Path) -> List[str]:
    project.clear_cache()
    return [f"{f.code}:{f.message}" for f in analyze_source(source, str(path)) if f.code.startswith("DDP2")]


@pytest.mark.parametrize("path", _pairs(), ids=lambda p: p.name[:-6])
def test_autofix_pair(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    expected = path.with_name(path.name.replace(".in.py", ".out.py")).read_text(encoding="utf-8")
    fixed = fix_source(source, str(path))
    assert fixed == expected
    assert fixed != source
    assert fix_source(fixed, str(path)) == fixed  # idempotent
    project.clear_cache()
    before = [f for f in analyze_source(source, str(path)) if f.code.startswith("DDP2")]
    after = [f for f in analyze_source(fixed, str(path)) if f.code.startswith("DDP2")]
    assert not [f for f in after if f.fixable], [f.text for f in after]
    # an added line shifts the line numbers some messages quote
    assert {(f.code, _unnumbered(f.message)) for f in after} <= {(f.code, _unnumbered(f.message)) for f in before}


def _unnumbered(message: str) -> str:
    return re.sub(r"line \d+", "line N", message)


def test_diff_source_and_no_op() -> None:
    path = AUTOFIX / "detectron2_launch.in.py"
    diff = diff_source(path.read_text(), str(path))
    assert diff.startswith("---") and "+    model = create_ddp_model(Net(), broadcast_buffers=False,\n" \
                                      "+                             find_unused_parameters=True)\n" in diff
    assert diff_source("x = 1\n", "x.py") == ""
    assert fix_source("def broken(:\n", "x.py") == "def broken(:\n"


def test_no_fix_when_the_model_checkpoints_reentrantly() -> None:
    path = AUTOFIX / "torch_ddp.in.py"
    fixed = fix_source(path.read_text(), str(path))
    assert "    DDP(Checkpointed())\n" in fixed  # the flag would crash: DDP204; the advice is use_reentrant=False


def _style(path: Path) -> List[str]:
    """flake8's own E/W codes for a file, without line numbers (an added line shifts them)."""
    done = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "E,W", str(path)],
                          capture_output=True, text=True, timeout=120)
    return sorted(line.split(": ", 1)[1].split(" ", 1)[0] for line in done.stdout.splitlines())


@pytest.mark.parametrize("name", ["ddp_layout", "detectron2_launch", "fastnlp_trainer", "hf_trainer",
                                  "lightning_trainer", "mmengine_config", "torch_ddp", "accelerate_import",
                                  "accelerate_loop", "accelerate_new_import"])
def test_fix_leaves_flake8_style_as_it_was(name: str) -> None:
    """A comment after the model argument was copied onto the new keyword, the keyword landed at column 0,
    `M(), device_ids=[0]` on a continuation line got a trailing space and its bracket moved; a long line was
    made longer; accelerate's added `kwargs_handlers=[...]` (76 characters by itself) made an E501."""
    before = AUTOFIX / f"{name}.in.py"
    assert _style(before.with_name(f"{name}.out.py")) == _style(before)


ACCELERATE = (AUTOFIX / "accelerate_new_import.in.py").read_text(encoding="utf-8")


def _longest_new_line(fixed: str, source: str) -> int:
    return max(len(line) for line in set(fixed.splitlines()) - set(source.splitlines()))


def test_fix_keeps_lines_within_the_given_length() -> None:
    """The added value is broken after a bracket only where the line would pass the limit."""
    wide = fix_source(ACCELERATE, "a.py", max_line_length=120)
    assert "kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],\n" in wide
    narrow = fix_source(ACCELERATE, "a.py")
    assert "kwargs_handlers=[DistributedDataParallelKwargs(\n" in narrow and _longest_new_line(narrow, ACCELERATE) <= 79
    very_narrow = fix_source(ACCELERATE, "a.py", max_line_length=50)
    assert "kwargs_handlers=[\n" in very_narrow
    assert _longest_new_line(very_narrow, ACCELERATE) <= len("from accelerate import DistributedDataParallelKwargs")
    for fixed in (wide, narrow, very_narrow):
        compile(fixed, "a.py", "exec")
        assert fix_source(fixed, "a.py") == fixed


def test_standalone_fix_reads_flake8s_max_line_length(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The standalone's --fix/--diff keep the line length flake8 is configured with (it used 79 always)."""
    from flake8_ddp_unused.cli import main as cli_main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text(ACCELERATE, encoding="utf-8")
    (tmp_path / "setup.cfg").write_text("[flake8]\nmax-line-length = 120\n", encoding="utf-8")
    project.clear_cache()
    cli_main(["--fix", "train.py"])
    fixed = (tmp_path / "train.py").read_text(encoding="utf-8")
    assert fixed == fix_source(ACCELERATE, "train.py", max_line_length=120) != fix_source(ACCELERATE, "train.py")
    (tmp_path / "train.py").write_text(ACCELERATE, encoding="utf-8")
    project.clear_cache()
    cli_main(["--fix", "--max-line-length", "79", "train.py"])  # the command line wins
    assert (tmp_path / "train.py").read_text(encoding="utf-8") == fix_source(ACCELERATE, "train.py")
    (tmp_path / "setup.cfg").write_text("[flake8]\nmax_line_length = wide\n", encoding="utf-8")
    assert cli_main(["--diff", "train.py"]) == 2  # a configuration error, as for any invalid value
