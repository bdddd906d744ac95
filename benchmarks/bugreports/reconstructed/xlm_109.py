"""Reconstructed, not the original code: XLM's TransformerModel trained for unsupervised MT (src/model/transformer.py).

Report: https://github.com/facebookresearch/XLM/issues/109 (the fix that made multi-GPU training run, confirmed by
the reporter: build the encoder with `with_output=False`). The encoder is built with an output layer whose
projection weight is tied to the embeddings; the MT step calls the encoder only in 'fwd' mode and predicts
with the decoder, so the encoder's output layer (its bias) never reaches the loss.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class PredLayer(nn.Module):
    def __init__(self, dim, n_words):
        super().__init__()
        self.proj = nn.Linear(dim, n_words, bias=True)

    def forward(self, x, y):
        return F.cross_entropy(self.proj(x).view(-1, self.proj.out_features), y.view(-1))


class TransformerModel(nn.Module):
    def __init__(self, n_words=11, dim=8, is_encoder=True, with_output=True, share_inout_emb=True):
        super().__init__()
        self.is_encoder = is_encoder
        self.with_output = with_output
        self.embeddings = nn.Embedding(n_words, dim)
        self.layer = nn.Linear(dim, dim)
        self.cross = None if is_encoder else nn.Linear(dim, dim)
        if self.with_output:
            self.pred_layer = PredLayer(dim, n_words)
            if share_inout_emb:
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


def mt_step(encoder, decoder, x1, x2):
    """The trainer's MT step: encode the source, decode the target, predict with the decoder only."""
    enc1 = encoder("fwd", x=x1)
    dec2 = decoder("fwd", x=x2, src_enc=enc1)
    loss = decoder("predict", tensor=dec2, y=x2)
    loss.backward()
    return loss


def main(batches):
    """As XLM's train.py: build_model() builds both with an output layer (with_output=True), the trainer
    wraps each in DistributedDataParallel (no find_unused_parameters) and runs the MT step on every batch."""
    encoder = TransformerModel(is_encoder=True, with_output=True)
    decoder = TransformerModel(is_encoder=False, with_output=True)
    encoder = nn.parallel.DistributedDataParallel(encoder)
    decoder = nn.parallel.DistributedDataParallel(decoder)
    for x1, x2 in batches:
        mt_step(encoder, decoder, x1, x2)


def build():
    torch.manual_seed(0)
    encoder = TransformerModel(is_encoder=True, with_output=True)
    decoder = TransformerModel(is_encoder=False, with_output=True)

    def step(model, batch):
        enc1 = model("fwd", x=batch[0])
        dec2 = decoder("fwd", x=batch[1], src_enc=enc1)
        return decoder("predict", tensor=dec2, y=batch[1])

    batches = [(torch.randint(0, 11, (2, 5)), torch.randint(0, 11, (2, 5))) for _ in range(2)]
    return {"model": encoder, "step": step, "batches": batches}


# The encoder is wrapped in DistributedDataParallel on its own in XLM's trainer.
