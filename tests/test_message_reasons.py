"""Messages state true reasons and a fix that fits (issue 10, "messages must state true reasons").

- A test `a or b` whose one side is false in training or at the defaults names the whole test: peft 0.5.0's
  `ModulesToSaveWrapper` read "used only when self.disable_adapters", hiding the membership test that
  leaves the original unused in the first place.
- DDP102 says "build it under that flag" only for what the class builds; a module it is handed and stores as is
  (peft's `original_module`) cannot be built under a flag: the message says to freeze it (peft 0.6.0's fix).
- The accelerate spelling of the flag is given only where the file trains with accelerate (names its
  `Accelerator` or its DDP kwargs), not where it imports a helper of it (peft's `accelerate.hooks`); code
  written for fairseq is told fairseq-train's flag (15 of the 22 real-code findings are in fairseq).

The gradient facts behind the first two are the `build()` of tests/fixtures/init_state_wrappers.py (checked with
torch by test_ground_truth.py); the hint tests use the plain DDP001 fact of an unused layer, the same in every
source.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Dict

from flake8_ddp_unused.lint import analyze_source

FIXTURES = Path(__file__).resolve().parent / "fixtures"
WRAPPERS = FIXTURES / "init_state_wrappers.py"


def _messages(source: str) -> Dict[str, str]:
    return {f.message.split(" gets ")[0]: f.message for f in analyze_source(source)}


def test_or_test_is_named_whole_and_handed_module_is_frozen() -> None:
    got = _messages(WRAPPERS.read_text(encoding="utf-8"))
    disabled = got["self.original_module in SaveWrapperDisabled"]
    assert "used only when self.disabled or (self.active not in self.copies) (default False);" in disabled, disabled
    for culprit in ("self.original_module in SaveWrapperDisabled", "self.original_module in SaveWrapper"):
        assert "; freeze it (it is handed in), or" in got[culprit], got[culprit]
        assert "build it under that flag" not in got[culprit], got[culprit]


def test_what_the_class_builds_keeps_build_under_flag() -> None:
    got = _messages(WRAPPERS.read_text(encoding="utf-8"))
    shadow = got["self.shadow in ShadowUnderFlag"]  # a deep copy made here: it can be built under the flag
    assert "used only when self.use_shadow (default False); build it under that flag" in shadow, shadow
    flags = _messages((FIXTURES / "branches_static_flags.py").read_text(encoding="utf-8"))
    assert flags and all("handed in" not in message for message in flags.values()), flags


def test_single_test_keeps_its_own_text() -> None:
    got = _messages(WRAPPERS.read_text(encoding="utf-8"))
    assert "used only when self.active_adapter not in self.modules_to_save (default False after __init__);" in (
        got["self.original_module in SaveWrapper"])


MODEL = '''
import torch.nn as nn
{imports}


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 4)
        self.pooler = nn.Linear(4, 4)

    def forward(self, x):
        return self.body(x)
'''


def test_accelerate_hint_only_where_the_file_trains_with_accelerate() -> None:
    cases = {
        "from accelerate.hooks import add_hook_to_module": "set find_unused_parameters=True",
        "import accelerate": "set find_unused_parameters=True",
        "from accelerate import Accelerator": "pass DistributedDataParallelKwargs(find_unused_parameters=True)",
        "import accelerate\nACC = accelerate.Accelerator": "pass DistributedDataParallelKwargs(",
    }
    for imports, hint in cases.items():
        message = _messages(MODEL.format(imports=imports))["self.pooler in Head"]
        assert message.endswith(hint) or hint in message, (imports, message)


def test_fairseq_hint_names_its_trainer_flag() -> None:
    """fairseq-train builds the DDP wrapper itself (`find_unused_parameters=args.find_unused_parameters`):
    code written for fairseq is told its command-line flag; plain torch code keeps the keyword."""
    fairseq = _messages(MODEL.format(imports="from fairseq.models import FairseqEncoder"))["self.pooler in Head"]
    assert fairseq.endswith("or pass --find-unused-parameters to fairseq-train"), fairseq
    plain = _messages(MODEL.format(imports="import torch"))["self.pooler in Head"]
    assert plain.endswith("or set find_unused_parameters=True"), plain


def test_through_flake8() -> None:
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "DDP102", str(WRAPPERS)],
                          capture_output=True, text=True, timeout=300)
    assert "used only when self.disabled or (self.active not in self.copies) (default False); freeze it (it is " \
           "handed in)" in proc.stdout, proc.stdout + proc.stderr
    assert "self.shadow in ShadowUnderFlag gets no gradient by default: used only when self.use_shadow (default " \
           "False); build it under that flag" in proc.stdout, proc.stdout + proc.stderr


BASE_AND_SUBCLASSES = '''
import torch.nn as nn


class Base(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.body = nn.Linear(dim, dim)
        self.norm_extra = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, dim)

    def forward(self, x):
        return self.head(self.body(x))


class Small(Base):
    def __init__(self):
        super().__init__(dim=8)


class BodyOnly(Base):
    def __init__(self):
        super().__init__(dim=16)

    def forward(self, x):
        return self.body(x)
'''


def test_dead_everywhere_names_the_class_that_builds_it() -> None:
    """imagen-pytorch 0.8.5: `Unet.__init__` builds `norm_mid_cond` that no forward of Unet or its presets runs;
    the finding sits on Unet's line and named the first preset subclass (`BaseUnet64`), which the user never
    wrote. Dead in the base and every subclass: the base is named. Dead in one subclass only: that subclass,
    on its own `__init__` line (where its `# noqa` goes)."""
    got = _messages(BASE_AND_SUBCLASSES)
    assert "self.norm_extra in Base" in got, got
    assert not any(key.startswith("self.norm_extra in ") and key != "self.norm_extra in Base" for key in got), got
    assert "self.head in BodyOnly" in got and "self.head in Base" not in got, got
    lines = {f.message.split(" gets ")[0]: f.line for f in analyze_source(BASE_AND_SUBCLASSES)}
    assert lines["self.norm_extra in Base"] == 9 and lines["self.head in BodyOnly"] == 22, lines


def test_child_detached_use_is_the_reason_not_the_kept_parts() -> None:
    """AdaPoinTr's shape (pointr-129): the parent keeps every part of the child's output; the child's score
    layer feeds them only through ``argsort``. The parent's DDP004 named the kept parts as the reason."""
    got = _messages((FIXTURES / "summary_detached_child.py").read_text(encoding="utf-8"))
    message = got["self.ranker.score in KeepsAll"]
    assert "Ranker.forward() uses it only with its output detached;" in message, message
    assert "keeps only" not in message, message
    assert not any("KeepsAllWeighted" in key for key in got), got
