"""Every option, through the real flake8 (a config file in a temporary directory) and through the
standalone command (the same [flake8] file, and [tool.flake8-ddp-unused] in pyproject.toml).

The config snippets here are the ones the README shows.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List

import pytest

from flake8_ddp_unused.config import Config, is_enabled, load_config, split_list

# A module class whose base comes from a library the linter cannot read (so it is silent unless told),
# and whose training step is `compute_loss`, which never uses self.head.
CUSTOM = textwrap.dedent('''\
    import torch.nn as nn
    from mylib.base import BaseModel


    class Net(BaseModel):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(4, 4)
            self.head = nn.Linear(4, 2)
            self.pooler = nn.Linear(4, 4)

        def compute_loss(self, x):
            return self.body(x).sum()

        def forward(self, x):
            return self.head(self.body(x))
    ''')
HEAD, POOLER = 9, 10

OPTIONAL = textwrap.dedent('''\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(4, 4)
            self.label_proj = nn.Linear(4, 4)

        def forward(self, x, labels=None):
            out = self.body(x)
            if labels is not None:
                out = out + self.label_proj(labels)
            return out
    ''')

README_FLAKE8_CONFIG = """\
[flake8]
ddp-module-bases = mylib.base.BaseModel
ddp-entry-points = compute_loss, shared_step
ddp-trainer-calls = mylib.launch.wrap_ddp
extend-select = DDP901
per-file-ignores = legacy/*.py:DDP001
"""


def flake8_codes(tmp_path: Path, source: str, config: str, config_name: str = "setup.cfg") -> List[str]:
    (tmp_path / "model.py").write_text(source, encoding="utf-8")
    (tmp_path / config_name).write_text(config, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "flake8", "model.py"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    return [line.split(":", 3)[1] + ":" + line.split(": ", 1)[1].split()[0]
            for line in proc.stdout.splitlines() if ": DDP" in line]


def cli_codes(tmp_path: Path, source: str, *args: str) -> List[str]:
    (tmp_path / "model.py").write_text(source, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "flake8_ddp_unused", *args, "model.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    return [line.split(":")[1] + ":" + line.split(": ", 1)[1].split()[0] for line in proc.stdout.splitlines()]


# --- through flake8 -------------------------------------------------------------------------------

def test_flake8_without_options_is_silent_on_unknown_base(tmp_path: Path) -> None:
    assert flake8_codes(tmp_path, CUSTOM, "[flake8]\n") == []


def test_flake8_module_bases_option(tmp_path: Path) -> None:
    codes = flake8_codes(tmp_path, CUSTOM, "[flake8]\nddp-module-bases = mylib.base.BaseModel\n")
    assert codes == [f"{POOLER}:DDP001"]


def test_flake8_entry_points_option(tmp_path: Path) -> None:
    config = "[flake8]\nddp-module-bases = mylib.base.BaseModel\nddp-entry-points = compute_loss\n"
    assert flake8_codes(tmp_path, CUSTOM, config) == [f"{HEAD}:DDP001", f"{POOLER}:DDP001"]


@pytest.mark.parametrize("config_name", ["setup.cfg", "tox.ini", ".flake8"])
def test_flake8_reads_every_config_file(tmp_path: Path, config_name: str) -> None:
    config = "[flake8]\nddp-module-bases =\n    mylib.base.BaseModel\nddp-entry-points = compute_loss\n"
    assert flake8_codes(tmp_path, CUSTOM, config, config_name) == [f"{HEAD}:DDP001", f"{POOLER}:DDP001"]


LAUNCH = textwrap.dedent('''\
    import torch.nn as nn
    from mylib.launch import wrap_ddp


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(4, 4)
            self.pooler = nn.Linear(4, 4)

        def forward(self, x):
            return self.body(x)


    model = wrap_ddp(Net())
    ''')


def test_flake8_trainer_calls_option(tmp_path: Path) -> None:
    """A launcher of the project's own, named in the config, is judged like DistributedDataParallel."""
    assert flake8_codes(tmp_path, LAUNCH, "[flake8]\n") == ["9:DDP001"]
    config = "[flake8]\nddp-trainer-calls = mylib.launch.wrap_ddp\n"
    assert flake8_codes(tmp_path, LAUNCH, config) == ["9:DDP001", "15:DDP201"]
    assert cli_codes(tmp_path, LAUNCH) == ["9:DDP001", "15:DDP201"]  # the standalone command reads it too


def test_flake8_extend_select_opt_in_code_in_config(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(OPTIONAL, encoding="utf-8")
    (tmp_path / "setup.cfg").write_text("[flake8]\nextend-select = DDP901\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "flake8", "model.py"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert "model.py:8:9: DDP901 " in proc.stdout, proc.stdout + proc.stderr


def test_flake8_readme_config(tmp_path: Path) -> None:
    assert flake8_codes(tmp_path, CUSTOM, README_FLAKE8_CONFIG) == [f"{HEAD}:DDP001", f"{POOLER}:DDP001"]


# --- the standalone command reads the same file, and pyproject.toml --------------------------------

def test_cli_reads_flake8_config(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text(README_FLAKE8_CONFIG, encoding="utf-8")
    assert cli_codes(tmp_path, CUSTOM) == [f"{HEAD}:DDP001", f"{POOLER}:DDP001"]
    assert cli_codes(tmp_path, CUSTOM, "--isolated") == []


def test_cli_reads_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""\
        [tool.flake8-ddp-unused]
        ddp-module-bases = ["mylib.base.BaseModel"]
        ddp-entry-points = ["compute_loss"]
        """), encoding="utf-8")
    assert cli_codes(tmp_path, CUSTOM) == [f"{HEAD}:DDP001", f"{POOLER}:DDP001"]
    assert cli_codes(tmp_path, CUSTOM, "--extend-ignore", "DDP001") == []
    assert cli_codes(tmp_path, CUSTOM, "--isolated") == []


def test_cli_pyproject_overrides_flake8_section(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text("[flake8]\nddp-module-bases = mylib.base.BaseModel\n",
                                        encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[tool.flake8-ddp-unused]\nddp_entry_points = "compute_loss"\n',
                                             encoding="utf-8")
    config = load_config(tmp_path)
    assert config.module_bases == ("mylib.base.BaseModel",)
    assert config.entry_points == ("compute_loss",)
    assert len(config.sources) == 2


def test_cli_opt_in_code_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.flake8-ddp-unused]\nextend-select = ["DDP901"]\n',
                                             encoding="utf-8")
    assert cli_codes(tmp_path, OPTIONAL) == ["8:DDP901"]
    assert cli_codes(tmp_path, OPTIONAL, "--isolated") == []


def test_config_searched_upwards_like_flake8(tmp_path: Path) -> None:
    (tmp_path / "tox.ini").write_text("[tox]\n", encoding="utf-8")  # no [flake8]: skipped
    (tmp_path / ".flake8").write_text("[flake8]\nddp-entry-points = a b,c\n", encoding="utf-8")
    sub = tmp_path / "pkg" / "sub"
    sub.mkdir(parents=True)
    assert load_config(sub).entry_points == ("a", "b", "c")


def test_broken_pyproject_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.flake8-ddp-unused\n", encoding="utf-8")
    (tmp_path / "model.py").write_text(OPTIONAL, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "flake8_ddp_unused", "model.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "cannot read TOML" in proc.stderr and "Traceback" not in proc.stderr


# --- select/ignore semantics -----------------------------------------------------------------------

@pytest.mark.parametrize("code, select, ignore, extend_select, extend_ignore, on", [
    ("DDP001", None, None, (), (), True),
    ("DDP901", None, None, (), (), False),
    ("DDP901", None, None, ("DDP901",), (), True),
    ("DDP901", None, None, ("DDP9",), (), True),
    ("DDP901", ("DDP",), None, (), (), True),  # as flake8: an explicit select of the prefix turns it on
    ("DDP001", ("DDP1",), None, (), (), False),
    ("DDP001", ("E", "W"), None, (), (), False),
    ("DDP001", None, ("DDP",), (), (), False),
    ("DDP001", ("DDP001",), ("DDP",), (), (), True),  # longest prefix wins
    ("DDP001", ("DDP",), ("DDP001",), (), (), False),
    ("DDP001", ("DDP00",), ("DDP00",), (), (), False),  # a tie: ignored, as in flake8
    ("DDP901", None, ("E501",), (), (), True),  # as flake8: `ignore` replaces the default ignore list
    ("DDP901", None, None, (), ("E501",), False),  # `extend-ignore` keeps it
    ("DDP001", None, ("D",), (), (), False),  # pydocstyle's D swallows DDP
    ("DDP001", None, None, (), ("D",), False),
    ("DDP001", None, None, ("DDP",), ("D",), True),  # both explicit: the longer prefix wins
    ("DDP901", None, None, ("D",), (), True),
    ("DDP101", None, None, (), ("DDP1",), False),
])
def test_is_enabled(code: str, select, ignore, extend_select, extend_ignore, on: bool) -> None:
    assert is_enabled(code, select, ignore, extend_select, extend_ignore) is on


def test_split_list() -> None:
    assert split_list("a, b\n  c,,d") == ("a", "b", "c", "d")
    assert split_list(["a,b", "c"]) == ("a", "b", "c")
    assert split_list(None) == ()


def test_default_config_enables_default_on_codes_only() -> None:
    from flake8_ddp_unused.registry import all_rules

    assert Config().enabled_codes() == [r.code for r in all_rules() if r.default_on]
