"""Training script: two GPUs through fastNLP's torch driver, which wraps the model in DDP.

The model (in models.py) builds a pooler that train_step never uses: the Trainer line is reported with the
fastNLP flag that makes DDP tolerate it.
"""
from fastNLP import Trainer
from torch.optim import Adam

from models import TextClassifier


def main(train_dataloader) -> None:
    model = TextClassifier()
    trainer = Trainer(
        model=model,
        driver="torch",
        device=[0, 1],
        optimizers=Adam(model.parameters(), lr=1e-3),
        train_dataloader=train_dataloader,
        n_epochs=10,
    )
    trainer.run()
