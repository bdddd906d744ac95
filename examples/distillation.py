"""Knowledge distillation: the student learns from a teacher's soft labels.

The teacher runs under `torch.no_grad()` but was never frozen, so its parameters stay registered with DDP
and never get a gradient (DDP003). Freezing it with `requires_grad_(False)` fixes that; the frozen
`ema_teacher` below is the pattern to copy.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class Distiller(nn.Module):
    def __init__(self, num_classes: int = 100, temperature: float = 4.0):
        super().__init__()
        self.student = torchvision.models.resnet18(num_classes=num_classes)
        self.teacher = torchvision.models.resnet50(num_classes=num_classes)
        self.ema_teacher = torchvision.models.resnet18(num_classes=num_classes)
        self.ema_teacher.requires_grad_(False)
        self.temperature = temperature

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        logits = self.student(images)
        with torch.no_grad():
            soft = self.teacher(images) + self.ema_teacher(images)
        t = self.temperature
        distill = F.kl_div(F.log_softmax(logits / t, dim=-1), F.softmax(soft / t, dim=-1),
                           reduction="batchmean")
        return F.cross_entropy(logits, labels) + distill * t * t
