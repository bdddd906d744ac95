"""DDP103: parameters frozen by `train()` (or a method it calls) but not by `__init__`, after DDP registered them.

Runtime truth is in tests/fixtures/init_frozen_in_train.py (torch CPU: `grad is None` for the parameters registered
before `train()`) and tests/test_ddp_repro.py (real gloo DDP: wrap, then `train()`: the reduction error; the negatives
train). Here: the boundaries of the facts, the message, and the real flake8 executable with `# noqa`.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List, Tuple

from flake8_ddp_unused.lint import analyze_source

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "init_frozen_in_train.py"

HEADER = textwrap.dedent('''\
    import torch.nn as nn


    ''')


def ddp103(source: str) -> List[Tuple[int, str, str]]:
    return [(f.line, f.attr, f.message) for f in analyze_source(HEADER + textwrap.dedent(source), "m.py")
            if f.code == "DDP103"]


def test_message_names_the_attribute_the_condition_its_default_and_the_fix() -> None:
    found = ddp103('''
        class Backbone(nn.Module):
            def __init__(self, frozen_stages=-1):
                super().__init__()
                self.frozen_stages = frozen_stages
                self.stem = nn.Linear(4, 4)

            def train(self, mode=True):
                super().train(mode)
                self._freeze_stages()

            def _freeze_stages(self):
                if self.frozen_stages >= 0:
                    for param in self.stem.parameters():
                        param.requires_grad = False

            def forward(self, x):
                return self.stem(x)
        ''')
    assert found == [(9, "self.stem", "self.stem in Backbone gets no gradient when self.frozen_stages >= 0 (default "
                      "frozen_stages=-1): train() freezes it in self._freeze_stages() after DDP registered it; freeze "
                      "it in __init__ too, or set find_unused_parameters=True")]


def test_unconditional_freeze_and_super_train_of_a_base() -> None:
    found = ddp103('''
        class Base(nn.Module):
            def train(self, mode=True):
                super().train(mode)
                for m in [self.stem, self.norm]:
                    m.requires_grad_(False)
                return self


        class Net(Base):
            def __init__(self):
                super().__init__()
                self.stem = nn.Linear(4, 4)
                self.norm = nn.LayerNorm(4)
                self.head = nn.Linear(4, 4)

            def train(self, mode=True):
                return super().train(mode)

            def forward(self, x):
                return self.head(self.norm(self.stem(x)))
        ''')
    assert [(line, attr) for line, attr, _ in found] == [(16, "self.stem"), (17, "self.norm")]
    assert " when " not in found[0][2]


def test_literal_flag_decides_and_mode_false_branch_never_freezes() -> None:
    assert ddp103('''
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.freeze_stem = False
                self.stem = nn.Linear(4, 4)

            def train(self, mode=True):
                super().train(mode)
                if self.freeze_stem:
                    self.stem.requires_grad_(False)
                if not mode:
                    self.stem.requires_grad_(False)

            def forward(self, x):
                return self.stem(x)
        ''') == []


def test_state_switched_by_another_method_or_frozen_by_another_method_is_silent() -> None:
    assert ddp103('''
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder_frozen = False
                self.encoder = nn.Linear(4, 4)
                self.head = nn.Linear(4, 4)

            def freeze_encoder(self):
                self.encoder_frozen = True

            def train(self, mode=True):
                super().train(mode)
                if self.encoder_frozen:
                    self.encoder.requires_grad_(False)

            def forward(self, x):
                return self.head(self.encoder(x))
        ''') == []
    assert ddp103('''
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = nn.Linear(4, 4)

            def freeze(self):
                self._freeze()

            def _freeze(self):
                self.encoder.requires_grad_(False)

            def train(self, mode=True):
                super().train(mode)
                self._freeze()

            def forward(self, x):
                return self.encoder(x)
        ''') == []


def test_init_that_runs_train_or_an_unreadable_freezing_helper_is_silent() -> None:
    for init_call in ("self.train()", "self.eval()", "self.freeze_layers()"):
        assert ddp103(f'''
            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.stem = nn.Linear(4, 4)
                    {init_call}

                def train(self, mode=True):
                    super().train(mode)
                    self.stem.requires_grad_(False)

                def forward(self, x):
                    return self.stem(x)
            ''') == [], init_call


def test_openmmlab_base_module_is_a_module() -> None:
    """mmengine's BaseModule / ModuleList are read as torch's (mmdet wheels come without mmengine's source)."""
    found = analyze_source(textwrap.dedent('''\
        import torch.nn as nn
        from mmengine.model import BaseModule, ModuleList


        class SwinLike(BaseModule):
            def __init__(self, frozen_stages=-1, init_cfg=None):
                super().__init__(init_cfg=init_cfg)
                self.frozen_stages = frozen_stages
                self.stages = ModuleList()
                for _ in range(2):
                    self.stages.append(nn.Linear(4, 4))

            def train(self, mode=True):
                super().train(mode)
                for i in range(1, self.frozen_stages + 1):
                    m = self.stages[i - 1]
                    m.eval()
                    for param in m.parameters():
                        param.requires_grad = False

            def forward(self, x):
                for stage in self.stages:
                    x = stage(x)
                return x
        '''), "m.py")
    assert [(f.code, f.line, f.attr) for f in found] == [("DDP103", 9, "self.stages")]
    assert "when self.frozen_stages >= 1 (default frozen_stages=-1)" in found[0].message


def _flake8(tmp_path: Path, source: str) -> List[str]:
    (tmp_path / "model.py").write_text(source, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "DDP", "model.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout.splitlines()


def test_through_flake8_and_noqa(tmp_path: Path) -> None:
    source = FIXTURE.read_text(encoding="utf-8")
    lines = _flake8(tmp_path, source)
    expected = [n for n, text in enumerate(source.splitlines(), 1) if "# expect: DDP103" in text]
    assert len(expected) == 3
    assert [int(line.split(":")[1]) for line in lines if " DDP103 " in line] == expected
    assert all(" DDP103 " in line for line in lines), lines
    silenced = source.replace("# expect: DDP103", "# noqa: DDP103")
    assert _flake8(tmp_path, silenced) == []


def test_public_method_reading_the_attribute_in_a_helper_keeps_it_live(tmp_path: Path) -> None:
    """mmpretrain's ITCHead (read once mmengine's BaseModule is a module): forward ignores `temp`, the `loss()` that
    the classifier (another file) calls reads it in `self._get_loss(...)`. A helper of a public method that the
    package calls counts like the method itself."""
    source = textwrap.dedent('''\
        import torch
        import torch.nn as nn


        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.temp = nn.Parameter(torch.ones([]))

            def forward(self, feats):
                return feats

            def loss(self, feats):
                return self._get_loss(self(feats))

            def _get_loss(self, feats):
                return {"loss": (feats / self.temp).sum()}
        ''')
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "classifier.py").write_text("def train_step(head, feats):\n    return head.loss(feats)['loss']\n",
                                           encoding="utf-8")
    path = package / "heads.py"
    path.write_text(source, encoding="utf-8")
    assert [f.code for f in analyze_source(source, str(path))] == []
    unread = source.replace('return {"loss": (feats / self.temp).sum()}', 'return {"loss": feats.sum()}')
    assert unread != source
    path.write_text(unread, encoding="utf-8")
    assert [(f.code, f.attr) for f in analyze_source(unread, str(path))] == [("DDP001", "self.temp")]


def test_launch_site_is_not_told_about_a_late_freeze() -> None:
    """The finding holds under a configuration test; a launch's DDP201 would not state it: only the model line."""
    source = textwrap.dedent('''\
        import torch.nn as nn
        from torch.nn.parallel import DistributedDataParallel


        class Backbone(nn.Module):
            def __init__(self, frozen_stages=-1):
                super().__init__()
                self.frozen_stages = frozen_stages
                self.stem = nn.Linear(4, 4)
                self.unused = nn.Linear(4, 4)

            def train(self, mode=True):
                super().train(mode)
                if self.frozen_stages >= 0:
                    self.stem.requires_grad_(False)

            def forward(self, x):
                return self.stem(x)


        def main():
            model = DistributedDataParallel(Backbone())
            return model
        ''')
    found = [(f.code, f.attr) for f in analyze_source(source, "m.py")]
    assert ("DDP103", "self.stem") in found and ("DDP001", "self.unused") in found
    launches = [f for f in analyze_source(source, "m.py") if f.code.startswith("DDP2")]
    assert launches and all("self.stem" not in f.message for f in launches), launches
