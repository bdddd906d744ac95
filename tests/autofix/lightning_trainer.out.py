import lightning as L
import torch
from lightning.pytorch.strategies import DDPStrategy
from torch import nn


class Lit(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 8)
        self.pooler = nn.Linear(8, 8)  # expect: DDP001

    def training_step(self, batch, batch_idx):
        return self.encoder(batch).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class Clean(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 8)

    def training_step(self, batch, batch_idx):
        return self.encoder(batch).sum()


def main():
    model = Lit()
    trainer = L.Trainer(strategy="ddp_find_unused_parameters_true", devices=2)
    trainer.fit(model)
    spawn = L.Trainer(strategy="ddp_spawn_find_unused_parameters_true")
    spawn.fit(model=model)
    strat = L.Trainer(strategy=DDPStrategy(static_graph=False,
                                           find_unused_parameters=True))
    strat.fit(model)
    ok = L.Trainer(strategy="ddp_find_unused_parameters_true")
    ok.fit(model)
    ok2 = L.Trainer(strategy=DDPStrategy(find_unused_parameters=True))
    ok2.fit(model)
    clean = L.Trainer(strategy="ddp")
    clean.fit(Clean())
    single = L.Trainer(strategy="auto")
    single.fit(model)
