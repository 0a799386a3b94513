"""Registers autograd formulas and fake (meta) kernels for the torchconv ops declared in C++.

Every backward formula is built from torchconv's own ops, and those backward ops have autograd
formulas too, so gradients of gradients (double backward) are computed by torchconv kernels:

    y  = conv2d(x, w)             dx = conv2d_input_grad(dy, w)        dw = conv2d_weight_grad(dy, x)
    dx = conv2d_input_grad(dy, w):    d(dy) = conv2d(g, w)              d(w) = conv2d_weight_grad(dy, g)
    dw = conv2d_weight_grad(dy, x):   d(dy) = conv2d(x, g)              d(x) = conv2d_input_grad(dy, g)

Pooling backward ops are linear in the incoming gradient; their own gradient is the forward pooling
(average) or a gather at the saved indices (max).
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


# ---------------------------------------------------------------------------------------------
# Autograd
#
# Gradients come back in the layout of the forward's input, as PyTorch's do: each forward op's
# backward first lays the incoming gradient out like the forward output (_save_layout/_as_saved).

def _save_layout(ctx, output):
    out = output[0] if isinstance(output, tuple) else output
    ctx.layout = suggest_memory_format(out) if out.dim() == 4 else torch.contiguous_format


def _as_saved(ctx, grad):
    return grad.contiguous(memory_format=ctx.layout) if grad.dim() == 4 else grad


def _conv2d_setup(ctx, inputs, output):
    _save_layout(ctx, output)
    input, weight, bias, *args = inputs
    ctx.save_for_backward(input, weight)
    ctx.args = args
    ctx.has_bias = bias is not None


def _conv2d_backward(ctx, grad):
    grad = _as_saved(ctx, grad)
    input, weight = ctx.saved_tensors
    gi = gw = gb = None
    if ctx.needs_input_grad[0]:
        gi = ops.conv2d_input_grad(grad, weight, list(input.shape), *ctx.args)
    if ctx.needs_input_grad[1]:
        gw = ops.conv2d_weight_grad(grad, input, list(weight.shape), *ctx.args)
    if ctx.has_bias and ctx.needs_input_grad[2]:
        gb = grad.sum(dim=(0, 2, 3) if grad.dim() == 4 else (1, 2))
    return gi, gw, gb, None, None, None, None


def _conv2d_input_grad_setup(ctx, inputs, output):
    _save_layout(ctx, output)
    grad_output, weight, input_size, *args = inputs
    ctx.save_for_backward(grad_output, weight)
    ctx.args = args


def _conv2d_input_grad_backward(ctx, g):
    g = _as_saved(ctx, g)
    grad_output, weight = ctx.saved_tensors
    g_go = g_w = None
    if ctx.needs_input_grad[0]:
        g_go = ops.conv2d(g, weight, None, *ctx.args)
    if ctx.needs_input_grad[1]:
        g_w = ops.conv2d_weight_grad(grad_output, g, list(weight.shape), *ctx.args)
    return g_go, g_w, None, None, None, None, None


def _conv2d_weight_grad_setup(ctx, inputs, output):
    _save_layout(ctx, output)
    grad_output, input, weight_size, *args = inputs
    ctx.save_for_backward(grad_output, input)
    ctx.args = args


def _conv2d_weight_grad_backward(ctx, g):
    g = _as_saved(ctx, g)
    grad_output, input = ctx.saved_tensors
    g_go = g_in = None
    if ctx.needs_input_grad[0]:
        g_go = ops.conv2d(input, g, None, *ctx.args)
    if ctx.needs_input_grad[1]:
        g_in = ops.conv2d_input_grad(grad_output, g, list(input.shape), *ctx.args)
    return g_go, g_in, None, None, None, None, None


def _max_setup(ctx, inputs, output):
    _save_layout(ctx, output)
    ctx.input_size = list(inputs[0].shape)
    ctx.save_for_backward(output[1])
    # The indices output has no gradient: without this, autograd would fill a zero tensor the size of
    # the indices for it on every backward.
    ctx.set_materialize_grads(False)


def _max_input_grad(ctx, grad):
    (indices,) = ctx.saved_tensors
    if grad is None:  # only the indices were used
        return None
    return ops.max_pool2d_backward(_as_saved(ctx, grad), indices, ctx.input_size)


def _max_backward(ctx, grad, grad_indices):
    return (_max_input_grad(ctx, grad),) + (None,) * 5


def _adaptive_max_backward(ctx, grad, grad_indices):
    return _max_input_grad(ctx, grad), None


def _max_values_backward(ctx, grad):
    raise RuntimeError("torchconv.max_pool2d_values: has no gradient (it keeps no indices); "
                       "use torchconv.max_pool2d where one is needed")


def _max_pool2d_backward_setup(ctx, inputs, output):
    grad_output, indices, input_size = inputs
    ctx.save_for_backward(indices)


def _max_pool2d_backward_backward(ctx, g):
    # d(grad_input)/d(grad_output) is a gather of g at the saved argmax positions.
    (indices,) = ctx.saved_tensors
    flat = g.reshape(*g.shape[:-2], -1)
    idx = indices.reshape(*indices.shape[:-2], -1)
    return flat.gather(-1, idx).reshape(indices.shape), None, None


def _avg_pool2d_setup(ctx, inputs, output):
    _save_layout(ctx, output)
    ctx.input_size = list(inputs[0].shape)
    ctx.args = inputs[1:]


def _avg_pool2d_backward(ctx, grad):
    return (ops.avg_pool2d_backward(_as_saved(ctx, grad), ctx.input_size, *ctx.args),) + (None,) * 6


def _avg_pool2d_backward_setup(ctx, inputs, output):
    ctx.args = inputs[2:]


def _avg_pool2d_backward_backward(ctx, g):
    return (ops.avg_pool2d(g, *ctx.args),) + (None,) * 7


def _adaptive_avg_setup(ctx, inputs, output):
    _save_layout(ctx, output)
    ctx.input_size = list(inputs[0].shape)


def _adaptive_avg_backward(ctx, grad):
    return ops.adaptive_avg_pool2d_backward(_as_saved(ctx, grad), ctx.input_size), None


def _adaptive_avg_backward_setup(ctx, inputs, output):
    ctx.output_size = list(inputs[0].shape[-2:])


def _adaptive_avg_backward_backward(ctx, g):
    return ops.adaptive_avg_pool2d(g, ctx.output_size), None


for _name, _bwd, _setup in [
    ("conv2d", _conv2d_backward, _conv2d_setup),
    ("conv2d_input_grad", _conv2d_input_grad_backward, _conv2d_input_grad_setup),
    ("conv2d_weight_grad", _conv2d_weight_grad_backward, _conv2d_weight_grad_setup),
    ("max_pool2d", _max_backward, _max_setup),
    ("max_pool2d_values", _max_values_backward, None),
    ("adaptive_max_pool2d", _adaptive_max_backward, _max_setup),
    ("max_pool2d_backward", _max_pool2d_backward_backward, _max_pool2d_backward_setup),
    ("avg_pool2d", _avg_pool2d_backward, _avg_pool2d_setup),
    ("avg_pool2d_backward", _avg_pool2d_backward_backward, _avg_pool2d_backward_setup),
    ("adaptive_avg_pool2d", _adaptive_avg_backward, _adaptive_avg_setup),
    ("adaptive_avg_pool2d_backward", _adaptive_avg_backward_backward, _adaptive_avg_backward_setup),
]:
    torch.library.register_autograd(f"torchconv::{_name}", _bwd, setup_context=_setup)
