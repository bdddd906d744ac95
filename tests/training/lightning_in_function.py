"""A LightningModule written inside main(), with lightning imported there too."""
import torch


def main(loader):
    import lightning as L
    from torch import nn

    class Lit(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Linear(8, 8)
            self.decoder = nn.Linear(8, 8)  # expect: DDP001

        def training_step(self, batch, batch_idx):
            return self.encoder(batch).sum()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    trainer = L.Trainer(strategy="ddp", devices=2, max_steps=2)  # expect: DDP201
    trainer.fit(Lit(), loader)


def _runtime():
    main([torch.randn(4, 8) for _ in range(3)])
