"""Loads the torchconv ops (schemas, kernels and autograd are registered by the C++ library) and
registers their fake (meta) kernels, with which torch.compile and torch.export trace them: output
shapes and layouts computed from the inputs' (possibly symbolic) sizes, without running a kernel.
"""
import torch
from torch._prims_common import suggest_memory_format

from . import _C  # loads the library, which registers the op schemas and kernels

ops = torch.ops.torchconv
cpu_isa = _C.cpu_isa


# ---------------------------------------------------------------------------------------------
# Shape arithmetic (the Python twin of csrc/shape.h, used by the fake kernels)

def window_out_size(size, k, pad, stride, dilation, ceil_mode=False):
    """out = floor((in + 2p - d(k-1) - 1) / s) + 1; ceil_mode rounds up unless the last window
    would start inside the right padding."""
    span = size + 2 * pad - dilation * (k - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _pair(v):
    v = list(v)
    return (v[0], v[0]) if len(v) == 1 else (v[0], v[1])


def _empty_like_layout(shape, like, dtype=None, batched=True):
    """A new tensor of `shape` (batched) in the memory format of `like`, squeezed if unbatched."""
    fmt = suggest_memory_format(like) if like.dim() == 4 else torch.contiguous_format
    out = torch.empty(shape, dtype=dtype or like.dtype, device=like.device, memory_format=fmt)
    return out if batched else out.squeeze(0)


def _batched(t):
    return t if t.dim() == 4 else t.unsqueeze(0)


def _conv_layout_source(x, w):
    """conv outputs are channels_last when the input or the weight is (PyTorch's CPU rule)."""
    x4, w4 = _batched(x), _batched(w)
    if suggest_memory_format(x4) == torch.channels_last or suggest_memory_format(w4) == torch.channels_last:
        return x4.contiguous(memory_format=torch.channels_last)
    return x4.contiguous()


# ---------------------------------------------------------------------------------------------
# Fake kernels

@torch.library.register_fake("torchconv::conv2d")
def _conv2d_fake(input, weight, bias, stride, padding, dilation, groups):
    s, p, d = _pair(stride), _pair(padding), _pair(dilation)
    x = _batched(input)
    if weight.dim() != 4 or x.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(f"torchconv.conv2d: Given groups={groups}, weight of size {list(weight.shape)}, expected "
                           f"input{list(x.shape)} to have {weight.shape[1] * groups} channels, but got "
                           f"{x.shape[1]} channels instead")
    shape = (x.shape[0], weight.shape[0],
             window_out_size(x.shape[2], weight.shape[2], p[0], s[0], d[0]),
             window_out_size(x.shape[3], weight.shape[3], p[1], s[1], d[1]))
    return _empty_like_layout(shape, _conv_layout_source(input, weight), batched=input.dim() == 4)


@torch.library.register_fake("torchconv::conv2d_input_grad")
def _conv2d_input_grad_fake(grad_output, weight, input_size, stride, padding, dilation, groups):
    size = list(input_size) if len(input_size) == 4 else [1] + list(input_size)
    return _empty_like_layout(size, _conv_layout_source(grad_output, weight), batched=len(input_size) == 4)


@torch.library.register_fake("torchconv::conv2d_weight_grad")
def _conv2d_weight_grad_fake(grad_output, input, weight_size, stride, padding, dilation, groups):
    return _empty_like_layout(list(weight_size), _conv_layout_source(input, grad_output))


def _pool_fake(input, out_hw, with_indices):
    x = _batched(input)
    src = x.contiguous(memory_format=suggest_memory_format(x))
    shape = (x.shape[0], x.shape[1]) + tuple(out_hw)
    out = _empty_like_layout(shape, src, batched=input.dim() == 4)
    if not with_indices:
        return out
    return out, _empty_like_layout(shape, src, dtype=torch.int64, batched=input.dim() == 4)


@torch.library.register_fake("torchconv::max_pool2d")
def _max_pool2d_fake(input, kernel_size, stride, padding, dilation, ceil_mode):
    k, p, d = _pair(kernel_size), _pair(padding), _pair(dilation)
    s = _pair(stride) if len(stride) else k
    hw = [window_out_size(input.shape[-2 + i], k[i], p[i], s[i], d[i], ceil_mode) for i in range(2)]
    return _pool_fake(input, hw, True)


@torch.library.register_fake("torchconv::max_pool2d_values")
def _max_pool2d_values_fake(input, kernel_size, stride, padding, dilation, ceil_mode):
    return _max_pool2d_fake(input, kernel_size, stride, padding, dilation, ceil_mode)[0]


@torch.library.register_fake("torchconv::avg_pool2d")
def _avg_pool2d_fake(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    k, p = _pair(kernel_size), _pair(padding)
    s = _pair(stride) if len(stride) else k
    hw = [window_out_size(input.shape[-2 + i], k[i], p[i], s[i], 1, ceil_mode) for i in range(2)]
    return _pool_fake(input, hw, False)


@torch.library.register_fake("torchconv::adaptive_avg_pool2d")
def _adaptive_avg_pool2d_fake(input, output_size):
    return _pool_fake(input, list(output_size), False)


@torch.library.register_fake("torchconv::adaptive_max_pool2d")
def _adaptive_max_pool2d_fake(input, output_size):
    return _pool_fake(input, list(output_size), True)


def _pool_grad_fake(grad_output, input_size):
    size = list(input_size) if len(input_size) == 4 else [1] + list(input_size)
    g = _batched(grad_output)
    return _empty_like_layout(size, g.contiguous(memory_format=suggest_memory_format(g)),
                              batched=len(input_size) == 4)


@torch.library.register_fake("torchconv::max_pool2d_backward")
def _max_pool2d_backward_fake(grad_output, indices, input_size):
    return _pool_grad_fake(grad_output, input_size)


@torch.library.register_fake("torchconv::avg_pool2d_backward")
def _avg_pool2d_backward_fake(grad_output, input_size, kernel_size, stride, padding, ceil_mode,
                              count_include_pad, divisor_override):
    return _pool_grad_fake(grad_output, input_size)


@torch.library.register_fake("torchconv::adaptive_avg_pool2d_backward")
def _adaptive_avg_pool2d_backward_fake(grad_output, input_size):
    return _pool_grad_fake(grad_output, input_size)
