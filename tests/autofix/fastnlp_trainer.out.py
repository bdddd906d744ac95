from fastNLP import DistTrainer, Trainer
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 8)
        self.pooler = nn.Linear(8, 8)  # expect: DDP001

    def train_step(self, x, y):
        return {"loss": self.encoder(x).sum()}


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 8)
        self.label_proj = nn.Linear(8, 8)  # expect: DDP901

    def forward(self, x, labels=None):
        out = self.body(x)
        if labels is not None:
            out = out + self.label_proj(labels)
        return {"loss": out.sum()}


def main(dl, opt):
    ddp_kwargs = {"find_unused_parameters": True}
    Trainer(model=Net(), driver="torch", device=[0, 1], train_dataloader=dl, optimizers=opt,
            torch_kwargs={"ddp_kwargs": ddp_kwargs})
    Trainer(model=Net(), driver="torch", device=[0, 1], train_dataloader=dl, optimizers=opt,
            torch_kwargs={"non_blocking": True,
                          "ddp_kwargs": {"find_unused_parameters": True}})
    Trainer(model=Tagger(), driver="torch", device=[0, 1], train_dataloader=dl, optimizers=opt,
            torch_kwargs={"ddp_kwargs": {"find_unused_parameters": True}})
    Trainer(model=Tagger(), driver="torch", device=[0, 1], train_dataloader=dl, optimizers=opt,
            model_wo_auto_param_call=True)
    Trainer(model=Net(), driver="torch", device="cpu", train_dataloader=dl, optimizers=opt)
    Trainer(model=Net(), driver="paddle", device=[0, 1], train_dataloader=dl, optimizers=opt)
    DistTrainer(dl, Net(), opt, find_unused_parameters=True)
    DistTrainer(dl, Net(), opt, find_unused_parameters=True)
