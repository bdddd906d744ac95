"""A fastNLP text classifier: the sentence-level pooler is built but train_step never uses it."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class TextClassifier(nn.Module):
    def __init__(self, vocab_size: int = 20000, dim: int = 128, num_classes: int = 4):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.encoder = nn.GRU(dim, dim, batch_first=True)
        self.pooler = nn.Linear(dim, dim)
        self.classifier = nn.Linear(dim, num_classes)

    def forward(self, words: torch.Tensor) -> dict:
        h, _ = self.encoder(self.embed(words))
        return {"pred": self.classifier(h[:, -1])}

    def train_step(self, words: torch.Tensor, target: torch.Tensor) -> dict:
        pred = self(words)["pred"]
        return {"loss": F.cross_entropy(pred, target)}

    def evaluate_step(self, words: torch.Tensor) -> dict:
        return self(words)
