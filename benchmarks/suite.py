"""The benchmark shape suite: convolution and pooling layers taken from real CNNs.

Each ``Layer`` is one call of a ``torch.nn.functional`` / ``torchconv.functional`` op on an
``(N, C, H, W)`` input with ``H = W = size``. Convolutions use a bias-free weight of shape
``(out_channels, channels / groups, kernel, kernel)``, as in the networks they come from.

``batch`` is the CPU batch size, chosen so that one forward takes roughly 2-30 ms on a 2-core
AVX-512 machine; the GPU runs a larger batch (see ``bench.py --gpu-batch-scale``). ``quick`` marks
the subset that ``bench.py --quick`` runs.
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Layer:
    name: str                 # <model>_<layer>; what --filter matches
    op: str                   # function name in torch.nn.functional and torchconv.functional
    channels: int             # input channels C
    size: int                 # input height = width
    out_channels: int = 0     # conv2d: K
    kernel: int = 0           # conv2d: weight kernel size R = S
    args: dict = field(default_factory=dict)  # the op's keyword arguments (stride, padding, ...)
    batch: int = 8
    quick: bool = False

    @property
    def is_conv(self):
        return self.op == "conv2d"


def _conv(name, c, k, size, kernel, batch=8, quick=False, **args):
    return Layer(name, "conv2d", c, size, k, kernel, args, batch, quick)


def _pool(name, op, c, size, batch=8, quick=False, **args):
    return Layer(name, op, c, size, args=args, batch=batch, quick=quick)


CONV_LAYERS = [
    # ResNet-50 (He et al. 2016): stem, bottleneck 3x3 and 1x1 convolutions, projection shortcut.
    _conv("resnet50_stem_7x7s2_3-64@224", 3, 64, 224, 7, batch=4, quick=True, stride=2, padding=3),
    _conv("resnet50_3x3_64@56", 64, 64, 56, 3, quick=True, padding=1),
    _conv("resnet50_3x3s2_128@56", 128, 128, 56, 3, stride=2, padding=1),
    _conv("resnet50_3x3_256@14", 256, 256, 14, 3, padding=1),
    _conv("resnet50_1x1_64-256@56", 64, 256, 56, 1),
    _conv("resnet50_1x1_256-64@56", 256, 64, 56, 1, quick=True),
    _conv("resnet50_1x1_1024-256@14", 1024, 256, 14, 1),
    _conv("resnet50_down_1x1s2_256-512@56", 256, 512, 56, 1, stride=2),
    # MobileNetV2: depthwise 3x3 (groups = channels), stride 1 and stride 2.
    _conv("mobilenetv2_dw3x3_144@56", 144, 144, 56, 3, quick=True, padding=1, groups=144),
    _conv("mobilenetv2_dw3x3s2_96@112", 96, 96, 112, 3, stride=2, padding=1, groups=96),
    # ResNeXt-50 32x4d: grouped 3x3 of the first stage.
    _conv("resnext50_g32_3x3_128@56", 128, 128, 56, 3, quick=True, padding=1, groups=32),
    # DeepLabv3: atrous (dilated) 3x3 convolutions of the backbone's last stages.
    _conv("deeplab_3x3d2_256@33", 256, 256, 33, 3, batch=2, quick=True, padding=2, dilation=2),
    _conv("deeplab_3x3d4_512@28", 512, 512, 28, 3, batch=1, padding=4, dilation=4),
    # LeNet-5: tiny convolutions, dominated by per-call overhead.
    _conv("lenet5_c1_5x5_1-6@32", 1, 6, 32, 5, batch=64),
    _conv("lenet5_c2_5x5_6-16@14", 6, 16, 14, 5, batch=64, quick=True),
]

POOL_LAYERS = [
    _pool("resnet50_maxpool_3x3s2_64@112", "max_pool2d", 64, 112, quick=True,
          kernel_size=3, stride=2, padding=1),
    _pool("vgg_maxpool_2x2_128@112", "max_pool2d", 128, 112, kernel_size=2, stride=2),
    _pool("vgg_maxpool_2x2_512@28", "max_pool2d", 512, 28, kernel_size=2, stride=2),
    # DenseNet-121 transition layer: 2x2 average pooling.
    _pool("densenet_avgpool_2x2_128@56", "avg_pool2d", 128, 56, quick=True, kernel_size=2, stride=2),
    # ResNet-50 head: global average pooling of the last feature map.
    _pool("resnet50_gap_2048@7", "adaptive_avg_pool2d", 2048, 7, batch=64, quick=True, output_size=1),
    # SPP-net: adaptive max pooling of conv5 to a 4x4 grid (overlapping, uneven windows).
    _pool("sppnet_adaptivemax_4x4_256@13", "adaptive_max_pool2d", 256, 13, batch=64, output_size=4),
]

LAYERS = CONV_LAYERS + POOL_LAYERS
