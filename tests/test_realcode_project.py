"""A package whose layers are driven from other files (issue 10): a parent calls child.sample() before
child(i), a criterion calls model.get_normalized_probs(), a base class is only built as a subclass that
deletes what the base's forward would miss. Checked through real flake8 and against torch gradients."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Set, Tuple

import torch

from tests.conftest import expected_findings
from tests.fixture_runtime import runtime_culprits

PROJECT = Path(__file__).resolve().parent / "projects" / "realcode_pkg"
PACKAGE = PROJECT / "rcpkg"


def test_findings_are_exactly_the_expected_ones() -> None:
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "DDP", "rcpkg"],
                          cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    got: Set[Tuple[str, int, str]] = set()
    for line in proc.stdout.splitlines():
        path, row, _, rest = line.split(":", 3)
        got.add((Path(path).name, int(row), rest.split()[0]))
    expected = {(p.name, line, code) for p in sorted(PACKAGE.glob("*.py")) for line, code in expected_findings(p)}
    assert got == expected, proc.stdout


def test_runtime_agrees() -> None:
    sys.path.insert(0, str(PROJECT))
    try:
        from rcpkg.train import build
        missing = runtime_culprits(build())
    finally:
        sys.path.remove(str(PROJECT))
    # only the probe's debug head, which nothing calls, and the caption encoder's to_logits (unused by its
    # forward; the class is built in eval mode in convert.py but trained here) are left without gradient
    assert missing == {"probe.debug_probe.weight", "probe.debug_probe.bias",
                       "captions.to_logits.weight", "captions.to_logits.bias"}


def test_recipe_outside_the_package_trains_the_optional_decoder() -> None:
    """speechbrain TransformerST: the recipe (not linted, outside the package) calls forward_asr() in every
    step, so asr_decoder gets a gradient (the linter is silent about it); asr_ctc, reported, gets none."""
    sys.path.insert(0, str(PROJECT))
    try:
        from recipe_st import build
        missing = runtime_culprits(build())
    finally:
        sys.path.remove(str(PROJECT))
    assert missing == {"asr_ctc.weight", "asr_ctc.bias"}


def test_inference_only_encoder_is_never_trained_by_the_package() -> None:
    """Like diffusers' LDMBertModel (without gradient checkpointing): the package builds FrozenTextEncoder only
    in eval mode (convert.py) and runs it under no_grad, so nothing in it ever trains it: its unused to_logits
    is not reported. Were it trained, to_logits would get no gradient (the forward never runs it)."""
    sys.path.insert(0, str(PROJECT))
    try:
        from rcpkg.convert import Pipeline
        from rcpkg.text_encoder import FrozenTextEncoder
    finally:
        sys.path.remove(str(PROJECT))
    pipeline = Pipeline()
    out = pipeline(torch.randn(2, 8))
    assert not pipeline.text_encoder.training and not out.requires_grad
    assert out.grad_fn is None
    trained = FrozenTextEncoder()
    assert runtime_culprits({"model": trained, "batches": [torch.randn(2, 8)],
                             "step": lambda model, x: model(x).sum()}) == {"to_logits.weight", "to_logits.bias"}


def test_construction_sites_in_eval_mode() -> None:
    import ast

    from flake8_ddp_unused.eval_only import _sites_in

    def sites(source: str):
        return _sites_in(ast.parse(source), "Enc")

    assert sites("e = Enc().eval()") == 1
    assert sites("def f():\n    e = Enc().to('cpu')\n    e = e.cuda()\n    e.eval()\n") == 1
    assert sites("def f(self):\n    self.e = Enc()\n    self.e.requires_grad_(False)\n") == 1
    assert sites("e = Enc().train(False)") == 1
    assert sites("class Enc:\n    pass\nx = isinstance(1, Enc)") == 0  # a definition or a mention is no site
    assert sites("e = Enc()") is None  # built and trained (or handed on): judged
    assert sites("def f():\n    e = Enc()\n    e.eval()\n    e.train()\n") is None
    assert sites("def f():\n    e = Enc()\n    e.requires_grad_(True)\n") is None
    assert sites("run(Enc())") is None
    assert sites("def f():\n    e = Enc()\n    e.eval()\n    e.requires_grad_(True)\n") is None
