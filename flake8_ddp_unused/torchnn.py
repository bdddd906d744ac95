"""Facts about torch.nn that the analysis needs, read off torch 2.13 (see tests/test_torchnn_table.py)."""
from __future__ import annotations

from typing import Dict, Tuple

# torch.nn layers that own parameters with their default arguments.
PARAMETER_LAYERS = frozenset(
    """
    BatchNorm1d BatchNorm2d BatchNorm3d Bilinear Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d
    ConvTranspose3d Embedding EmbeddingBag GRU GRUCell GroupNorm LSTM LSTMCell LayerNorm LazyBatchNorm1d
    LazyBatchNorm2d LazyBatchNorm3d LazyConv1d LazyConv2d LazyConv3d LazyConvTranspose1d
    LazyConvTranspose2d LazyConvTranspose3d LazyLinear Linear MultiheadAttention PReLU RMSNorm RNN RNNCell
    SyncBatchNorm Transformer TransformerDecoder TransformerDecoderLayer TransformerEncoder
    TransformerEncoderLayer AdaptiveLogSoftmaxWithLoss LinearCrossEntropyLoss
    """.split()
)

# Layers whose parameters exist only when an argument says so: name -> (keyword, position, default).
CONDITIONAL_PARAMETERS: Dict[str, Tuple[str, int, bool]] = {
    "BatchNorm1d": ("affine", 3, True),
    "BatchNorm2d": ("affine", 3, True),
    "BatchNorm3d": ("affine", 3, True),
    "SyncBatchNorm": ("affine", 3, True),
    "LazyBatchNorm1d": ("affine", 2, True),
    "LazyBatchNorm2d": ("affine", 2, True),
    "LazyBatchNorm3d": ("affine", 2, True),
    "InstanceNorm1d": ("affine", 3, False),
    "InstanceNorm2d": ("affine", 3, False),
    "InstanceNorm3d": ("affine", 3, False),
    "LazyInstanceNorm1d": ("affine", 2, True),  # unlike InstanceNorm, the lazy ones default to affine
    "LazyInstanceNorm2d": ("affine", 2, True),
    "LazyInstanceNorm3d": ("affine", 2, True),
    "GroupNorm": ("affine", 3, True),
    "LayerNorm": ("elementwise_affine", 2, True),
    "RMSNorm": ("elementwise_affine", 2, True),
}

# torch.nn layers without parameters (activations, pooling, dropout, losses, padding, ...).
PARAMETERLESS_LAYERS = frozenset(
    """
    AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveAvgPool3d AdaptiveMaxPool1d AdaptiveMaxPool2d
    AdaptiveMaxPool3d AlphaDropout AvgPool1d AvgPool2d AvgPool3d BCELoss BCEWithLogitsLoss CELU CTCLoss
    ChannelShuffle CircularPad1d CircularPad2d CircularPad3d ConstantPad1d ConstantPad2d ConstantPad3d
    CosineEmbeddingLoss CosineSimilarity CrossEntropyLoss CrossMapLRN2d Dropout Dropout1d Dropout2d
    Dropout3d ELU FeatureAlphaDropout Flatten Fold FractionalMaxPool2d FractionalMaxPool3d GELU GLU
    GaussianNLLLoss Hardshrink Hardsigmoid Hardswish Hardtanh HingeEmbeddingLoss HuberLoss Identity
    KLDivLoss L1Loss LPPool1d LPPool2d LPPool3d LeakyReLU LocalResponseNorm LogSigmoid LogSoftmax MSELoss
    MarginRankingLoss MaxPool1d MaxPool2d MaxPool3d MaxUnpool1d MaxUnpool2d MaxUnpool3d Mish
    MultiLabelMarginLoss MultiLabelSoftMarginLoss MultiMarginLoss NLLLoss NLLLoss2d PairwiseDistance
    PixelShuffle PixelUnshuffle PoissonNLLLoss RReLU ReLU ReLU6 ReflectionPad1d ReflectionPad2d
    ReflectionPad3d ReplicationPad1d ReplicationPad2d ReplicationPad3d SELU SiLU Sigmoid SmoothL1Loss
    SoftMarginLoss Softmax Softmax2d Softmin Softplus Softshrink Softsign Tanh Tanhshrink Threshold
    TripletMarginLoss TripletMarginWithDistanceLoss Unflatten Unfold Upsample UpsamplingBilinear2d
    UpsamplingNearest2d ZeroPad1d ZeroPad2d ZeroPad3d Buffer
    """.split()
)

CONTAINERS = frozenset({"Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"})

# OpenMMLab's module classes (mmengine, and mmcv 1.x's `runner`) are torch.nn's with an `init_cfg` for weight
# initialisation, and touch no attribute of a subclass. Model code (an mmdet or mmpretrain wheel) is rarely
# installed beside their sources, so they are read as the torch.nn class they extend.
FRAMEWORK_MODULE_BASES = frozenset({
    "mmengine.model.BaseModule", "mmengine.model.base_module.BaseModule",
    "mmcv.runner.BaseModule", "mmcv.runner.base_module.BaseModule",
})
FRAMEWORK_CONTAINERS: Dict[str, str] = {
    f"{module}.{name}": name
    for module in ("mmengine.model", "mmengine.model.base_module", "mmcv.runner", "mmcv.runner.base_module")
    for name in ("Sequential", "ModuleList", "ModuleDict")
}
PARAMETER_CLASSES = frozenset({"torch.nn.Parameter", "torch.nn.parameter.Parameter", "torch.Parameter"})

# Calls that build modules with parameters, outside torch.nn (qualified-name prefixes and suffixes).
KNOWN_MODEL_FACTORY_PREFIXES = ("torchvision.models.", "timm.create_model", "timm.models.")
TRANSFORMERS_MODEL_SUFFIXES = (".from_pretrained", ".from_config")


def torch_nn_layer(qualname: str) -> str:
    """'Linear' for torch.nn.Linear / torch.nn.modules.linear.Linear, '' otherwise."""
    if qualname in FRAMEWORK_CONTAINERS:
        return FRAMEWORK_CONTAINERS[qualname]
    if qualname.startswith("torch.nn.") and qualname.count(".") >= 2:
        last = qualname.rsplit(".", 1)[-1]
        if qualname.startswith(("torch.nn.functional.", "torch.nn.init.", "torch.nn.utils.")):
            return ""
        return last
    return ""
