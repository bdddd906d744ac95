"""Classes the package only runs without gradients (issue 10, inference_only.py): a pipeline holds the model
and runs it under no_grad, or a model containing it is in that case. Checked through real flake8 and
against torch gradients: what is silent is never trained by the package; what stays reported is trained
(a model offering gradient checkpointing, a public method with gradients, a script reading the part from
outside the pipeline, a no_grad method handing the instance out, an encoder built frozen that still offers
checkpointing)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Iterator, Set, Tuple

import pytest
import torch

from tests.conftest import expected_findings
from tests.fixture_runtime import runtime_culprits

PROJECT = Path(__file__).resolve().parent / "projects" / "inference_pkg"
PACKAGE = PROJECT / "ipkg"


@pytest.fixture()
def ipkg() -> Iterator[None]:
    sys.path.insert(0, str(PROJECT))
    try:
        yield
    finally:
        sys.path.remove(str(PROJECT))


def test_findings_are_exactly_the_expected_ones() -> None:
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "DDP", "ipkg"],
                          cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    got: Set[Tuple[str, int, str]] = set()
    for line in proc.stdout.splitlines():
        path, row, _, rest = line.split(":", 3)
        got.add((Path(path).name, int(row), rest.split()[0]))
    expected = {(p.name, line, code) for p in sorted(PACKAGE.glob("*.py")) for line, code in expected_findings(p)}
    assert got == expected, proc.stdout


def _one_step(model: torch.nn.Module) -> Set[str]:
    return runtime_culprits({"model": model, "batches": [torch.randn(2, 8)], "step": lambda m, x: m(x).sum()})


def test_silent_classes_never_get_gradients_in_the_package(ipkg: None) -> None:
    from ipkg.models import Refiner, Vocoder
    from ipkg.pipelines import RefinerPipeline, VocoderPipeline

    refiner, vocoder = Refiner(), Vocoder()
    for out in (RefinerPipeline(refiner)(torch.randn(2, 8)), VocoderPipeline(vocoder)(torch.randn(2, 8))):
        assert out.grad_fn is None and not out.requires_grad  # nothing the package runs can be trained
    # the findings would be literally right: trained, the kept parts get no gradient
    assert _one_step(Refiner()) == {f"blocks.{i}.audio.{p}" for i in (0, 1) for p in ("weight", "bias")}
    assert _one_step(Vocoder()) == {"dur_predictor.weight", "dur_predictor.bias"}


def test_reported_classes_are_trained_and_leave_the_parts_without_gradient(ipkg: None, tmp_path: Path) -> None:
    from ipkg.finetune import finetune
    from ipkg.models import CheckpointedTextEncoder, Decoder, Exported, Upscaler, WorldModel
    from ipkg.pipelines import ExportPipeline, UpscalerPipeline

    assert _one_step(WorldModel()) == {"block.gate.weight", "block.gate.bias"}
    assert _one_step(CheckpointedTextEncoder()) == {"to_logits.weight", "to_logits.bias"}
    # handed out by a no_grad method: whoever receives it can train it
    assert _one_step(ExportPipeline(Exported()).export()) == {"head.weight", "head.bias"}
    upscaler = Upscaler()
    UpscalerPipeline(upscaler).upscale(torch.randn(2, 8)).sum().backward()
    assert upscaler.aux_head.weight.grad is None and upscaler.body.weight.grad is not None
    path = tmp_path / "decoder.pt"
    torch.save(Decoder(), path)
    decoder = finetune(path, [torch.randn(2, 8)]).decoder
    assert decoder.extra.weight.grad is None and decoder.extra.bias.grad is None
    assert decoder.body.weight.grad is not None


def test_gradient_checkpointing_is_read_under_the_frameworks_name() -> None:
    """transformers' switch reads `supports_gradient_checkpointing`; diffusers' reads the underscored name.
    diffusers' LDMBert declares the underscored name on a transformers PreTrainedModel: transformers
    refuses to enable checkpointing, so nothing is offered for training."""
    import ast

    from flake8_ddp_unused.index import FileIndex, source_lines
    from flake8_ddp_unused.inference_only import offers_training

    def offers(source: str) -> bool:
        index = FileIndex(ast.parse(source), source_lines(source), "<string>", "")
        return offers_training(index.classes["M"])

    hf = "from transformers import PreTrainedModel\n\nclass M(PreTrainedModel):\n    {} = True\n"
    assert offers(hf.format("supports_gradient_checkpointing"))
    assert not offers(hf.format("_supports_gradient_checkpointing"))
    other = "import torch.nn as nn\n\nclass M(nn.Module):\n    {} = True\n"
    assert offers(other.format("_supports_gradient_checkpointing"))
    transformers = pytest.importorskip("transformers")

    class Copied(transformers.PreTrainedModel):
        config_class = transformers.PretrainedConfig
        _supports_gradient_checkpointing = True

    with pytest.raises(ValueError, match="does not support gradient checkpointing"):
        Copied(transformers.PretrainedConfig()).gradient_checkpointing_enable()
