"""torchconv: 2-D convolution, transposed convolution and pooling on hand-written CPU (OpenMP) and
CUDA kernels, as PyTorch custom operators with autograd and drop-in ``torch.nn`` layers (1-D layers
run on the 2-D kernels with a unit height).

    import torchconv
    y = torchconv.conv2d(x, w, padding=1)          # same signature as torch.nn.functional.conv2d
    model = torchconv.convert(model)               # swap a model's conv/pool layers
    print(torchconv.summary(model, (1, 3, 224, 224)))  # shapes, params, mult-adds, receptive fields
"""
from . import _ops  # noqa: F401  (registers the ops, their autograd and fake kernels)
from . import functional, nn
from .convert import convert
from .functional import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d,
                         avg_pool1d, avg_pool2d, conv1d, conv2d, conv_transpose1d, conv_transpose2d, max_pool1d,
                         max_pool2d)
from .summary import summary

__version__ = "0.1.0"


def cpu_isa():
    """The CPU instruction set the kernels use: 'avx512', 'avx2' or 'scalar', the best the CPU has (CPUID),
    chosen once per process before the first kernel runs; the environment variable TORCHCONV_CPU_ISA forces
    one (an error if the CPU lacks it).

    Example::

        >>> torchconv.cpu_isa()  # doctest: +SKIP
        'avx512'
    """
    return _ops.cpu_isa()


__all__ = functional.__all__ + ["functional", "nn", "convert", "summary", "cpu_isa"]
