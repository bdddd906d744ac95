"""Inference pipelines: they hold models given to them and run them without gradients."""
from typing import Optional

import torch

from .models import Decoder, Exported, Refiner, Upscaler, Vocoder, WorldModel


class Pipeline:
    def register_modules(self, **modules):
        for name, module in modules.items():
            setattr(self, name, module)


class RefinerPipeline(Pipeline):
    def __init__(self, refiner: Refiner, scale: float = 1.0):
        if refiner is None:
            raise ValueError("a refiner is needed")
        self.register_modules(refiner=refiner)
        self.scale = scale

    @torch.no_grad()
    def __call__(self, x):
        return self._refine(x) * self.scale

    def _refine(self, x):
        return self.refiner(x)

    def describe(self):
        return f"refiner pipeline, scale {self.scale}"


class WorldPipeline(Pipeline):
    def __init__(self, world: WorldModel):
        self.world = world

    @torch.no_grad()
    def __call__(self, x):
        return self.world(x)


class UpscalerPipeline(Pipeline):
    def __init__(self, upscaler: Optional[Upscaler] = None):
        self.upscaler = upscaler

    @torch.no_grad()
    def __call__(self, x):
        return self.upscale(x)

    def upscale(self, x):
        return self.upscaler(x)


class DecoderPipeline(Pipeline):
    def __init__(self, decoder: Decoder):
        self.decoder = decoder

    def __call__(self, x):
        with torch.no_grad():
            return self.decoder(x)


class VocoderPipeline(Pipeline):
    def __init__(self, vocoder: Vocoder):
        self.vocoder = vocoder

    def __call__(self, x):
        with torch.no_grad():
            return self.vocoder(x)


class ExportPipeline(Pipeline):
    def __init__(self, exported: Exported):
        self.exported = exported

    @torch.no_grad()
    def export(self):
        return self.exported
