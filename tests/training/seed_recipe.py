"""The fastNLP how-to's recipe: wrap the model yourself and set model_wo_auto_param_call=True."""
import torch
from fastNLP import Trainer
from torch import nn
from torch.nn.parallel import DistributedDataParallel


class TextClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 8)
        self.pooler = nn.Linear(8, 8)  # expect: DDP001

    def train_step(self, batch):
        return {"loss": self.encoder(batch["x"]).sum()}


def main(train_dataloader):
    model = TextClassifier()
    model = DistributedDataParallel(model, find_unused_parameters=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    trainer = Trainer(model=model, driver="torch", device=[0, 1], train_dataloader=train_dataloader,  # expect: DDP206
                      optimizers=optimizer, model_wo_auto_param_call=True)
    trainer.run()


def fixed(train_dataloader):
    model = TextClassifier()
    trainer = Trainer(model=model, driver="torch", device=[0, 1], train_dataloader=train_dataloader,
                      optimizers=torch.optim.Adam(model.parameters(), lr=1e-3),
                      torch_kwargs={"ddp_kwargs": {"find_unused_parameters": True}})
    trainer.run()


def _runtime():
    """What fastNLP 1.0.1 does with this wrapper under torchrun (process group already initialised): its
    own TorchDDPDriver methods, on the script's DistributedDataParallel(...) object."""
    from types import SimpleNamespace

    from fastNLP.core.drivers.torch_driver.ddp import TorchDDPDriver

    model = TextClassifier()
    wrapped = DistributedDataParallel(model, find_unused_parameters=True)
    driver = SimpleNamespace(_has_ddpwrapped=False, model=wrapped, unwrap_model=lambda: model,
                             wo_auto_param_call=True)
    call, signature = TorchDDPDriver.get_model_call_fn(driver, "train_step")
    TorchDDPDriver.model_call(driver, {"x": torch.randn(4, 8)}, call, signature)["loss"].backward()
