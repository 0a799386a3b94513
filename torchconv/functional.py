"""torchconv's functional API: the signatures, defaults, shape rules and errors of
``torch.nn.functional``, computed by torchconv's own kernels.

Shapes: inputs are ``(N, C, H, W)`` or unbatched ``(C, H, W)``; outputs keep the rank and the memory
format (channels_last in, channels_last out). The 1-D functions take ``(N, C, L)`` or ``(C, L)`` and run
the 2-D ones on a ``(N, C, 1, L)`` view: a unit-height image with a ``(1, k)`` kernel, height stride 1,
height padding 0. As in PyTorch, conv1d and conv_transpose1d return contiguous outputs, the 1-D pools
keep the input's layout, except max_pool1d on the CPU without indices or gradient (contiguous). Every
spatial size follows

    out = floor((in + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1

(pooling with ``ceil_mode=True`` rounds up, but drops a last window that would start in the right
padding).
"""
import numbers

import torch

from ._ops import ops

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d",
           "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d"]


def _ntuple(value, name, n, op=None):
    """int -> (v,) * n; a sequence of one or n ints -> an n-tuple. Anything else is an error in
    torch.nn.functional's wording."""
    if isinstance(value, numbers.Integral):
        return (int(value),) * n
    try:
        values = tuple(int(v) for v in value)
    except TypeError:
        values = ()
    if len(values) == 1:
        return values * n
    if len(values) == n:
        return values
    if op is not None:
        raise RuntimeError(f"{op}: {name} must either be a single int, or a tuple of {('one int', 'two ints')[n - 1]}")
    raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match "
                       f"the convolution dimensions, but got {name}={list(value) if hasattr(value, '__iter__') else value}")


def _pair(value, name, op=None):
    return _ntuple(value, name, 2, op)


def _single(value, name, op=None):
    return _ntuple(value, name, 1, op)[0]


def _is_default_stride(stride):
    """Pooling's stride=None (or an empty sequence) means stride = kernel_size."""
    return stride is None or (not isinstance(stride, numbers.Integral) and len(stride) == 0)


def _unit_height(input, op):
    """(N, C, L) -> (N, C, 1, L) and (C, L) -> (C, 1, L): the view on which a 1-D op runs as a 2-D one."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2D (unbatched) or 3D (batched) input to {op}, but got input of size: "
                           f"{list(input.shape)}")
    return input.unsqueeze(-2)


def _unit_height_weight(weight, op):
    """(K, C, k) -> (K, C, 1, k)."""
    if weight.dim() != 3:
        raise RuntimeError(f"{op}: expected a 3-D weight, but got weight of size {list(weight.shape)}")
    return weight.unsqueeze(-2)


def _same_padding(input, weight, stride, dilation):
    """padding='same': total padding d*(k-1) per dimension, split evenly; an odd total puts the extra
    row/column at the bottom/right by padding the input (as PyTorch does)."""
    if stride != (1, 1):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    total = [dilation[i] * (weight.shape[2 + i] - 1) for i in range(2)]
    left = [t // 2 for t in total]
    extra = [t - 2 * l for t, l in zip(total, left)]
    if any(extra):
        input = torch.nn.functional.pad(input, [0, extra[1], 0, extra[0]])
    return input, tuple(left)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) over ``(N, C, H, W)`` or ``(C, H, W)`` input.

    ``weight`` is ``(K, C/groups, kH, kW)``, ``bias`` ``(K,)``; the output is ``(N, K, P, Q)`` with
    ``P = floor((H + 2*padding[0] - dilation[0]*(kH-1) - 1) / stride[0]) + 1`` (Q likewise).
    ``padding`` is an int, a pair, ``"valid"`` (no padding) or ``"same"`` (output size = input size,
    stride 1 only).

    Example::

        >>> x = torch.randn(8, 3, 32, 32)
        >>> w = torch.randn(16, 3, 3, 3)
        >>> torchconv.conv2d(x, w, padding=1).shape
        torch.Size([8, 16, 32, 32])
    """
    stride = _pair(stride, "stride")
    dilation = _pair(dilation, "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            input, padding = _same_padding(input, weight, stride, dilation)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = _pair(padding, "padding")
    return ops.conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution: the gradient of ``conv2d`` with respect to its input.

    ``input`` is ``(N, C_in, H, W)`` or ``(C_in, H, W)``, ``weight`` ``(C_in, C_out/groups, kH, kW)``;
    the output is ``(N, C_out, H_out, W_out)`` with
    ``H_out = (H - 1)*stride[0] - 2*padding[0] + dilation[0]*(kH - 1) + output_padding[0] + 1``.

    Example::

        >>> x = torch.randn(2, 16, 8, 8)
        >>> w = torch.randn(16, 8, 4, 4)
        >>> torchconv.conv_transpose2d(x, w, stride=2, padding=1).shape
        torch.Size([2, 8, 16, 16])
    """
    return ops.conv_transpose2d(input, weight, bias, _pair(stride, "stride"), _pair(padding, "padding"),
                                _pair(output_padding, "output_padding"), groups, _pair(dilation, "dilation"))


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling. Output ``(N, C, OH, OW)`` with
    ``OH = floor((H + 2*padding[0] - dilation[0]*(kH-1) - 1) / stride[0]) + 1`` (ceil with ceil_mode).
    With ``return_indices`` also returns the int64 argmax of each window as a flat index ``h*W + w``
    into its input plane (NaN wins, as in PyTorch). ``stride`` defaults to ``kernel_size``.

    Example::

        >>> y, idx = torchconv.max_pool2d(torch.randn(1, 64, 112, 112), 3, 2, 1, return_indices=True)
        >>> y.shape
        torch.Size([1, 64, 56, 56])
    """
    k = _pair(kernel_size, "kernel_size", "max_pool2d")
    s = k if _is_default_stride(stride) else _pair(stride, "stride", "max_pool2d")
    p, d = _pair(padding, "padding", "max_pool2d"), _pair(dilation, "dilation", "max_pool2d")
    if return_indices:
        return ops.max_pool2d(input, k, s, p, d, bool(ceil_mode))
    return ops.max_pool2d_values(input, k, s, p, d, bool(ceil_mode))  # keeps indices only for autograd


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling. Output size as for ``max_pool2d`` (no dilation). Each window's sum is
    divided by its size counted up to the padded border (``count_include_pad``), or by the number of
    input elements in it, or by ``divisor_override``.

    Example::

        >>> torchconv.avg_pool2d(torch.randn(2, 3, 8, 8), 2).shape
        torch.Size([2, 3, 4, 4])
    """
    k = _pair(kernel_size, "kernel_size", "avg_pool2d")
    s = k if _is_default_stride(stride) else _pair(stride, "stride", "avg_pool2d")
    return ops.avg_pool2d(input, k, s, _pair(padding, "padding", "avg_pool2d"), bool(ceil_mode),
                          bool(count_include_pad), divisor_override)


def _adaptive_size(input, output_size):
    """An int, or a pair whose None entries keep the input's size."""
    if isinstance(output_size, numbers.Integral):
        return [int(output_size)] * 2
    size = list(output_size)
    if len(size) == 1:
        size = size * 2
    if len(size) != 2:
        raise RuntimeError(f"adaptive pooling: output_size must be an int or a pair, but got {output_size}")
    return [input.shape[-2 + i] if v is None else int(v) for i, v in enumerate(size)]


def adaptive_avg_pool2d(input, output_size):
    """Adaptive average pooling to ``output_size`` (OH, OW): output pixel (i, j) averages input rows
    ``[floor(i*H/OH), ceil((i+1)*H/OH))`` and likewise columns.

    Example::

        >>> torchconv.adaptive_avg_pool2d(torch.randn(2, 512, 7, 7), 1).shape
        torch.Size([2, 512, 1, 1])
    """
    return ops.adaptive_avg_pool2d(input, _adaptive_size(input, output_size))


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Adaptive max pooling with the windows of ``adaptive_avg_pool2d``; optional int64 indices as
    in ``max_pool2d``.

    Example::

        >>> torchconv.adaptive_max_pool2d(torch.randn(2, 8, 9, 9), (3, 3)).shape
        torch.Size([2, 8, 3, 3])
    """
    out, indices = ops.adaptive_max_pool2d(input, _adaptive_size(input, output_size))
    return (out, indices) if return_indices else out


# ---------------------------------------------------------------------------------------------
# 1-D: the 2-D ops on a unit-height view, (N, C, L) -> (N, C, 1, L), with (1, k) windows.

def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) over ``(N, C, L)`` or ``(C, L)`` input, computed by
    ``conv2d`` on the ``(N, C, 1, L)`` view with a ``(K, C/groups, 1, k)`` kernel.

    ``weight`` is ``(K, C/groups, k)``, ``bias`` ``(K,)``; the output is ``(N, K, L_out)`` with
    ``L_out = floor((L + 2*padding - dilation*(k-1) - 1) / stride) + 1``. ``padding`` is an int,
    ``"valid"`` or ``"same"`` (stride 1 only).

    Example::

        >>> x = torch.randn(8, 4, 100)
        >>> w = torch.randn(16, 4, 5)
        >>> torchconv.conv1d(x, w, stride=2, padding=2).shape
        torch.Size([8, 16, 50])
    """
    if not isinstance(padding, str):
        padding = (0, _single(padding, "padding"))
    return conv2d(_unit_height(input, "conv1d"), _unit_height_weight(weight, "conv1d"), bias,
                  (1, _single(stride, "stride")), padding, (1, _single(dilation, "dilation")),
                  groups).squeeze(-2).contiguous()


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution (the gradient of ``conv1d`` with respect to its input), computed by
    ``conv_transpose2d`` on the ``(N, C_in, 1, L)`` view.

    ``input`` is ``(N, C_in, L)`` or ``(C_in, L)``, ``weight`` ``(C_in, C_out/groups, k)``; the output is
    ``(N, C_out, L_out)`` with ``L_out = (L - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1``.

    Example::

        >>> x = torch.randn(2, 16, 25)
        >>> w = torch.randn(16, 8, 4)
        >>> torchconv.conv_transpose1d(x, w, stride=2, padding=1).shape
        torch.Size([2, 8, 50])
    """
    op = "conv_transpose1d"
    return conv_transpose2d(_unit_height(input, op), _unit_height_weight(weight, op), bias,
                            (1, _single(stride, "stride")), (0, _single(padding, "padding")),
                            (0, _single(output_padding, "output_padding")), groups,
                            (1, _single(dilation, "dilation"))).squeeze(-2).contiguous()


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling of ``(N, C, L)`` or ``(C, L)`` input. Output ``(N, C, L_out)`` with
    ``L_out = floor((L + 2*padding - dilation*(k-1) - 1) / stride) + 1`` (ceil with ceil_mode).
    With ``return_indices`` also returns the int64 position of each window's maximum in its
    length-``L`` row (NaN wins). ``stride`` defaults to ``kernel_size``.

    Example::

        >>> y, idx = torchconv.max_pool1d(torch.randn(2, 8, 100), 3, 2, 1, return_indices=True)
        >>> y.shape, idx.dtype
        (torch.Size([2, 8, 50]), torch.int64)
    """
    op = "max_pool1d"
    k, p = _single(kernel_size, "kernel_size", op), _single(padding, "padding", op)
    if p > k // 2:  # PyTorch's 1-D bound: half the kernel, whatever the dilation
        raise RuntimeError(f"{op}() padding should be at most half of kernel size, but got padding={p} and "
                           f"kernel_size={k}")
    stride = None if _is_default_stride(stride) else (1, _single(stride, "stride", op))
    pooled = max_pool2d(_unit_height(input, op), (1, k), stride, (0, p), (1, _single(dilation, "dilation", op)),
                        ceil_mode, return_indices=return_indices)
    if return_indices:
        return pooled[0].squeeze(-2), pooled[1].squeeze(-2)
    out = pooled.squeeze(-2)
    # PyTorch's own CPU kernel, used when no indices are needed (no gradient either), returns a
    # contiguous output; otherwise PyTorch too pools the unit-height view and keeps the layout.
    needs_grad = input.requires_grad and torch.is_grad_enabled()
    return out.contiguous() if input.device.type == "cpu" and not needs_grad else out


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling of ``(N, C, L)`` or ``(C, L)`` input; output length as for ``max_pool1d``
    (no dilation). Each window's sum is divided by its length up to the padded border
    (``count_include_pad``) or by the number of input elements in it.

    Example::

        >>> torchconv.avg_pool1d(torch.randn(2, 3, 16), 4).shape
        torch.Size([2, 3, 4])
    """
    op = "avg_pool1d"
    stride = None if _is_default_stride(stride) else (1, _single(stride, "stride", op))
    return avg_pool2d(_unit_height(input, op), (1, _single(kernel_size, "kernel_size", op)), stride,
                      (0, _single(padding, "padding", op)), ceil_mode, count_include_pad).squeeze(-2)


def adaptive_avg_pool1d(input, output_size):
    """Adaptive average pooling of ``(N, C, L)`` or ``(C, L)`` input to length ``output_size``:
    output element ``i`` averages ``[floor(i*L/L_out), ceil((i+1)*L/L_out))``.

    Example::

        >>> torchconv.adaptive_avg_pool1d(torch.randn(2, 64, 50), 1).shape
        torch.Size([2, 64, 1])
    """
    op = "adaptive_avg_pool1d"
    return adaptive_avg_pool2d(_unit_height(input, op), (1, _single(output_size, "output_size", op))).squeeze(-2)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Adaptive max pooling with the windows of ``adaptive_avg_pool1d``; optional int64 indices
    into the length-``L`` row, as in ``max_pool1d``.

    Example::

        >>> torchconv.adaptive_max_pool1d(torch.randn(2, 8, 10), 3).shape
        torch.Size([2, 8, 3])
    """
    op = "adaptive_max_pool1d"
    out, indices = adaptive_max_pool2d(_unit_height(input, op), (1, _single(output_size, "output_size", op)),
                                       return_indices=True)
    return (out.squeeze(-2), indices.squeeze(-2)) if return_indices else out.squeeze(-2)


# torch.fx.symbolic_trace records each public function as one call, as it does torch.nn.functional's,
# instead of tracing into its argument handling (which reads sizes, and so cannot run on proxies).
for _name in __all__:
    torch.fx.wrap(_name)
