from torch import nn
from transformers import PreTrainedModel, Trainer, TrainingArguments


class Net(PreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.encoder = nn.Linear(8, 8)
        self.pooler = nn.Linear(8, 8)  # expect: DDP001

    def forward(self, x, labels=None):
        return {"loss": self.encoder(x).sum()}


def main(config, unknown):
    model = Net.from_pretrained("ckpt")
    args = TrainingArguments("out", ddp_find_unused_parameters=False)
    Trainer(model=model, args=args)
    Trainer(model, TrainingArguments("out", ddp_find_unused_parameters=False))
    Trainer(model=model, args=TrainingArguments("out"))  # None: HF passes find_unused_parameters=True
    Trainer(model=model, args=TrainingArguments("out", ddp_find_unused_parameters=True))
    Trainer(model=unknown, args=TrainingArguments("out", ddp_find_unused_parameters=False))
