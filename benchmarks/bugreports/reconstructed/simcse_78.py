"""Reconstructed, not the original code: SimCSE's BertForCL (simcse/models.py) on the real transformers BertModel.

Report: https://github.com/princeton-nlp/SimCSE/pull/78 ("fix for DDP": remove the unused parameters of the BERT
and RoBERTa encoders, i.e. build them with `add_pooling_layer=False`). The contrastive loss pools the last hidden
state itself (the `cls` pooler type feeds `last_hidden[:, 0]` to its own MLP), so BertModel's pooler runs and
its output is dropped.
"""
import torch
import torch.nn as nn
from transformers import BertConfig
from transformers.models.bert.modeling_bert import BertModel, BertPreTrainedModel


class MLPLayer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, features):
        return self.activation(self.dense(features))


class Similarity(nn.Module):
    def __init__(self, temp):
        super().__init__()
        self.temp = temp
        self.cos = nn.CosineSimilarity(dim=-1)

    def forward(self, x, y):
        return self.cos(x, y) / self.temp


class Pooler(nn.Module):
    def __init__(self, pooler_type):
        super().__init__()
        self.pooler_type = pooler_type

    def forward(self, attention_mask, outputs):
        last_hidden = outputs.last_hidden_state
        if self.pooler_type in ["cls_before_pooler", "cls"]:
            return last_hidden[:, 0]
        return (last_hidden * attention_mask.unsqueeze(-1)).sum(1) / attention_mask.sum(-1).unsqueeze(-1)


class BertForCL(BertPreTrainedModel):
    def __init__(self, config, pooler_type="cls", temp=0.05):
        super().__init__(config)
        self.bert = BertModel(config)
        self.pooler_type = pooler_type
        self.pooler = Pooler(pooler_type)
        if pooler_type == "cls":
            self.mlp = MLPLayer(config)
        self.sim = Similarity(temp=temp)

    def forward(self, input_ids, attention_mask):
        batch_size, num_sent = input_ids.shape[:2]
        input_ids = input_ids.view((-1, input_ids.size(-1)))
        attention_mask = attention_mask.view((-1, attention_mask.size(-1)))
        outputs = self.bert(input_ids, attention_mask=attention_mask, return_dict=True)
        pooler_output = self.pooler(attention_mask, outputs)
        pooler_output = pooler_output.view((batch_size, num_sent, pooler_output.size(-1)))
        if self.pooler_type == "cls":
            pooler_output = self.mlp(pooler_output)
        z1, z2 = pooler_output[:, 0], pooler_output[:, 1]
        cos_sim = self.sim(z1.unsqueeze(1), z2.unsqueeze(0))
        labels = torch.arange(cos_sim.size(0)).long()
        loss = nn.CrossEntropyLoss()(cos_sim, labels)
        return {"loss": loss, "logits": cos_sim}


def build():
    torch.manual_seed(0)
    config = BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=16, max_position_embeddings=16)
    model = BertForCL(config)
    batches = [(torch.randint(0, 30, (3, 2, 5)), torch.ones(3, 2, 5, dtype=torch.long)) for _ in range(2)]
    return {"model": model, "step": lambda m, b: m(*b)["loss"], "batches": batches}
