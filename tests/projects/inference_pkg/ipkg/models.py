"""Models of the package. Inference ports keep parts their forward never runs (so a checkpoint loads)."""
import torch.nn as nn


class RefinerBlock(nn.Module):
    """Built only by Refiner, which only RefinerPipeline runs, under no_grad: never trained, not reported
    (were it trained, `audio` would get no gradient)."""

    def __init__(self, dim=8):
        super().__init__()
        self.video = nn.Linear(dim, dim)
        self.audio = nn.Linear(dim, dim)  # kept so the checkpoint loads

    def forward(self, x):
        return self.video(x)


class Refiner(nn.Module):
    def __init__(self, dim=8, layers=2):
        super().__init__()
        self.blocks = nn.ModuleList([RefinerBlock(dim) for _ in range(layers)])

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x


class WorldBlock(nn.Module):
    """Positive: the model that contains it offers gradient checkpointing, so it is offered for training
    although the package only samples from it."""

    def __init__(self, dim=8):
        super().__init__()
        self.attn = nn.Linear(dim, dim)
        self.gate = nn.Linear(dim, dim)  # expect: DDP001

    def forward(self, x):
        return self.attn(x)


class WorldModel(nn.Module):
    _supports_gradient_checkpointing = True

    def __init__(self, dim=8):
        super().__init__()
        self.gradient_checkpointing = False
        self.block = WorldBlock(dim)

    def forward(self, x):
        return self.block(x)


class Upscaler(nn.Module):
    """Positive: UpscalerPipeline.upscale() runs it with gradients."""

    def __init__(self, dim=8):
        super().__init__()
        self.body = nn.Linear(dim, dim)
        self.aux_head = nn.Linear(dim, dim)  # expect: DDP001

    def forward(self, x):
        return self.body(x)


class Decoder(nn.Module):
    """Positive: finetune.py reads `pipe.decoder` from outside the pipeline and trains it."""

    def __init__(self, dim=8):
        super().__init__()
        self.body = nn.Linear(dim, dim)
        self.extra = nn.Linear(dim, dim)  # expect: DDP001

    def forward(self, x):
        return self.body(x)


class CheckpointedTextEncoder(nn.Module):
    """Positive: built only in eval mode (convert.py), but it declares gradient-checkpointing support."""

    _supports_gradient_checkpointing = True

    def __init__(self, dim=8, vocab=11):
        super().__init__()
        self.body = nn.Linear(dim, dim)
        self.to_logits = nn.Linear(dim, vocab)  # expect: DDP001

    def forward(self, x):
        return self.body(x)


class Vocoder(nn.Module):
    """Run only inside VocoderPipeline's `with torch.no_grad():` block: never trained, not reported."""

    def __init__(self, dim=8):
        super().__init__()
        self.body = nn.Linear(dim, dim)
        self.dur_predictor = nn.Linear(dim, 1)

    def forward(self, x):
        return self.body(x)


class Exported(nn.Module):
    """Positive: ExportPipeline.export() runs under no_grad but hands the instance out, so its caller may
    train it."""

    def __init__(self, dim=8):
        super().__init__()
        self.body = nn.Linear(dim, dim)
        self.head = nn.Linear(dim, dim)  # expect: DDP001

    def forward(self, x):
        return self.body(x)
