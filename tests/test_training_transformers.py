"""Loss code over the real transformers (pinned in the test extra): training code that keeps only some named
parts of a ``BertForMaskedLM`` output (the MiniLM-style distillation that keeps only the attentions) leaves
the masked-LM head without gradient; the linter names it from the model's summary (DDP203), and torch
agrees. Loss code that uses the logits or the model's own loss is silent, and torch agrees. A small
``BertConfig`` is built in the test: nothing is downloaded."""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import List, Set

import pytest
import torch
import transformers


# each step backpropagates a loss built from some parts of a BertForMaskedLM output; one file holds them all
# (one lint: the installed transformers is analysed once)
STEPS = {
    # the loss keeps only the attention distributions / the hidden states: the masked-LM head gets no gradient
    "attentions": ("outputs = student(input_ids=input_ids, output_attentions=True)\n"
                   "loss = F.kl_div(torch.log(outputs.attentions[-1] + 1e-12), teacher, reduction='batchmean')"),
    "hidden_key": ("hidden = student(input_ids=input_ids, output_hidden_states=True)['hidden_states']\n"
                   "loss = hidden[-1].mean()"),
    # the logits or the model's own loss reach the loss: everything is trained
    "logits": ("outputs = student(input_ids=input_ids, output_attentions=True)\n"
               "loss = F.cross_entropy(outputs.logits.view(-1, 50), labels.view(-1))\n"
               "loss = loss + F.kl_div(torch.log(outputs.attentions[-1] + 1e-12), teacher, reduction='batchmean')"),
    "own_loss": "loss = student(input_ids=input_ids, labels=labels).loss",
    "index": "logits = student(input_ids)[0]\nloss = logits.mean()",
}
DROPS_HEAD = ["attentions", "hidden_key"]
HEAD = "cls.predictions.transform."
CONFIG = ("BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, "
          "intermediate_size=32, max_position_embeddings=32, attn_implementation='eager')")


def _source() -> str:
    parts = ["import torch", "import torch.nn.functional as F", "from transformers import BertConfig, BertForMaskedLM",
             ""]
    for name, body in STEPS.items():
        parts += ["", f"def step_{name}(student, input_ids, labels, teacher):",
                  textwrap.indent(body, " " * 4), "    loss.backward()", "    return loss", ""]
    parts += ["", "def main():", f"    config = {CONFIG}", "    input_ids = torch.randint(0, 50, (3, 7))",
              "    teacher = torch.softmax(torch.randn(3, 2, 7, 7), dim=-1)"]
    for name in STEPS:
        parts += [f"    step_{name}(BertForMaskedLM(config), input_ids, input_ids, teacher)"]
    return "\n".join(parts) + "\n"


def _step_line(source: str, name: str) -> int:
    """The line of the model call in ``step_<name>`` (where a DDP203 goes)."""
    lines = source.splitlines()
    first = lines.index(f"def step_{name}(student, input_ids, labels, teacher):")
    return next(n for n in range(first + 1, len(lines)) if "student(" in lines[n]) + 1


@pytest.fixture(scope="module")
def distill_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("distill") / "distill.py"
    path.write_text(_source(), encoding="utf-8")
    return path


def _no_grad_after_backward(path: Path, name: str) -> Set[str]:
    """Run the file's own ``step_<name>`` on a fresh model: the parameters with no gradient."""
    spec = importlib.util.spec_from_file_location(f"distill_{abs(hash(str(path)))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    config = eval(CONFIG, {"BertConfig": transformers.BertConfig})  # noqa: S307 - the test's own literal
    model = transformers.BertForMaskedLM(config)
    model.train()
    input_ids = torch.randint(0, 50, (3, 7))
    getattr(module, f"step_{name}")(model, input_ids, input_ids, torch.softmax(torch.randn(3, 2, 7, 7), dim=-1))
    return {n for n, p in model.named_parameters() if p.requires_grad and p.grad is None}


@dataclass
class Reported:
    line: int
    col: int
    code: str
    message: str


@pytest.fixture(scope="module")
def findings(distill_file: Path) -> List[Reported]:
    """The file linted once, through real flake8 (transformers' sources read from the installed package)."""
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "DDP", str(distill_file)],
                          capture_output=True, text=True, cwd=str(distill_file.parent))
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    found = []
    for line in proc.stdout.splitlines():
        match = re.match(r".*?:(\d+):(\d+): (DDP\d+) (.*)$", line)
        assert match, line
        found.append(Reported(int(match[1]), int(match[2]), match[3], match[4]))
    return found


@pytest.mark.parametrize("name", list(STEPS))
def test_loss_code_over_bert_for_masked_lm(distill_file: Path, findings: List[Reported], name: str) -> None:
    missing = _no_grad_after_backward(distill_file, name)
    here = [f for f in findings if f.line == _step_line(distill_file.read_text(), name)]
    if name in DROPS_HEAD:
        # the runtime: the head's transform gets no gradient (its decoder weight is the word embedding's)
        assert {n for n in missing if n.startswith(HEAD)} == {
            HEAD + s for s in ("dense.weight", "dense.bias", "LayerNorm.weight", "LayerNorm.bias")}
        assert [f.code for f in here] == ["DDP203"], here
        message = here[0].message
        assert "self.cls.predictions.transform in BertForMaskedLM gets no gradient" in message
        assert "decoder" not in message
    else:
        assert not {n for n in missing if n.startswith("cls.")}
        assert here == []


def test_only_the_dropping_steps_are_reported(findings: List[Reported]) -> None:
    assert sorted(f.code for f in findings) == ["DDP203"] * len(DROPS_HEAD), findings


def test_reported_on_the_model_call(distill_file: Path, findings: List[Reported]) -> None:
    line = _step_line(distill_file.read_text(), "attentions")
    assert any((f.line, f.col) == (line, 15) and f.message.startswith("student(...) drops") for f in findings), findings
