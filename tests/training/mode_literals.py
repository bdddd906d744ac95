"""XLM-style: one model class dispatches on a mode argument; the training step passes literal modes.

The encoder is only ever called with "fwd", so its output layer gets no gradient (its weight is tied to the
embeddings, which do get one; its bias does not). The decoder is called with both modes in the same step:
everything of it is trained. Neither `self.layer` nor `self.pred_layer` is per batch: the callers decide.
"""
import torch
import torch.nn.functional as F
from torch import nn


class PredLayer(nn.Module):
    def __init__(self, dim, n_words):
        super().__init__()
        self.proj = nn.Linear(dim, n_words, bias=True)

    def forward(self, x, y):
        return F.cross_entropy(self.proj(x).view(-1, self.proj.out_features), y.view(-1))


class TransformerModel(nn.Module):
    def __init__(self, n_words=11, dim=8, is_encoder=True, with_output=True):
        super().__init__()
        self.embeddings = nn.Embedding(n_words, dim)
        self.layer = nn.Linear(dim, dim)
        self.cross = None if is_encoder else nn.Linear(dim, dim)
        if with_output:
            self.pred_layer = PredLayer(dim, n_words)
            self.pred_layer.proj.weight = self.embeddings.weight

    def forward(self, mode, **kwargs):
        if mode == "fwd":
            return self.fwd(**kwargs)
        elif mode == "predict":
            return self.predict(**kwargs)
        raise Exception("Unknown mode: %s" % mode)

    def fwd(self, x, src_enc=None):
        h = torch.relu(self.layer(self.embeddings(x)))
        if src_enc is not None:
            h = h + self.cross(src_enc.mean(dim=1, keepdim=True))
        return h

    def predict(self, tensor, y):
        return self.pred_layer(tensor, y)


def mt_step(encoder, decoder, x1, x2, optimizer):
    enc1 = encoder("fwd", x=x1)  # expect: DDP203
    dec2 = decoder("fwd", x=x2, src_enc=enc1)
    loss = decoder("predict", tensor=dec2, y=x2)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def main(batches):
    decoder = nn.parallel.DistributedDataParallel(TransformerModel(is_encoder=False))
    encoder = nn.parallel.DistributedDataParallel(TransformerModel(is_encoder=True))  # expect: DDP201
    optimizer = torch.optim.SGD(list(encoder.parameters()) + list(decoder.parameters()), lr=0.1)
    for x1, x2 in batches:
        mt_step(encoder, decoder, x1, x2, optimizer)


def _runtime():
    main([(torch.randint(0, 11, (2, 5)), torch.randint(0, 11, (2, 5))) for _ in range(3)])
