"""Checkpoint conversion: the text encoder built here is frozen."""
from .models import CheckpointedTextEncoder


def convert_text_encoder():
    return CheckpointedTextEncoder().eval()
