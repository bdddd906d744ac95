"""A training script of the package: it trains the decoder a pipeline holds."""
import torch

from .pipelines import DecoderPipeline


def finetune(path, batches):
    pipe = DecoderPipeline(torch.load(path, weights_only=False))
    optimizer = torch.optim.SGD(pipe.decoder.parameters(), lr=0.1)
    for x in batches:
        optimizer.zero_grad()
        pipe.decoder(x).sum().backward()
        optimizer.step()
    return pipe
