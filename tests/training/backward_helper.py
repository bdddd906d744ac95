"""open_clip's train.py shape: the loop hands the loss to a module-level helper that backpropagates it
(``backward(total_loss, scaler)``), so the loop itself never calls ``.backward()``. The loss accepts
logit_bias but never uses it (open_clip#1076)."""
import torch
import torch.nn.functional as F
from torch import nn


class SigLipLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.visual = nn.Linear(8, 8)
        self.text = nn.Linear(8, 8)
        self.logit_scale = nn.Parameter(torch.ones([]))
        self.logit_bias = nn.Parameter(torch.zeros([]))

    def forward(self, image, text):
        return {"image_features": F.normalize(self.visual(image), dim=-1),
                "text_features": F.normalize(self.text(text), dim=-1),
                "logit_scale": self.logit_scale.exp(), "logit_bias": self.logit_bias}


class ClipLoss(nn.Module):
    def forward(self, image_features, text_features, logit_scale, logit_bias=None, output_dict=False):
        logits = logit_scale * image_features @ text_features.T
        labels = torch.arange(logits.shape[0])
        total = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
        return {"contrastive_loss": total} if output_dict else total


def backward(total_loss, scaler):
    if scaler is not None:
        scaler.scale(total_loss).backward()
    else:
        total_loss.backward()


def train_one_epoch(model, data, loss, optimizer, scaler=None):
    for images, texts in data:
        model_out = model(images, texts)  # expect: DDP203
        losses = loss(**model_out, output_dict=True)
        total_loss = sum(losses.values())
        optimizer.zero_grad()
        backward(total_loss, scaler)
        optimizer.step()


def main(data):
    model = torch.nn.parallel.DistributedDataParallel(SigLipLike())  # expect: DDP201
    train_one_epoch(model, data, ClipLoss(), torch.optim.SGD(model.parameters(), lr=0.1))


def _runtime():
    main([(torch.randn(4, 8), torch.randn(4, 8)) for _ in range(3)])
