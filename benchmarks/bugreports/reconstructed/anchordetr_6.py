"""Reconstructed, not the original code: the shape of AnchorDETR's models/transformer.py at commit 7b1f11c.

Report: https://github.com/megvii-research/AnchorDETR/issues/6 (the maintainer names models/transformer.py
L55 and L289-290 as the lines to delete). With one feature level (the default single-level setting), the
level embedding feeds only the level encoder layers, which are not built; every decoder layer builds a
level attention it never calls, and a level projection used only when there are several levels.
"""
import torch
import torch.nn as nn


class TransformerDecoderLayer(nn.Module):
    def __init__(self, d_model=16, n_heads=2, n_levels=1):
        super().__init__()
        self.cross_attn = nn.MultiheadAttention(d_model, n_heads)
        self.norm1 = nn.LayerNorm(d_model)
        self.self_attn = nn.MultiheadAttention(d_model, n_heads)
        self.norm2 = nn.LayerNorm(d_model)
        # self attention
        self.self_attn_level = nn.MultiheadAttention(d_model, n_heads)
        self.level_fc = nn.Linear(d_model * n_levels, d_model)
        self.ffn = nn.Linear(d_model, d_model)

    def forward(self, tgt, srcs):
        tgt2 = self.self_attn(tgt, tgt, tgt)[0]
        tgt = self.norm2(tgt + tgt2)
        bz, l, c, n = srcs.shape
        mem = srcs.reshape(bz * l, c, n).permute(2, 0, 1)
        tgt2 = self.cross_attn(tgt.repeat(1, l, 1), mem, mem)[0]
        if l > 1:
            tgt2 = self.level_fc(tgt2.reshape(tgt.shape[0], bz, l * c))
        tgt = self.norm1(tgt + tgt2)
        return self.ffn(tgt)


class Transformer(nn.Module):
    def __init__(self, d_model=16, num_decoder_layers=2, num_feature_levels=1, num_query=4):
        super().__init__()
        decoder_layer = TransformerDecoderLayer(d_model, 2, num_feature_levels)
        if num_feature_levels == 1:
            self.num_encoder_layers_level = 0
        else:
            self.num_encoder_layers_level = 1
        self.encoder_layers = nn.ModuleList([nn.Linear(d_model, d_model) for _ in range(2)])
        self.encoder_layers_level = nn.ModuleList(
            [nn.Linear(d_model, d_model) for _ in range(self.num_encoder_layers_level)])
        self.decoder_layers = nn.ModuleList([decoder_layer for _ in range(num_decoder_layers)])
        self.level_embed = nn.Embedding(num_feature_levels, d_model)
        self.pattern = nn.Embedding(num_query, d_model)
        self.class_embed = nn.Linear(d_model, 3)

    def forward(self, srcs):
        bs, l, c, n = srcs.shape
        outputs = srcs.permute(0, 1, 3, 2)
        for idx in range(len(self.encoder_layers)):
            outputs = self.encoder_layers[idx](outputs)
            if idx < self.num_encoder_layers_level:
                outputs = self.encoder_layers_level[idx](outputs + self.level_embed.weight[None, :, None, :])
        srcs = outputs.permute(0, 1, 3, 2)
        output = self.pattern.weight[:, None, :].repeat(1, bs, 1)
        for layer in self.decoder_layers:
            output = layer(output, srcs)
        return self.class_embed(output)


def build():
    torch.manual_seed(0)
    model = Transformer()
    batches = [torch.randn(2, 1, 16, 5) for _ in range(2)]
    return {"model": model, "step": lambda m, x: m(x).sum(), "batches": batches}


# Parameters torch leaves without gradient (checked by run.py --verify).
