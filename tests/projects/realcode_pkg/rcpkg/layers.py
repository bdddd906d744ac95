"""Layers whose non-forward methods other files of the package call (issue 10, patterns 4 and 5)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .processors import AttnProcessor


class LayerSelect(nn.Module):
    """fairseq latent_depth: the parent model calls sample() each batch; forward reads the cached samples."""

    def __init__(self, layers=3, logits=3):
        super().__init__()
        self.layer_logits = nn.Parameter(torch.zeros(logits, layers))

    def sample(self, idx):
        self.samples = torch.sigmoid(self.layer_logits[idx, :])

    def forward(self, i):
        return self.samples[i]


class CTCDecoder(nn.Module):
    """fairseq TTSTransformerDecoder: ctc_proj feeds get_normalized_probs(), which the criterion calls."""

    def __init__(self, dim=8, vocab=5):
        super().__init__()
        self.body = nn.Linear(dim, dim)
        self.ctc_proj = nn.Linear(dim, vocab)

    def forward(self, x):
        return self.body(x)

    def get_normalized_probs(self, features):
        return F.log_softmax(self.ctc_proj(features), dim=-1)


class Probe(nn.Module):
    """Positive: debug() is called nowhere in the package, so debug_probe gets no gradient."""

    def __init__(self, dim=8):
        super().__init__()
        self.body = nn.Linear(dim, dim)
        self.debug_probe = nn.Linear(dim, dim)  # expect: DDP001

    def debug(self, x):
        return self.debug_probe(x)

    def forward(self, x):
        return self.body(x)


class SpeechTranslation(nn.Module):
    """speechbrain TransformerST: asr_decoder is built only with asr_weight > 0, for forward_asr(), which the
    training recipe (outside the package: recipe_st.py) calls beside forward(). Positive: asr_ctc, built under
    the same option, is run by no method at all."""

    def __init__(self, dim=8, asr_weight=0.0):
        super().__init__()
        self.encoder = nn.Linear(dim, dim)
        if asr_weight > 0:
            self.asr_decoder = nn.Linear(dim, dim)
            self.asr_ctc = nn.Linear(dim, dim)  # expect: DDP001

    def forward(self, x):
        return self.encoder(x)

    def forward_asr(self, encoder_out):
        return self.asr_decoder(encoder_out)


class XceptionBase(nn.Module):
    """segmentation-models-pytorch Xception: only built as its subclass, which deletes fc; forward calls
    self.last_linear, which only a factory would set."""

    def __init__(self, dim=8, num_classes=3):
        super().__init__()
        self.conv = nn.Linear(dim, dim)
        self.fc = nn.Linear(dim, num_classes)

    def logits(self, x):
        return self.last_linear(x)

    def forward(self, x):
        return self.logits(self.conv(x))


class ProcessorAttention(nn.Module):
    """diffusers HeliosAttention: forward hands self to a swappable processor defined in another file."""

    def __init__(self, dim=8):
        super().__init__()
        self.to_q = nn.Linear(dim, dim)
        self.to_out = nn.Linear(dim, dim)
        self.set_processor(AttnProcessor())

    def set_processor(self, processor):
        self.processor = processor

    def forward(self, x):
        return self.processor(self, x)
