"""Flags switched after construction (kept apart: the linter does not judge attributes that the file reads
or assigns from outside their class, so this file would silence train_aux.py)."""
import torch.nn.functional as F
from fakevision.models import auxnet


def train_aux_switched_off_later(x, y):
    model = auxnet(aux_logits=True)
    model.aux_logits = False  # what torchvision's googlenet(weights=...) does without aux_logits=True
    model.aux1 = None
    model.aux2 = None
    logits = model(x)
    F.cross_entropy(logits, y).backward()
