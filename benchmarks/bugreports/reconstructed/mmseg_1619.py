"""Reconstructed, not the original code: mmsegmentation's ResNet backbone with the reporter's one-line change.

Report: https://github.com/open-mmlab/mmsegmentation/issues/1619 ("when I add self.fc = nn.Linear(2048, num_classes)
in mmseg/backbone/resnet.py 529 line" the distributed run stops with the unused-parameter error). The backbone keeps
mmseg's shape: residual stages added with `add_module` and named in `self.res_layers`, a forward that returns the
stage outputs listed in `out_indices`; the segmentor feeds them to a decode head. Nothing calls the added `fc`.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, in_channels=3, stem_channels=8, base_channels=8, num_stages=4, strides=(1, 2, 2, 2),
                 out_indices=(0, 1, 2, 3), num_classes=3):
        super().__init__()
        self.out_indices = out_indices
        self.conv1 = nn.Conv2d(in_channels, stem_channels, 7, stride=2, padding=3, bias=False)
        self.norm1 = nn.BatchNorm2d(stem_channels)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.res_layers = []
        inplanes = stem_channels
        for i in range(num_stages):
            planes = base_channels * 2 ** i
            res_layer = BasicBlock(inplanes, planes, stride=strides[i])
            inplanes = planes
            layer_name = f"layer{i + 1}"
            self.add_module(layer_name, res_layer)
            self.res_layers.append(layer_name)
        self.feat_dim = inplanes
        self.fc = nn.Linear(inplanes, num_classes)  # the reporter's addition (2048 channels in ResNet-50)

    def forward(self, x):
        x = self.maxpool(F.relu(self.norm1(self.conv1(x))))
        outs = []
        for i, layer_name in enumerate(self.res_layers):
            res_layer = getattr(self, layer_name)
            x = res_layer(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)


class FCNHead(nn.Module):
    def __init__(self, in_channels=64, channels=8, num_classes=3, in_index=-1):
        super().__init__()
        self.in_index = in_index
        self.convs = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.conv_seg = nn.Conv2d(channels, num_classes, 1)

    def forward(self, inputs):
        return self.conv_seg(F.relu(self.convs(inputs[self.in_index])))


class EncoderDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = ResNet()
        self.decode_head = FCNHead(in_channels=self.backbone.feat_dim)

    def forward(self, img, gt_semantic_seg):
        x = self.backbone(img)
        seg_logits = self.decode_head(x)
        seg_logits = F.interpolate(seg_logits, size=img.shape[2:], mode="bilinear", align_corners=False)
        return {"loss_seg": F.cross_entropy(seg_logits, gt_semantic_seg)}


def build():
    torch.manual_seed(0)
    model = EncoderDecoder()
    batches = [(torch.randn(2, 3, 32, 32), torch.randint(0, 3, (2, 32, 32))) for _ in range(2)]
    return {"model": model, "step": lambda m, b: m(*b)["loss_seg"], "batches": batches}
