"""Checkpoint conversion and inference: the encoders built here are frozen, and run without gradients."""
import torch

from .text_encoder import CaptionEncoder, FrozenTextEncoder


def convert_text_encoder():
    return FrozenTextEncoder().eval()


def convert_caption_encoder():
    encoder = CaptionEncoder()
    encoder.requires_grad_(False)
    return encoder


class Pipeline:
    def __init__(self):
        self.text_encoder = convert_text_encoder()

    @torch.no_grad()
    def __call__(self, x):
        return self.text_encoder(x)
