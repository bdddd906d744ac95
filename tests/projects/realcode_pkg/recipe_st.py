"""A training recipe outside the package (speechbrain's recipes/ beside speechbrain/): with asr_weight > 0
it trains the auxiliary ASR decoder through forward_asr() in every step."""
import torch

from rcpkg.layers import SpeechTranslation


def build():
    def step(model, batch):
        encoder_out = model(batch)
        return encoder_out.sum() + 0.3 * model.forward_asr(encoder_out).sum()

    batches = [torch.randn(2, 8), torch.randn(2, 8)]
    return {"model": SpeechTranslation(asr_weight=0.3), "batches": batches, "step": step}
