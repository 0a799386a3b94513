"""torch.library.opcheck on every torchconv op: schema (no mutation or aliasing), autograd registration,
fake (meta) kernels against the real ones, and AOT dispatch with dynamic shapes."""
import pytest
import torch

import torchconv  # noqa: F401  (registers the ops)
from conftest import channels_last, distinct_values, seeded_randn

ops = torch.ops.torchconv

FORMATS = {"contiguous": lambda t: t, "channels_last": channels_last, "unbatched": lambda t: t[0]}


def grad(t):
    return t.requires_grad_()


def conv_samples(fmt):
    """(input, weight, grad_output, stride, padding, dilation, groups) of one grouped, strided, dilated
    convolution, with activations in format `fmt`."""
    stride, padding, dilation, groups = [2, 1], [1, 2], [1, 2], 2
    x = FORMATS[fmt](seeded_randn((2, 4, 7, 6), 0))
    w = seeded_randn((6, 2, 3, 2), 1)
    y_shape = torch.nn.functional.conv2d(x, w, None, stride, padding, dilation, groups).shape
    grad_output = FORMATS[fmt](seeded_randn((2, *y_shape[-3:]), 2))
    return x, w, grad_output, [stride, padding, dilation, groups]


def pool_input(fmt):
    return FORMATS[fmt](distinct_values((2, 5, 7, 6)))


def sample_args(op, fmt):
    if op.startswith("conv"):
        x, w, g, params = conv_samples(fmt)
        if op == "conv_transpose2d":  # the adjoint of the same convolution, with a bias and output_padding
            stride, padding, dilation, groups = params
            return [grad(g), grad(w), grad(seeded_randn(4, 3)), stride, padding, [1, 0], groups, dilation]
        if op == "conv2d":
            return [grad(x), grad(w), grad(seeded_randn(6, 3)), *params]
        if op == "conv2d_input_grad":
            return [grad(g), grad(w), list(x.shape), *params]
        return [grad(g), grad(x), list(w.shape), *params]
    x = pool_input(fmt)
    if op == "max_pool2d":
        return [grad(x), [3, 2], [2, 1], [1, 1], [1, 2], True]
    if op == "max_pool2d_values":
        return [grad(x), [3, 2], [2, 1], [1, 1], [1, 2], True]
    if op == "avg_pool2d":
        return [grad(x), [3, 2], [2, 1], [1, 1], True, False, 3]
    if op in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
        return [grad(x), [4, 5]]
    if op == "max_pool2d_backward":
        values, indices = ops.max_pool2d(x, [3, 2], [2, 1], [1, 1], [1, 2], True)
        return [grad(torch.randn_like(values)), indices, list(x.shape)]
    if op == "avg_pool2d_backward":
        args = [[3, 2], [2, 1], [1, 1], True, False, None]
        return [grad(torch.randn_like(ops.avg_pool2d(x, *args))), list(x.shape), *args]
    assert op == "adaptive_avg_pool2d_backward"
    return [grad(torch.randn_like(ops.adaptive_avg_pool2d(x, [4, 5]))), list(x.shape)]


OPS = ["conv2d", "conv2d_input_grad", "conv2d_weight_grad", "conv_transpose2d", "max_pool2d", "max_pool2d_values", "max_pool2d_backward",
       "avg_pool2d", "avg_pool2d_backward", "adaptive_avg_pool2d", "adaptive_avg_pool2d_backward", "adaptive_max_pool2d"]


def test_every_op_is_covered():
    declared = {name.split("::")[1] for name in torch._C._dispatch_get_all_op_names()
                if name.startswith("torchconv::")}
    assert declared == set(OPS)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("op", OPS)
def test_opcheck(op, fmt, single_thread):
    torch.library.opcheck(getattr(ops, op), sample_args(op, fmt))
