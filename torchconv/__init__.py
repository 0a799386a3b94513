"""torchconv: 2-D convolution, transposed convolution and pooling on hand-written CPU (OpenMP) and
CUDA kernels, as PyTorch custom operators with autograd and drop-in ``torch.nn`` layers.

    import torchconv
    y = torchconv.conv2d(x, w, padding=1)          # same signature as torch.nn.functional.conv2d
    model = torchconv.convert(model)               # swap a model's conv/pool layers
"""
from . import _ops  # noqa: F401  (registers the ops, their autograd and fake kernels)
from . import functional, nn
from .convert import convert
from .functional import (adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, conv2d, conv_transpose2d,
                         max_pool2d)

__version__ = "0.1.0"


def cpu_isa():
    """The CPU instruction set the kernels use: 'avx512', 'avx2' or 'scalar' (TORCHCONV_CPU_ISA forces one)."""
    return _ops.cpu_isa()


__all__ = ["conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
           "functional", "nn", "convert", "cpu_isa"]
