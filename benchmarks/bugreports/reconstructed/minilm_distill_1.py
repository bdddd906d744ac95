"""Reconstructed, not the original code: MiniLM-style distillation of a BERT student (training code).

Report: https://github.com/joanaapa/Distillation-DNABERT-Promoter/issues/1 (same report in
jongwooko/Pytorch-MiniLM#3; the maintainer agrees: the last layers are not used by the MiniLM objective and can be
removed). The loss uses only the student's last-layer self-attention distributions, so the rest of that layer
and the masked-LM head of `BertForMaskedLM` never reach the loss.
"""
import torch
import torch.nn.functional as F
from transformers import BertConfig, BertForMaskedLM


def distill_step(student, input_ids, teacher_attention):
    outputs = student(input_ids=input_ids, output_attentions=True)
    student_attention = outputs.attentions[-1]
    loss = F.kl_div(torch.log(student_attention + 1e-12), teacher_attention, reduction="batchmean")
    loss.backward()
    return loss


def main():
    config = BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=16, max_position_embeddings=16)
    student = BertForMaskedLM(config)
    input_ids = torch.randint(0, 30, (2, 5))
    teacher_attention = torch.softmax(torch.randn(2, 2, 5, 5), dim=-1)
    distill_step(student, input_ids, teacher_attention)


def build():
    torch.manual_seed(0)
    config = BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=16, max_position_embeddings=16, attn_implementation="eager")
    student = BertForMaskedLM(config)
    teacher_attention = torch.softmax(torch.randn(2, 2, 5, 5), dim=-1)

    def step(model, input_ids):
        att = model(input_ids=input_ids, output_attentions=True).attentions[-1]
        return F.kl_div(torch.log(att + 1e-12), teacher_attention, reduction="batchmean")

    batches = [torch.randint(0, 30, (2, 5)) for _ in range(2)]
    return {"model": student, "step": step, "batches": batches}


# The report's list (last-layer FFN, masked-LM head); with only the attention distributions in the loss, the last
# layer's value projection and attention output get none either (MiniLM adds a value-relation term for those).
