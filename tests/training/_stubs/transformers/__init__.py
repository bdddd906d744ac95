"""Stand-in for transformers' Trainer: DDP with find_unused_parameters = ddp_find_unused_parameters, or
True when it is None (transformers' default without gradient checkpointing); each step calls
self.compute_loss(wrapped_model, inputs) and backpropagates the loss."""
from torch.nn.parallel import DistributedDataParallel


class TrainingArguments:
    def __init__(self, output_dir, ddp_find_unused_parameters=None, max_steps=3, **kwargs):
        self.output_dir = output_dir
        self.ddp_find_unused_parameters = ddp_find_unused_parameters
        self.max_steps = max_steps


class Trainer:
    def __init__(self, model=None, args=None, train_dataset=None, **kwargs):
        self.model = model
        self.args = args
        self.train_dataset = train_dataset

    def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
        outputs = model(**inputs)
        loss = outputs["loss"]
        return (loss, outputs) if return_outputs else loss

    def train(self):
        flag = self.args.ddp_find_unused_parameters
        wrapped = DistributedDataParallel(self.model, find_unused_parameters=True if flag is None else flag)
        for step, batch in enumerate(self.train_dataset):
            if step >= self.args.max_steps:
                break
            self.compute_loss(wrapped, dict(batch)).backward()
