import torch

from .criterion import CTCCriterion
from .model import Model


def build():
    criterion = CTCCriterion()

    def step(model, batch):
        x, lang = batch
        return criterion(model, x, lang)

    batches = [(torch.randn(2, 8), 0), (torch.randn(2, 8), 2)]
    return {"model": Model(), "batches": batches, "step": step}
