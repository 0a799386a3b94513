"""The public API computes convolution and pooling with torchconv's own ops: a dispatch mode records every op
that reaches the dispatcher, forward and backward (double backward included), and none of PyTorch's
convolution or pooling ops may appear."""
import re

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import torchconv
import torchconv.nn as tnn
from conftest import channels_last, seeded_randn, small_cnn

# PyTorch's convolution and pooling ops, whatever the backend: aten.convolution, aten._convolution,
# aten.conv2d, aten.convolution_backward, aten.mkldnn_convolution, aten.slow_conv_transpose2d,
# aten.max_pool2d_with_indices(_backward), aten.avg_pool2d, aten._adaptive_avg_pool2d, aten.im2col, ...
FORBIDDEN = re.compile(r"^aten\.\w*(conv(olution|_|\d)|pool|im2col|col2im|mkldnn|cudnn|miopen|nnpack)")


class RecordOps(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(str(func))
        return func(*args, **(kwargs or {}))


def leaf(shape, seed, fmt=None):
    t = seeded_randn(shape, seed, torch.float32)
    return (channels_last(t) if fmt == "channels_last" else t).requires_grad_()


def conv2d_double_backward():
    x, w, b = leaf((2, 4, 7, 6), 0, "channels_last"), leaf((6, 2, 4, 3), 1), leaf((6,), 2)
    y = torchconv.conv2d(x, w, b, padding="same", dilation=(1, 2), groups=2)
    (gx,) = torch.autograd.grad(y.square().sum(), x, create_graph=True)
    (gx.square().sum() + y.sum()).backward()


def conv_transpose2d_backward():
    x, w, b = leaf((2, 4, 5, 4), 0), leaf((4, 3, 3, 3), 1), leaf((6,), 2)
    torchconv.conv_transpose2d(x, w, b, stride=(1, 2), padding=1, output_padding=1, groups=2,
                               dilation=(2, 1)).sum().backward()


def pool_double_backward(pool):
    def run():
        x = leaf((2, 3, 7, 6), 0)
        y = pool(x)
        (gx,) = torch.autograd.grad(y.square().sum(), x, create_graph=True)
        gx.square().sum().backward()
    return run


def padding_mode_conv_backward():
    conv = tnn.Conv2d(3, 4, 3, padding=2, padding_mode="reflect", dilation=2)
    conv(leaf((2, 3, 6, 6), 0)).sum().backward()


def converted_cnn_training_step():
    model = torchconv.convert(small_cnn())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss = torch.nn.functional.cross_entropy(model(seeded_randn((4, 3, 16, 14), 0, torch.float32)),
                                             torch.tensor([0, 3, 1, 4]))
    loss.backward()
    optimizer.step()


CONV_OPS = {"conv2d", "conv2d_input_grad", "conv2d_weight_grad"}

# name -> (what runs under the recording mode, the torchconv ops it must call)
SCENARIOS = {
    "conv2d": (conv2d_double_backward, CONV_OPS),
    "conv_transpose2d": (conv_transpose2d_backward, CONV_OPS),
    "max_pool2d": (pool_double_backward(lambda x: torchconv.max_pool2d(x, 3, 2, 1, ceil_mode=True)),
                   {"max_pool2d", "max_pool2d_backward"}),
    "avg_pool2d": (pool_double_backward(lambda x: torchconv.avg_pool2d(x, 3, 2, 1, True, False, 5)),
                   {"avg_pool2d", "avg_pool2d_backward"}),
    "adaptive_avg_pool2d": (pool_double_backward(lambda x: torchconv.adaptive_avg_pool2d(x, (4, 5))),
                            {"adaptive_avg_pool2d", "adaptive_avg_pool2d_backward"}),
    "global_avg_pool2d": (pool_double_backward(lambda x: torchconv.adaptive_avg_pool2d(x, 1)),
                          {"adaptive_avg_pool2d", "adaptive_avg_pool2d_backward"}),
    "adaptive_max_pool2d": (pool_double_backward(lambda x: torchconv.adaptive_max_pool2d(x, (4, None))),
                            {"adaptive_max_pool2d", "max_pool2d_backward"}),
    "conv2d_reflect_padding": (padding_mode_conv_backward, CONV_OPS),
    "converted_cnn_training_step": (converted_cnn_training_step, CONV_OPS | {
        "max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward", "adaptive_avg_pool2d",
        "adaptive_avg_pool2d_backward", "adaptive_max_pool2d"}),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_no_pytorch_conv_or_pool_ops(scenario):
    run, expected = SCENARIOS[scenario]
    with RecordOps() as recorder:
        run()
    assert not [op for op in recorder.ops if FORBIDDEN.match(op)], recorder.ops
    called = {op.split(".")[1] for op in recorder.ops if op.startswith("torchconv.")}
    assert expected <= called, f"missing torchconv ops: {expected - called}"


@pytest.mark.parametrize("trainable, expected", [
    ("input", {"conv2d", "conv2d_input_grad"}),
    ("weight", {"conv2d", "conv2d_weight_grad"}),
])
def test_only_needed_gradients_are_computed(trainable, expected):
    """A frozen weight (or input) costs no weight (or input) gradient."""
    x, w = seeded_randn((2, 3, 6, 6), 0, torch.float32), seeded_randn((4, 3, 3, 3), 1, torch.float32)
    (x if trainable == "input" else w).requires_grad_()
    with RecordOps() as recorder:
        torchconv.conv2d(x, w, padding=1).sum().backward()
    assert {op.split(".")[1] for op in recorder.ops if op.startswith("torchconv.")} == expected


@pytest.mark.parametrize("grad_mode", ["no_grad", "frozen_input"])
def test_max_pool2d_without_gradient_keeps_no_indices(grad_mode):
    """Where no gradient is needed, max pooling calls the op that writes values only; with one, the op
    that also keeps the indices the backward needs."""
    x = seeded_randn((2, 3, 7, 6), 0, torch.float32)
    with RecordOps() as recorder, torch.set_grad_enabled(grad_mode != "no_grad"):
        torchconv.max_pool2d(x.requires_grad_(grad_mode == "no_grad"), 3, 2, 1)
    assert [op.split(".")[1] for op in recorder.ops if op.startswith("torchconv.")] == ["max_pool2d_values"]
    with RecordOps() as recorder:
        torchconv.max_pool2d(x.detach().requires_grad_(), 3, 2, 1)
    assert [op.split(".")[1] for op in recorder.ops if op.startswith("torchconv.")] == ["max_pool2d"]


def test_recorder_sees_pytorch_ops():
    """The same recording catches PyTorch's own kernels, so the tests above can fail."""
    with RecordOps() as recorder:
        conv = torch.nn.Conv2d(3, 4, 3)
        torch.nn.functional.max_pool2d(conv(leaf((1, 3, 6, 6), 0)), 2).sum().backward()
    assert len([op for op in recorder.ops if FORBIDDEN.match(op)]) >= 3, recorder.ops
