"""One backbone, one head per task; each batch comes from a single task.

A batch of task "ner" leaves the other heads without gradient: DDP101 on `self.heads`. The refiner is used
only at evaluation time (DDP002), and the auxiliary logits are returned beside the loss but never enter it
(DDP004).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class MultiTaskModel(nn.Module):
    def __init__(self, hidden: int = 128, tasks=("ner", "pos", "chunk"), labels: int = 9):
        super().__init__()
        self.embed = nn.Embedding(30000, hidden)
        self.encoder = nn.LSTM(hidden, hidden, batch_first=True, bidirectional=True)
        self.heads = nn.ModuleDict({name: nn.Linear(2 * hidden, labels) for name in tasks})
        self.refiner = nn.Linear(labels, labels)
        self.aux_logits = nn.Linear(2 * hidden, labels)

    def forward(self, tokens: torch.Tensor, task: str, labels: torch.Tensor) -> dict:
        h, _ = self.encoder(self.embed(tokens))
        aux = self.aux_logits(h)
        logits = self.heads[task](h)
        if not self.training:
            logits = self.refiner(logits)
        loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten())
        return {"loss": loss, "logits": logits, "aux_logits": aux}
