"""gradcheck and gradgradcheck in float64 on small shapes, for the public functions and for the backward ops
themselves (whose autograd formulas give double backward), plus a gradient-penalty loss against PyTorch."""
import pytest
import torch
import torch.nn.functional as F
from torch.autograd import gradcheck, gradgradcheck

import torchconv
from conftest import TOLERANCE, channels_last, distinct_values, rel_err, seeded_randn

ops = torch.ops.torchconv


def conv_case(x_shape, w_shape, bias, **kwargs):
    inputs = [seeded_randn(x_shape, 0), seeded_randn(w_shape, 1)] + ([seeded_randn(w_shape[0], 2)] if bias else [])
    return inputs, lambda m, x, w, b=None: m.conv2d(x, w, b, **kwargs)


def conv_transpose_case(x_shape, w_shape, bias, groups=1, **kwargs):
    inputs = [seeded_randn(x_shape, 0), seeded_randn(w_shape, 1)]
    inputs += [seeded_randn(w_shape[1] * groups, 2)] if bias else []
    return inputs, lambda m, x, w, b=None: m.conv_transpose2d(x, w, b, groups=groups, **kwargs)


def pool_case(shape, call):
    # Distinct values keep every argmax unique under gradcheck's perturbations.
    return [distinct_values(shape)], call


# name -> (float64 inputs, f(module, *inputs) with module = torchconv or torch.nn.functional)
CASES = {
    "conv2d": conv_case((2, 4, 5, 6), (6, 2, 3, 2), True, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
    "conv2d_depthwise_multiplier": conv_case((1, 3, 5, 5), (6, 1, 3, 3), True, padding=1, groups=3),
    "conv2d_unbatched": conv_case((3, 4, 5), (2, 3, 2, 3), False, stride=2, padding=(0, 1)),
    "conv2d_same": conv_case((1, 2, 5, 4), (3, 2, 2, 3), True, padding="same", dilation=(2, 1)),
    "conv_transpose2d": conv_transpose_case((2, 4, 3, 4), (4, 3, 3, 2), True, groups=2, stride=(2, 1),
                                            padding=(1, 0), output_padding=(1, 0), dilation=(1, 2)),
    "conv_transpose2d_unbatched": conv_transpose_case((2, 3, 3), (2, 2, 2, 2), False, stride=2),
    "max_pool2d": pool_case((2, 3, 7, 6), lambda m, x: m.max_pool2d(x, 3, 2, 1, ceil_mode=True)),
    "max_pool2d_dilated": pool_case((1, 2, 7, 7), lambda m, x: m.max_pool2d(x, (2, 3), (1, 2), 1, (2, 1))),
    "avg_pool2d": pool_case((2, 3, 7, 6), lambda m, x: m.avg_pool2d(x, 3, 2, 1, True, False)),
    "avg_pool2d_divisor": pool_case((1, 2, 6, 5), lambda m, x: m.avg_pool2d(x, (2, 3), 1, (1, 0), divisor_override=4)),
    "adaptive_avg_pool2d": pool_case((2, 3, 7, 6), lambda m, x: m.adaptive_avg_pool2d(x, (4, 3))),
    "adaptive_avg_pool2d_upsample": pool_case((3, 3, 2), lambda m, x: m.adaptive_avg_pool2d(x, (5, 4))),
    "adaptive_max_pool2d": pool_case((2, 3, 7, 6), lambda m, x: m.adaptive_max_pool2d(x, (4, 3))),
}


def leaves(tensors):
    return [t.clone().requires_grad_() for t in tensors]


@pytest.mark.parametrize("case", CASES)
def test_gradcheck(case, single_thread):
    inputs, f = CASES[case]
    assert gradcheck(lambda *t: f(torchconv, *t), leaves(inputs))


@pytest.mark.parametrize("case", CASES)
def test_gradgradcheck(case, single_thread):
    inputs, f = CASES[case]
    assert gradgradcheck(lambda *t: f(torchconv, *t), leaves(inputs))


def test_gradcheck_channels_last(single_thread):
    x, w = channels_last(seeded_randn((1, 4, 5, 5), 0)), seeded_randn((4, 2, 2, 3), 1)
    f = lambda x, w: torchconv.conv2d(x, w, None, 1, 1, (2, 1), 2)  # noqa: E731
    args = [x.requires_grad_(), w.requires_grad_()]
    assert gradcheck(f, args) and gradgradcheck(f, args)


def conv_backward_op_case(op):
    """ops.conv2d_input_grad / conv2d_weight_grad with a consistent geometry; the differentiable
    arguments are (grad_output, weight) and (grad_output, input) respectively."""
    stride, padding, dilation, groups = [2, 1], [1, 0], [1, 2], 2
    x_shape, w_shape = [2, 4, 6, 5], [6, 2, 3, 2]
    grad_output = seeded_randn(F.conv2d(torch.zeros(x_shape), torch.zeros(w_shape), None, stride, padding,
                                        dilation, groups).shape, 3)
    if op == "conv2d_input_grad":
        return (lambda g, w: ops.conv2d_input_grad(g, w, x_shape, stride, padding, dilation, groups),
                [grad_output, seeded_randn(w_shape, 1)])
    return (lambda g, x: ops.conv2d_weight_grad(g, x, w_shape, stride, padding, dilation, groups),
            [grad_output, seeded_randn(x_shape, 0)])


def pool_backward_op_case(op):
    """A pooling backward op as a function of grad_output alone."""
    x = distinct_values((2, 3, 7, 6))
    if op == "max_pool2d_backward":
        _, indices = ops.max_pool2d(x, [3, 3], [2, 2], [1, 1], [1, 1], True)
        return lambda g: ops.max_pool2d_backward(g, indices, list(x.shape)), [seeded_randn(indices.shape, 1)]
    if op == "max_pool2d_backward_adaptive":
        _, indices = ops.adaptive_max_pool2d(x, [4, 3])
        return lambda g: ops.max_pool2d_backward(g, indices, list(x.shape)), [seeded_randn(indices.shape, 1)]
    if op == "avg_pool2d_backward":
        args = [[3, 2], [2, 1], [1, 1], True, False, None]
        out = ops.avg_pool2d(x, *args)
        return lambda g: ops.avg_pool2d_backward(g, list(x.shape), *args), [seeded_randn(out.shape, 1)]
    return (lambda g: ops.adaptive_avg_pool2d_backward(g, list(x.shape)), [seeded_randn((2, 3, 4, 5), 1)])


BACKWARD_OPS = ["conv2d_input_grad", "conv2d_weight_grad", "max_pool2d_backward", "max_pool2d_backward_adaptive",
                "avg_pool2d_backward", "adaptive_avg_pool2d_backward"]


def backward_op_case(op):
    return conv_backward_op_case(op) if op.startswith("conv") else pool_backward_op_case(op)


@pytest.mark.parametrize("op", BACKWARD_OPS)
def test_backward_op_gradcheck(op, single_thread):
    f, inputs = backward_op_case(op)
    args = leaves(inputs)
    assert gradcheck(f, args) and gradgradcheck(f, args)


def gradient_penalty_grads(f, module, inputs):
    """Gradients of L = sum(y) + ||d(sum(y^2))/d inputs||^2, y = f(module, *inputs): a second-order loss
    (as in WGAN-GP) whose gradient runs every backward op's own backward."""
    args = leaves(inputs)
    y = f(module, *args)
    first = torch.autograd.grad((y * y).sum(), args, create_graph=True)
    loss = y.sum() + sum((g * g).sum() for g in first)
    return torch.autograd.grad(loss, args)


@pytest.mark.parametrize("case", CASES)
def test_gradient_penalty_matches_torch(case):
    inputs, f = CASES[case]
    ours, theirs = gradient_penalty_grads(f, torchconv, inputs), gradient_penalty_grads(f, F, inputs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        err = rel_err(a, b)
        assert err <= TOLERANCE[torch.float64], f"gradient of input {i}: relative error {err:.3e}"
