"""A text classifier whose pooler is built but never used: DDP stops after the first iteration."""
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, vocab: int = 1000, dim: int = 64, layers: int = 2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.layers = nn.ModuleList(
            [nn.TransformerEncoderLayer(dim, 4, batch_first=True) for _ in range(layers)]
        )
        self.pooler = nn.Linear(dim, dim)

    def forward(self, ids):
        h = self.embed(ids)
        for layer in self.layers:
            h = layer(h)
        return h


class Classifier(nn.Module):
    def __init__(self, classes: int = 2):
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Linear(64, classes)

    def forward(self, ids):
        h = self.encoder(ids)
        return self.head(h[:, 0])
