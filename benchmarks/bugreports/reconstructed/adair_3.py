"""Reconstructed, not the original code: AdaIR's adaptive frequency learning block (net/model.py, FreModule).

Report: https://github.com/c-yn/AdaIR/issues/3 (lines 339-347 of net/model.py at 69e13fb): under DDP, `self.score_gen`
and `self.conv` are never used, and `self.rate_conv` gets no gradient because its output only sets the size of an
integer mask. The block keeps FreModule's shape: `fft` turns `rate_conv`'s output into integer extents of a
low-frequency mask; the cross-attention blocks and the refinement of the original are stood in for by 1x1 convs.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class FreModule(nn.Module):
    def __init__(self, dim=16, in_dim=3):
        super().__init__()
        self.conv = nn.Conv2d(in_dim, dim, kernel_size=3, stride=1, padding=1, bias=False)
        self.conv1 = nn.Conv2d(in_dim, dim, kernel_size=3, stride=1, padding=1, bias=False)
        self.score_gen = nn.Conv2d(2, 2, 7, padding=3)
        self.para1 = nn.Parameter(torch.zeros(dim, 1, 1))
        self.para2 = nn.Parameter(torch.ones(dim, 1, 1))
        self.channel_cross_l = nn.Conv2d(dim, dim, 1)
        self.channel_cross_h = nn.Conv2d(dim, dim, 1)
        self.frequency_refine = nn.Conv2d(dim, dim, 1)
        self.rate_conv = nn.Sequential(
            nn.Conv2d(dim, dim // 8, 1, bias=False),
            nn.GELU(),
            nn.Conv2d(dim // 8, 2, 1, bias=False),
        )

    def forward(self, x, y):
        _, _, H, W = y.size()
        x = F.interpolate(x, (H, W), mode="bilinear")
        high_feature, low_feature = self.fft(x)
        high_feature = self.channel_cross_l(high_feature) * y
        low_feature = self.channel_cross_h(low_feature) * y
        out = self.frequency_refine(low_feature + high_feature)
        return out * self.para1 + y * self.para2

    def fft(self, x, n=4):
        x = self.conv1(x)
        mask = torch.zeros(x.shape).to(x.device)
        h, w = x.shape[-2:]
        threshold = F.adaptive_avg_pool2d(x, 1)
        threshold = self.rate_conv(threshold).sigmoid()
        for i in range(mask.shape[0]):
            h_ = (h // n * threshold[i, 0, :, :]).int()
            w_ = (w // n * threshold[i, 1, :, :]).int()
            mask[i, :, h // 2 - h_:h // 2 + h_, w // 2 - w_:w // 2 + w_] = 1
        fft = torch.fft.fft2(x, norm="forward", dim=(-2, -1))
        high = torch.abs(torch.fft.ifft2(fft * (1 - mask), norm="forward", dim=(-2, -1)))
        low = torch.abs(torch.fft.ifft2(fft * mask, norm="forward", dim=(-2, -1)))
        return high, low


class AdaIR(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, 3, padding=1)
        self.fre1 = FreModule(dim)
        self.output = nn.Conv2d(dim, 3, 3, padding=1)

    def forward(self, inp_img):
        latent = self.patch_embed(inp_img)
        latent = self.fre1(inp_img, latent)
        return self.output(latent) + inp_img


def build():
    torch.manual_seed(0)
    model = AdaIR()
    batches = [(torch.randn(2, 3, 16, 16), torch.randn(2, 3, 16, 16)) for _ in range(2)]
    return {"model": model, "step": lambda m, b: F.l1_loss(m(b[0]), b[1]), "batches": batches}
