import torch.nn as nn

from .layers import CTCDecoder, LayerSelect, Probe, ProcessorAttention, XceptionBase
from .text_encoder import CaptionEncoder


class LatentDepth(nn.Module):
    def __init__(self, dim=8, layers=3):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(dim, dim) for _ in range(layers))
        self.layer_select = LayerSelect(layers)

    def forward(self, x, lang):
        self.layer_select.sample(lang)
        for i, layer in enumerate(self.layers):
            x = x + self.layer_select(i) * layer(x)
        return x


class XceptionEncoder(XceptionBase):
    def __init__(self, dim=8):
        super().__init__(dim)
        del self.fc

    def forward(self, x):
        return self.conv(x)


class Model(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.depth = LatentDepth(dim)
        self.decoder = CTCDecoder(dim)
        self.encoder = XceptionEncoder(dim)
        self.probe = Probe(dim)
        self.attention = ProcessorAttention(dim)
        self.captions = CaptionEncoder(dim)

    def forward(self, x, lang):
        return self.decoder(self.encoder(self.depth(x, lang)) + self.probe(x) + self.attention(x) + self.captions(x))

    def get_normalized_probs(self, features):
        return self.decoder.get_normalized_probs(features)
