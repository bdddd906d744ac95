"""Stand-in for Lightning 2.x: strategy "ddp" wraps the LightningModule in DistributedDataParallel
(find_unused_parameters=False unless the strategy name ends in _find_unused_parameters_true) through a
wrapper whose forward runs training_step, as Lightning's _LightningModuleWrapperBase does."""
from torch import nn
from torch.nn.parallel import DistributedDataParallel


class LightningModule(nn.Module):
    def log(self, *args, **kwargs):
        pass


class _Wrapper(nn.Module):
    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, batch, batch_idx):
        return self.module.training_step(batch, batch_idx)


class Trainer:
    def __init__(self, strategy="auto", devices=1, max_steps=3, **kwargs):
        self.strategy = strategy
        self.max_steps = max_steps

    def fit(self, model, train_dataloaders=None):
        unused = self.strategy.endswith("_find_unused_parameters_true")
        wrapped = DistributedDataParallel(_Wrapper(model), find_unused_parameters=unused)
        for step, batch in enumerate(train_dataloaders):
            if step >= self.max_steps:
                break
            wrapped(batch, step).backward()
