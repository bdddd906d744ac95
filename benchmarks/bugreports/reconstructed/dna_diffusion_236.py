"""Reconstructed, not the original code: DNA-Diffusion's UNet (src/dnadiffusion/models/unet.py before 61fadc1).

Report: https://github.com/pinellolab/DNA-Diffusion/pull/236 ("fix cross_attention, removed unused_parameters
flag", resolves #235): training needed find_unused_parameters=True because the cross-attention's output was
overwritten before use (`crossattention_out = x.view(...)`), so `cross_attn` and `norm_to_cross` got no gradient;
the fix uses `crossattention_out.view(...)` and drops the flag. The block keeps the UNet's shape (time and label
embeddings, the loops over the down and up ModuleLists with their skip connections, the final block, the
cross-attention over the 4 rows of the sequence image conditioned on the time embedding) with one resolution level
instead of three; memory_efficient_attention_pytorch's Attention and the linear attention blocks are stood in for by
small layers. The step is the repository's p_losses (huber loss on the predicted noise, classes dropped at random).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class LearnedSinusoidalPosEmb(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(dim // 2))

    def forward(self, x):
        x = x[:, None]
        freqs = x * self.weights[None, :] * 2 * math.pi
        return torch.cat((x, freqs.sin(), freqs.cos()), dim=-1)


class Block(nn.Module):
    def __init__(self, dim, dim_out, groups=8):
        super().__init__()
        self.proj = nn.Conv2d(dim, dim_out, 3, padding=1)
        self.norm = nn.GroupNorm(groups, dim_out)
        self.act = nn.SiLU()

    def forward(self, x, scale_shift=None):
        x = self.norm(self.proj(x))
        if scale_shift is not None:
            scale, shift = scale_shift
            x = x * (scale + 1) + shift
        return self.act(x)


class ResnetBlock(nn.Module):
    def __init__(self, dim, dim_out, *, time_emb_dim, groups=8):
        super().__init__()
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(time_emb_dim, dim_out * 2))
        self.block1 = Block(dim, dim_out, groups=groups)
        self.block2 = Block(dim_out, dim_out, groups=groups)
        self.res_conv = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

    def forward(self, x, time_emb=None):
        scale_shift = None
        if time_emb is not None:
            time_emb = self.mlp(time_emb)[:, :, None, None]
            scale_shift = time_emb.chunk(2, dim=1)
        h = self.block2(self.block1(x, scale_shift=scale_shift))
        return h + self.res_conv(x)


class Residual(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x) + x


class CrossAttention(nn.Module):
    """Stands in for memory_efficient_attention_pytorch.Attention(dim, dim_head, heads=1)."""

    def __init__(self, dim, dim_head=8):
        super().__init__()
        self.scale = dim_head ** -0.5
        self.to_q = nn.Linear(dim, dim_head, bias=False)
        self.to_kv = nn.Linear(dim, dim_head * 2, bias=False)
        self.to_out = nn.Linear(dim_head, dim, bias=False)

    def forward(self, x, context):
        q = self.to_q(x)
        k, v = self.to_kv(context).chunk(2, dim=-1)
        attn = (q @ k.transpose(-1, -2) * self.scale).softmax(dim=-1)
        return self.to_out(attn @ v)


class UNet(nn.Module):
    def __init__(self, dim=16, seq_len=16, num_classes=10, learned_sinusoidal_dim=18, output_attention=False):
        super().__init__()
        self.seq_len = seq_len
        self.output_attention = output_attention
        init_dim = dim
        self.init_conv = nn.Conv2d(1, init_dim, (7, 7), padding=3)
        in_out = [(init_dim, dim)]
        time_dim = dim * 4  # = 4 rows x seq_len, as 800 = 4 x 200 in the original
        self.time_mlp = nn.Sequential(
            LearnedSinusoidalPosEmb(learned_sinusoidal_dim),
            nn.Linear(learned_sinusoidal_dim + 1, time_dim),
            nn.GELU(),
            nn.Linear(time_dim, time_dim),
        )
        self.label_emb = nn.Embedding(num_classes, time_dim)
        self.downs = nn.ModuleList([])
        self.ups = nn.ModuleList([])
        for dim_in, dim_out in in_out:
            self.downs.append(nn.ModuleList([
                ResnetBlock(dim_in, dim_in, time_emb_dim=time_dim),
                ResnetBlock(dim_in, dim_in, time_emb_dim=time_dim),
                Residual(nn.Conv2d(dim_in, dim_in, 1)),
                nn.Conv2d(dim_in, dim_out, 3, padding=1),
            ]))
        mid_dim = dim
        self.mid_block1 = ResnetBlock(mid_dim, mid_dim, time_emb_dim=time_dim)
        self.mid_attn = Residual(nn.Conv2d(mid_dim, mid_dim, 1))
        self.mid_block2 = ResnetBlock(mid_dim, mid_dim, time_emb_dim=time_dim)
        for dim_in, dim_out in reversed(in_out):
            self.ups.append(nn.ModuleList([
                ResnetBlock(dim_out + dim_in, dim_out, time_emb_dim=time_dim),
                ResnetBlock(dim_out + dim_in, dim_out, time_emb_dim=time_dim),
                Residual(nn.Conv2d(dim_out, dim_out, 1)),
                nn.Conv2d(dim_out, dim_in, 3, padding=1),
            ]))
        self.final_res_block = ResnetBlock(dim * 2, dim, time_emb_dim=time_dim)
        self.final_conv = nn.Conv2d(dim, 1, 1)
        self.cross_attn = CrossAttention(seq_len)
        self.norm_to_cross = nn.LayerNorm(dim * 4)

    def forward(self, x, time, classes):
        x = self.init_conv(x)
        r = x.clone()
        t_start = self.time_mlp(time)
        t_mid = t_start.clone()
        t_end = t_start.clone()
        t_cross = t_start.clone()
        if classes is not None:
            t_start += self.label_emb(classes)
            t_mid += self.label_emb(classes)
            t_end += self.label_emb(classes)
            t_cross += self.label_emb(classes)
        h = []
        for block1, block2, attn, downsample in self.downs:
            x = block1(x, t_start)
            h.append(x)
            x = block2(x, t_start)
            x = attn(x)
            h.append(x)
            x = downsample(x)
        x = self.mid_block1(x, t_mid)
        x = self.mid_attn(x)
        x = self.mid_block2(x, t_mid)
        for block1, block2, attn, upsample in self.ups:
            x = torch.cat((x, h.pop()), dim=1)
            x = block1(x, t_mid)
            x = torch.cat((x, h.pop()), dim=1)
            x = block2(x, t_mid)
            x = attn(x)
            x = upsample(x)
        x = torch.cat((x, r), dim=1)
        x = self.final_res_block(x, t_end)
        x = self.final_conv(x)
        x_reshaped = x.reshape(-1, 4, self.seq_len)
        t_cross_reshaped = t_cross.reshape(-1, 4, self.seq_len)
        crossattention_out = self.cross_attn(
            self.norm_to_cross(x_reshaped.reshape(-1, 4 * self.seq_len)).reshape(-1, 4, self.seq_len),
            context=t_cross_reshaped,
        )
        crossattention_out = x.view(-1, 1, 4, self.seq_len)
        x = x + crossattention_out
        if self.output_attention:
            return x, crossattention_out
        return x


def p_losses(model, batch, timesteps=50, p_uncond=0.1):
    x_start, classes = batch
    t = torch.randint(0, timesteps, (x_start.shape[0],)).float()
    noise = torch.randn_like(x_start)
    alphas_cumprod = torch.cos((t / timesteps + 0.008) / 1.008 * math.pi / 2) ** 2
    x_noisy = alphas_cumprod.sqrt()[:, None, None, None] * x_start + (1 - alphas_cumprod).sqrt()[:, None, None, None] * noise
    context_mask = torch.bernoulli(torch.zeros(classes.shape[0]) + (1 - p_uncond))
    classes = (classes * context_mask).type(torch.long)
    predicted_noise = model(x_noisy, t, classes)
    return F.smooth_l1_loss(noise, predicted_noise)


def build():
    torch.manual_seed(0)
    model = UNet()
    batches = [(torch.randn(2, 1, 4, 16), torch.randint(1, 10, (2,))) for _ in range(2)]
    return {"model": model, "step": p_losses, "batches": batches}
