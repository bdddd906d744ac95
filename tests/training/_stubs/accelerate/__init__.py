"""Stand-in for accelerate: Accelerator.prepare wraps modules in DDP with the kwargs handlers' flag
(accelerate passes DistributedDataParallelKwargs to DistributedDataParallel); backward() is loss.backward()."""
from dataclasses import dataclass

from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass
class DistributedDataParallelKwargs:
    find_unused_parameters: bool = False
    bucket_cap_mb: int = 25


class Accelerator:
    def __init__(self, kwargs_handlers=None, **kwargs):
        self.ddp_kwargs = {}
        for handler in kwargs_handlers or ():
            if isinstance(handler, DistributedDataParallelKwargs):
                self.ddp_kwargs = {"find_unused_parameters": handler.find_unused_parameters}

    def prepare(self, *objects):
        out = tuple(DistributedDataParallel(o, **self.ddp_kwargs) if isinstance(o, nn.Module) else o
                    for o in objects)
        return out[0] if len(out) == 1 else out

    prepare_model = prepare

    def backward(self, loss):
        loss.backward()
