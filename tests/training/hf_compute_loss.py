"""An HF Trainer subclass that overrides compute_loss and keeps only the logits of a two-head model."""
import torch.nn as nn
import torch.nn.functional as F
from transformers import Trainer, TrainingArguments


class DualHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 8)
        self.classifier = nn.Linear(8, 3)
        self.contrastive_proj = nn.Linear(8, 8)

    def forward(self, input_ids):
        h = self.encoder(input_ids)
        return {"logits": self.classifier(h), "embeddings": self.contrastive_proj(h)}


class MyTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
        labels = inputs.pop("labels")
        outputs = model(**inputs)  # expect: DDP203
        loss = F.cross_entropy(outputs["logits"], labels)
        return (loss, outputs) if return_outputs else loss


def main(train_dataset):
    args = TrainingArguments(output_dir="out", ddp_find_unused_parameters=False)  # expect: DDP201
    trainer = MyTrainer(model=DualHead(), args=args, train_dataset=train_dataset)
    trainer.train()


def _runtime():
    import torch

    main([{"input_ids": torch.randn(4, 8), "labels": torch.randint(0, 3, (4,))} for _ in range(3)])
