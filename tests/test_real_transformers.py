"""Against the real transformers (pinned in the test extra), read from its installed sources: a classifier
on ``BertModel`` that keeps only the sequence output leaves BERT's pooler without gradient, and the linter
names ``self.bert.pooler``; when the pooler output is used, torch and the linter agree it is silent.
A small ``BertConfig`` is built in the test: nothing is downloaded."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List, Set

import pytest
import torch
import transformers

from flake8_ddp_unused import project
from flake8_ddp_unused.lint import analyze_source

TEMPLATE = """\
import torch
from torch import nn
from transformers import BertModel


class Classifier(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.bert = BertModel(config)
        self.head = nn.Linear(config.hidden_size, 2)

    def forward(self, input_ids, labels):
{body}
        return nn.functional.cross_entropy(self.head(hidden), labels)
"""

KEEPS_SEQUENCE = [
    "hidden = self.bert(input_ids)[0][:, 0]",
    "hidden = self.bert(input_ids).last_hidden_state[:, 0]",
    "outputs = self.bert(input_ids=input_ids)\nhidden = outputs.last_hidden_state.mean(1)",
    "sequence_output = self.bert(input_ids, return_dict=False)[0]\nhidden = sequence_output[:, 0]",
    "outputs = self.bert(input_ids, return_dict=False)\nhidden = outputs[:1][0][:, 0]",  # a slice of the tuple
]
USES_POOLER = [
    "hidden = self.bert(input_ids).pooler_output",
    "hidden = self.bert(input_ids)[1]",
    "outputs = self.bert(input_ids)\nhidden = outputs.last_hidden_state[:, 0] + outputs.pooler_output",
    "hidden = self.bert(input_ids)[0][:, 0] + self.bert(input_ids)['pooler_output']",
    "outputs = self.bert(input_ids, return_dict=False)\nhidden = outputs[1:][0]",  # the slice holds the pooler
]
POOLER = {"bert.pooler.dense.weight", "bert.pooler.dense.bias"}


def _source(body: str) -> str:
    return TEMPLATE.format(body=textwrap.indent(body, " " * 8))


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "classifier.py"
    path.write_text(_source(body), encoding="utf-8")
    return path


def _no_grad_after_backward(path: Path) -> Set[str]:
    spec = importlib.util.spec_from_file_location(f"clf_{abs(hash(str(path)))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=32, max_position_embeddings=32)
    model = module.Classifier(config)
    model.train()
    input_ids = torch.randint(0, 50, (3, 7))
    model(input_ids, torch.tensor([0, 1, 0])).backward()
    return {n for n, p in model.named_parameters() if p.requires_grad and p.grad is None}


@pytest.fixture(scope="module", autouse=True)
def _fresh_caches() -> None:
    project.clear_cache()  # transformers' sources are then read once for the whole module


def _lint(path: Path) -> List[object]:
    return analyze_source(path.read_text(encoding="utf-8"), str(path))


def test_transformers_is_the_pinned_one() -> None:
    pinned = next(line for line in (Path(__file__).parent.parent / "pyproject.toml").read_text().splitlines()
                  if '"transformers==' in line)
    assert transformers.__version__ in pinned


@pytest.mark.parametrize("body", KEEPS_SEQUENCE)
def test_sequence_output_only_reports_the_pooler(tmp_path: Path, body: str) -> None:
    path = _write(tmp_path, body)
    assert _no_grad_after_backward(path) == POOLER  # the runtime: the pooler gets no gradient
    findings = _lint(path)
    assert [(f.line, f.code) for f in findings] == [(9, "DDP004")], [f.message for f in findings]
    assert findings[0].message.startswith("self.bert.pooler in Classifier")


@pytest.mark.parametrize("body", USES_POOLER)
def test_pooler_output_used_is_silent(tmp_path: Path, body: str) -> None:
    path = _write(tmp_path, body)
    assert _no_grad_after_backward(path) == set()
    assert _lint(path) == []


def test_through_flake8(tmp_path: Path) -> None:
    path = _write(tmp_path, KEEPS_SEQUENCE[1])
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "DDP", str(path)],
                          capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.stdout.count("DDP004 self.bert.pooler in Classifier") == 1, proc.stdout + proc.stderr
    assert ":9:9: DDP004" in proc.stdout


@pytest.mark.parametrize("ctor, reported", [
    ('BertModel.from_pretrained("bert-base-uncased")', True),
    ('BertModel.from_pretrained(args.model_name)', True),  # the class is decided, whatever the checkpoint
    ('BertModel.from_pretrained("bert-base-uncased", add_pooling_layer=False)', False),
    ("BertModel(config, add_pooling_layer=False)", False),
    ("AutoModel.from_pretrained(args.model_name)", False),  # a name from the command line decides nothing
    ('AutoModel.from_pretrained("bert-base-uncased")', True),  # the name decides the family: BertModel
    ('AutoModel.from_pretrained("google-bert/bert-base-cased")', True),
    ('AutoModel.from_pretrained("hfl/chinese-roberta-wwm-ext")', False),  # a BERT by its config: undecided
    ('AutoModel.from_pretrained("roberta-base")', True),  # RobertaModel has a pooler too
])
def test_constructors(tmp_path: Path, ctor: str, reported: bool) -> None:
    source = _source("hidden = self.bert(input_ids)[0][:, 0]").replace("BertModel(config)", ctor)
    source = source.replace("import BertModel", "import AutoModel, BertModel")
    path = tmp_path / "classifier.py"
    path.write_text(source.replace("def __init__(self, config)", "def __init__(self, config, args)"), "utf-8")
    findings = _lint(path)
    assert [f.code for f in findings] == (["DDP004"] if reported else []), [f.message for f in findings]


def test_frozen_backbone_is_silent(tmp_path: Path) -> None:
    source = _source("hidden = self.bert(input_ids)[0][:, 0]").replace(
        "        self.head =", "        self.bert.requires_grad_(False)\n        self.head =")
    path = tmp_path / "classifier.py"
    path.write_text(source, "utf-8")
    assert _no_grad_after_backward(path) == set()
    assert _lint(path) == []


HANDED = """\
import torch
from torch import nn
from transformers import BertModel


class Pooler(nn.Module):
    \"\"\"SimCSE's pooler: no parameters, reads the record it is given.\"\"\"

    def __init__(self, pooler_type):
        super().__init__()
        self.pooler_type = pooler_type

    def forward(self, attention_mask, outputs):
        last_hidden = outputs.last_hidden_state
        if self.pooler_type == "cls":
            return {read}
        return (last_hidden * attention_mask.unsqueeze(-1)).sum(1)


class Classifier(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.bert = BertModel(config)
        self.pooler = Pooler("cls")
        self.head = nn.Linear(config.hidden_size, 2)

    def forward(self, input_ids, labels):
        outputs = self.bert(input_ids, attention_mask=torch.ones_like(input_ids), return_dict=True)
        hidden = self.pooler(torch.ones_like(input_ids), outputs)
        return nn.functional.cross_entropy(self.head(hidden), labels)
"""


@pytest.mark.parametrize("read, reported", [
    ("last_hidden[:, 0]", True),  # SimCSE's "cls" pooler: BERT's own pooler runs for nothing
    ("outputs.pooler_output", False),  # "cls_before_pooler" reversed: BERT's pooler output is the result
])
def test_whole_output_handed_to_another_module(tmp_path: Path, read: str, reported: bool) -> None:
    path = tmp_path / "classifier.py"
    path.write_text(HANDED.format(read=read), "utf-8")
    assert _no_grad_after_backward(path) == (POOLER if reported else set())
    findings = _lint(path)
    assert [(f.line, f.code) for f in findings] == ([(23, "DDP004")] if reported else []), [
        f.message for f in findings]
