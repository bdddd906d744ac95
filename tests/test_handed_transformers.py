"""Against the real transformers (installed, read from its sources, nothing downloaded): a wrapper that receives
its encoder as a constructor argument (``Seq2Label(BertModel(config), ...)``, the shape of transformers#7924's
``EncoderDecoderModel(encoder=...)``) and keeps only the sequence output leaves BERT's pooler without gradient;
the linter names ``self.encoder.pooler`` on the ``self.encoder = encoder`` line, through flake8, and torch agrees.
Silent when the pooler output is used or the site builds BERT without its pooler."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Set

import pytest
import torch
import transformers

from flake8_ddp_unused import project
from flake8_ddp_unused.lint import analyze_source

SOURCE = """\
from torch import nn
from transformers import BertModel


class Seq2Label(nn.Module):
    def __init__(self, encoder, hidden):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(hidden, 2)

    def forward(self, input_ids):
        out = self.encoder(input_ids)
        return self.head(KEEP)


def build(config):
    return Seq2Label(CTOR, config.hidden_size)
"""
SEQUENCE, POOLED = "out.last_hidden_state[:, 0]", "out.pooler_output"
WITH_POOLER, WITHOUT = "BertModel(config)", "BertModel(config, add_pooling_layer=False)"


@pytest.fixture(scope="module", autouse=True)
def _fresh_caches() -> None:
    project.clear_cache()


def _write(tmp_path: Path, keep: str, ctor: str) -> Path:
    path = tmp_path / "seq2label.py"
    path.write_text(SOURCE.replace("KEEP", keep).replace("CTOR", ctor), encoding="utf-8")
    return path


def _no_grad(path: Path) -> Set[str]:
    spec = importlib.util.spec_from_file_location(f"seq2label_{abs(hash(str(path)))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=32, max_position_embeddings=32)
    model = module.build(config)
    model.train()
    model(torch.randint(0, 50, (3, 7))).sum().backward()
    return {n for n, p in model.named_parameters() if p.requires_grad and p.grad is None}


def test_handed_encoder_keeping_the_sequence_output_reports_the_pooler(tmp_path: Path) -> None:
    path = _write(tmp_path, SEQUENCE, WITH_POOLER)
    assert _no_grad(path) == {"encoder.pooler.dense.weight", "encoder.pooler.dense.bias"}
    proc = subprocess.run([sys.executable, "-m", "flake8", "--isolated", "--select", "DDP", str(path)],
                          capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.stdout.count(":8:9: DDP004 self.encoder.pooler in Seq2Label") == 1, proc.stdout + proc.stderr
    assert proc.stdout.count("DDP") == 1, proc.stdout


@pytest.mark.parametrize("keep, ctor", [(POOLED, WITH_POOLER), (SEQUENCE, WITHOUT)])
def test_pooler_used_or_not_built_is_silent(tmp_path: Path, keep: str, ctor: str) -> None:
    path = _write(tmp_path, keep, ctor)
    assert _no_grad(path) == set()
    assert analyze_source(path.read_text(encoding="utf-8"), str(path)) == []
