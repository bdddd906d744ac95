"""Text encoders (issue 10, inference-only classes)."""
import torch.nn as nn


class FrozenTextEncoder(nn.Module):
    """Like diffusers' LDMBertModel without its gradient checkpointing: the package builds it only as
    `FrozenTextEncoder().eval()` (convert.py) and runs it without gradients; to_logits, unused by forward, is
    trained by nobody in the package."""

    def __init__(self, dim=8, vocab=11):
        super().__init__()
        self.body = nn.Linear(dim, dim)
        self.to_logits = nn.Linear(dim, vocab)

    def forward(self, x):
        return self.body(x)


class CaptionEncoder(nn.Module):
    """Positive: convert.py builds it frozen, but Model (model.py) builds it plainly and trains it."""

    def __init__(self, dim=8, vocab=11):
        super().__init__()
        self.body = nn.Linear(dim, dim)
        self.to_logits = nn.Linear(dim, vocab)  # expect: DDP001

    def forward(self, x):
        return self.body(x)
