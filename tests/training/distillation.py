"""Distillation: the student's MLM loss is computed but only the attention loss is returned."""
import torch
import torch.nn.functional as F
from torch import nn


class Student(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 8)
        self.attn = nn.Linear(8, 8)
        self.mlm_head = nn.Linear(8, 5)

    def forward(self, x):
        h = self.encoder(x)
        return {"attentions": self.attn(h), "mlm_logits": self.mlm_head(h)}


def distill_loss(student_out, teacher_attn, labels):
    att_loss = F.mse_loss(student_out["attentions"], teacher_attn)
    mlm_loss = F.cross_entropy(student_out["mlm_logits"], labels)
    total = att_loss
    return total


def train(model, loader, optimizer):
    for x, teacher_attn, labels in loader:
        out = model(x)  # expect: DDP203
        loss = distill_loss(out, teacher_attn, labels)
        loss.backward()
        optimizer.step()


def main(loader):
    model = torch.nn.parallel.DistributedDataParallel(Student())  # expect: DDP201
    train(model, loader, torch.optim.SGD(model.parameters(), lr=0.1))


def _runtime():
    main([(torch.randn(4, 8), torch.randn(4, 8), torch.randint(0, 5, (4,))) for _ in range(3)])
