"""A configuration decides (config_defaults.py): literal defaults read from configuration classes and argparse
parsers, conditions evaluated at those defaults, through real flake8 and from an installed package's source."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import torch

from flake8_ddp_unused import config_defaults as cd
from flake8_ddp_unused.lint import analyze_source

from .conftest import expected_findings
from .fixture_runtime import expected_culprits, load_fixture, runtime_culprits

# Outside tests/fixtures: its configuration-noting messages are longer than the fixtures' message budget
# (test_standalone.test_messages_are_short); the same checks run here instead.
FIXTURE = Path(__file__).parent / "projects" / "config_defaults" / "models.py"


def test_fixture_findings_and_runtime_truth() -> None:
    """The announced findings, and exactly the parameters torch leaves without gradient (CPU)."""
    findings = analyze_source(FIXTURE.read_text(encoding="utf-8"), str(FIXTURE))
    assert {(f.line, f.code) for f in findings} == expected_findings(FIXTURE), [f.text for f in findings]
    module = load_fixture(FIXTURE)
    torch.manual_seed(0)
    spec = module.build()
    assert runtime_culprits(spec) == expected_culprits(FIXTURE, spec["model"])


def _class(src: str) -> ast.ClassDef:
    node = ast.parse(textwrap.dedent(src)).body[0]
    assert isinstance(node, ast.ClassDef)
    return node


def test_defaults_of_an_hf_style_config_class() -> None:
    found = cd.own_defaults(_class("""
        class WavConfig(PretrainedConfig):
            model_type = "wav"

            def __init__(self, hidden_size=8, layerdrop=0.1, feat_proj="linear", **kwargs):
                super().__init__(**kwargs)
                self.hidden_size = hidden_size
                self.layerdrop = layerdrop
                self.feat_proj = feat_proj
                self.use_cache = kwargs.pop("use_cache", True)
                if hidden_size > 4:
                    self.wide = True
                self.num_layers = compute(hidden_size)
    """))
    assert found["layerdrop"] == 0.1 and found["feat_proj"] == "linear" and found["use_cache"] is True
    assert found["model_type"] == "wav"
    # set only on some paths, or not a literal: no single default
    assert found["wide"] is cd.MISSING and found["num_layers"] is cd.MISSING


def test_defaults_of_a_dataclass_and_reassigned_fields() -> None:
    found = cd.own_defaults(_class("""
        @dataclass
        class Cfg:
            rate: float = 0.0
            depth: int = field(default=3)
            names: list = field(default_factory=list)
            mode: str = "a"

            def switch(self):
                self.mode = "b"
    """))
    assert found["rate"] == 0.0 and found["depth"] == 3
    assert found["names"] is cd.MISSING
    assert found["mode"] is cd.MISSING  # assigned again by a method: not a default any more


def test_argparse_defaults() -> None:
    found = cd.argparse_defaults(ast.parse(textwrap.dedent("""
        parser.add_argument("--encoder-layerdrop", type=float, default=0.05)
        parser.add_argument("--aux", action="store_true")
        parser.add_argument("-n", "--num-layers", type=int)
        parser.add_argument("--lr", dest="learning_rate", default=1e-3)
        parser.add_argument("--rate", default=0.1)
        other.add_argument("--rate", default=0.2)
    """)))
    assert found["encoder_layerdrop"] == 0.05 and found["aux"] is False and found["num_layers"] is None
    assert found["learning_rate"] == 1e-3
    assert found["rate"] is cd.MISSING  # two parsers disagree


def test_conditions_at_the_defaults() -> None:
    draw = cd._UNIFORM_DRAW
    assert cd._evaluate("==", "relative_key", "absolute") is False
    assert cd._evaluate("in", "a", ("a", "b")) is True
    assert cd._evaluate(">", 0.0, 0) is False
    # a uniform draw from [0, 1) against a rate: decided only where every draw agrees
    assert cd._evaluate("<", draw, 0.0) is False
    assert cd._evaluate("<", draw, 0.1) is None
    assert cd._evaluate(">", draw, 0.0) is True
    assert cd._evaluate("<", 0.1, draw) is None
    assert cd._evaluate(">", 0.0, draw) is False  # 0.0 > draw never holds
    assert cd._evaluate("<", draw, "x") is None


def _flake8(path: Path, cwd: Path, pythonpath: str = "") -> str:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (pythonpath, env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select=DDP", str(path)], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout


def test_flake8_reports_the_configuration_that_crashes(tmp_path: Path) -> None:
    out = _flake8(FIXTURE, tmp_path)
    assert "self.layers in LayerDropEncoder gets no gradient in some batches" in out
    assert "(default layerdrop=0.5)" in out
    assert "(default pos='relative')" in out
    assert "ZeroLayerDrop" not in out  # a zero rate and a switch that defaults to on: silent


def test_configuration_class_of_an_installed_package(tmp_path: Path) -> None:
    """The configuration class lives in an installed package (on sys.path): read from source, not imported."""
    site = tmp_path / "site"
    (site / "speechpkg").mkdir(parents=True)
    (site / "speechpkg" / "__init__.py").write_text("raise ImportError('never imported')\n")
    (site / "speechpkg" / "configuration.py").write_text(textwrap.dedent("""
        class BaseConfig:
            def __init__(self, **kwargs):
                self.output_hidden_states = kwargs.pop("output_hidden_states", False)


        class SpeechConfig(BaseConfig):
            def __init__(self, hidden_size=8, layerdrop=0.1, quiet_layerdrop=0.0, **kwargs):
                super().__init__(**kwargs)
                self.hidden_size = hidden_size
                self.layerdrop = layerdrop
                self.quiet_layerdrop = quiet_layerdrop
    """))
    project = tmp_path / "project"
    project.mkdir()
    model = project / "model.py"
    model.write_text(textwrap.dedent("""
        import torch
        import torch.nn as nn
        from speechpkg.configuration import SpeechConfig


        class Encoder(nn.Module):
            def __init__(self, config):
                super().__init__()
                self.config = config
                self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(4)])
                self.quiet = nn.ModuleList([nn.Linear(8, 8) for _ in range(4)])
                self.hidden_proj = nn.Linear(8, 8)

            def forward(self, x):
                for layer in self.layers:
                    if self.training and torch.rand([]) < self.config.layerdrop:
                        continue
                    x = layer(x)
                for layer in self.quiet:
                    if self.training and torch.rand([]) < self.config.quiet_layerdrop:
                        continue
                    x = layer(x)
                if self.config.output_hidden_states:
                    x = x + self.hidden_proj(x)
                return x
    """))
    out = _flake8(model, project, pythonpath=str(site))
    lines = [line for line in out.splitlines() if "DDP" in line]
    assert any("self.layers in Encoder" in line and "(default layerdrop=0.1)" in line for line in lines), out
    assert not any("self.quiet in Encoder" in line for line in lines), out
    # output_hidden_states defaults to False in the base class: built always, used only when switched on
    assert any("DDP102 self.hidden_proj in Encoder" in line and "output_hidden_states=False" in line
               for line in lines), out
