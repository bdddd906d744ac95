"""Reconstructed, not the original code: PWC-Net's PyTorch model (PyTorch/models/PWCNet.py, PWCDCNet).

Report: https://github.com/NVlabs/PWC-Net/issues/110 (line 122 of PyTorch/models/PWCNet.py, at 185b0e2, the last
commit before the report): `self.deconv2` is built and never used, so DistributedDataParallel needs
find_unused_parameters=True. The block keeps PWCDCNet's shape with two of its six pyramid levels: each coarser
level predicts a flow and upsamples it and its features (`deconv<l>`, `upfeat<l>`) for the next; the last level
predicts `flow2`, refined by the dilated context network, and builds `deconv2` like the others but never calls it.
The correlation layer (a CUDA extension in the original) is stood in for by a parameter-free product of the two
feature maps, the dense conv stacks by two convs per level. The repository has no training code: the step is the
paper's multi-scale loss over the flows the model returns in training.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv(in_planes, out_planes, kernel_size=3, stride=1, padding=1, dilation=1):
    return nn.Sequential(
        nn.Conv2d(in_planes, out_planes, kernel_size=kernel_size, stride=stride, padding=padding,
                  dilation=dilation, bias=True),
        nn.LeakyReLU(0.1))


def predict_flow(in_planes):
    return nn.Conv2d(in_planes, 2, kernel_size=3, stride=1, padding=1, bias=True)


def deconv(in_planes, out_planes, kernel_size=4, stride=2, padding=1):
    return nn.ConvTranspose2d(in_planes, out_planes, kernel_size, stride, padding, bias=True)


class PWCDCNet(nn.Module):
    def __init__(self, nd=4):
        super().__init__()
        self.nd = nd
        self.conv2a = conv(3, 8, kernel_size=3, stride=2)
        self.conv2aa = conv(8, 8)
        self.conv2b = conv(8, 8)
        self.conv3a = conv(8, 16, kernel_size=3, stride=2)
        self.conv3aa = conv(16, 16)
        self.conv3b = conv(16, 16)
        self.leakyRELU = nn.LeakyReLU(0.1)

        od = nd
        self.conv3_0 = conv(od, 16)
        self.conv3_1 = conv(od + 16, 8)
        self.predict_flow3 = predict_flow(od + 24)
        self.deconv3 = deconv(2, 2, kernel_size=4, stride=2, padding=1)
        self.upfeat3 = deconv(od + 24, 2, kernel_size=4, stride=2, padding=1)

        od = nd + 8 + 4
        self.conv2_0 = conv(od, 16)
        self.conv2_1 = conv(od + 16, 8)
        self.predict_flow2 = predict_flow(od + 24)
        self.deconv2 = deconv(2, 2, kernel_size=4, stride=2, padding=1)

        self.dc_conv1 = conv(od + 24, 16, kernel_size=3, stride=1, padding=1, dilation=1)
        self.dc_conv2 = conv(16, 16, kernel_size=3, stride=1, padding=2, dilation=2)
        self.dc_conv7 = predict_flow(16)

    def corr(self, a, b):
        return (a * b).mean(dim=1, keepdim=True).repeat(1, self.nd, 1, 1)

    def warp(self, x, flo):
        B, C, H, W = x.size()
        xx = torch.arange(0, W).view(1, -1).repeat(H, 1).view(1, 1, H, W).repeat(B, 1, 1, 1)
        yy = torch.arange(0, H).view(-1, 1).repeat(1, W).view(1, 1, H, W).repeat(B, 1, 1, 1)
        vgrid = torch.cat((xx, yy), 1).float() + flo
        vgrid = torch.stack((2.0 * vgrid[:, 0] / max(W - 1, 1) - 1.0, 2.0 * vgrid[:, 1] / max(H - 1, 1) - 1.0), 3)
        return F.grid_sample(x, vgrid, align_corners=True)

    def forward(self, x):
        im1 = x[:, :3, :, :]
        im2 = x[:, 3:, :, :]
        c12 = self.conv2b(self.conv2aa(self.conv2a(im1)))
        c22 = self.conv2b(self.conv2aa(self.conv2a(im2)))
        c13 = self.conv3b(self.conv3aa(self.conv3a(c12)))
        c23 = self.conv3b(self.conv3aa(self.conv3a(c22)))

        corr3 = self.leakyRELU(self.corr(c13, c23))
        x = torch.cat((self.conv3_0(corr3), corr3), 1)
        x = torch.cat((self.conv3_1(x), x), 1)
        flow3 = self.predict_flow3(x)
        up_flow3 = self.deconv3(flow3)
        up_feat3 = self.upfeat3(x)

        warp2 = self.warp(c22, up_flow3 * 5.0)
        corr2 = self.leakyRELU(self.corr(c12, warp2))
        x = torch.cat((corr2, c12, up_flow3, up_feat3), 1)
        x = torch.cat((self.conv2_0(x), x), 1)
        x = torch.cat((self.conv2_1(x), x), 1)
        flow2 = self.predict_flow2(x)

        x = self.dc_conv2(self.dc_conv1(x))
        flow2 = flow2 + self.dc_conv7(x)

        if self.training:
            return flow2, flow3
        else:
            return flow2


def multiscale_loss(flows, target):
    loss = 0
    for weight, flow in zip((0.32, 0.08), flows):
        loss = loss + weight * (flow - F.interpolate(target, flow.shape[-2:])).norm(dim=1).mean()
    return loss


def build():
    torch.manual_seed(0)
    model = PWCDCNet()
    batches = [(torch.randn(2, 6, 16, 16), torch.randn(2, 2, 16, 16)) for _ in range(2)]
    return {"model": model, "step": lambda m, b: multiscale_loss(m(b[0]), b[1]), "batches": batches}
