"""Every bad input raises a RuntimeError with a clear message (PyTorch's wording where PyTorch has one,
prefixed by the op name for checks made at the C++ op boundary), through the public API and when
torch.ops.torchconv.* are called directly with nonsense: never a crash, a hang or a wrong answer."""
import re

import pytest
import torch

import torchconv as tc

ops = torch.ops.torchconv
HUGE = 2 ** 62
BIG = 2 ** 40


def r(*shape, dtype=torch.float32):
    return torch.randn(*shape).to(dtype)


def longs(*shape, value=0):
    return torch.full(shape, value, dtype=torch.int64)


def at(op, message=""):
    """A message from the checks of torch.ops.torchconv.<op>: the op's name first, then `message` (a regex)."""
    return rf"^torchconv\.{op}: .*{message}"


def text(message):
    return re.escape(message)


# id -> (call, regex its RuntimeError's message must match)
PUBLIC_API_ERRORS = {
    # conv2d
    "conv2d_input_rank_2": (
        lambda: tc.conv2d(r(3, 5), r(4, 3, 3, 3)),
        at("conv2d", text("Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [3, 5]"))),
    "conv2d_input_rank_5": (
        lambda: tc.conv2d(r(1, 1, 3, 5, 5), r(4, 3, 3, 3)),
        at("conv2d", text("Expected 3D (unbatched) or 4D (batched) input to conv2d"))),
    "conv2d_weight_rank_3": (
        lambda: tc.conv2d(r(1, 3, 5, 5), r(4, 3, 3)),
        at("conv2d", "expected a 4-D weight")),
    "conv2d_channel_mismatch": (
        lambda: tc.conv2d(r(1, 4, 5, 5), r(4, 3, 3, 3)),
        at("conv2d", text("Given groups=1, weight of size [4, 3, 3, 3], expected input[1, 4, 5, 5] to have 3 "
                          "channels, but got 4 channels instead"))),
    "conv2d_groups_not_dividing_out_channels": (
        lambda: tc.conv2d(r(1, 4, 5, 5), r(3, 2, 3, 3), groups=2),
        at("conv2d", text("Given groups=2, expected weight to be divisible by 2 at dimension 0"))),
    "conv2d_groups_not_dividing_in_channels": (
        lambda: tc.conv2d(r(1, 5, 5, 5), r(4, 2, 3, 3), groups=2),
        at("conv2d", "to have 4 channels, but got 5 channels instead")),
    "conv2d_more_groups_than_out_channels": (
        lambda: tc.conv2d(r(1, 6, 5, 5), r(2, 2, 3, 3), groups=3),
        at("conv2d", "Given groups=3, expected weight to be at least 3 at dimension 0")),
    "conv2d_groups_0": (
        lambda: tc.conv2d(r(1, 4, 5, 5), r(4, 4, 3, 3), groups=0),
        at("conv2d", "non-positive groups is not supported")),
    "conv2d_groups_negative": (
        lambda: tc.conv2d(r(1, 4, 5, 5), r(4, 4, 3, 3), groups=-2),
        at("conv2d", "non-positive groups is not supported")),
    "conv2d_stride_0": (
        lambda: tc.conv2d(r(1, 3, 5, 5), r(4, 3, 3, 3), stride=(1, 0)),
        at("conv2d", "non-positive stride is not supported")),
    "conv2d_stride_negative": (
        lambda: tc.conv2d(r(1, 3, 5, 5), r(4, 3, 3, 3), stride=-1),
        at("conv2d", "non-positive stride is not supported")),
    "conv2d_padding_negative": (
        lambda: tc.conv2d(r(1, 3, 5, 5), r(4, 3, 3, 3), padding=(0, -1)),
        at("conv2d", "negative padding is not supported")),
    "conv2d_dilation_0": (
        lambda: tc.conv2d(r(1, 3, 5, 5), r(4, 3, 3, 3), dilation=0),
        at("conv2d", text("dilation should be greater than zero, but got [0, 0]"))),
    "conv2d_kernel_bigger_than_padded_input": (
        lambda: tc.conv2d(r(1, 3, 5, 5), r(4, 3, 4, 3), padding=(0, 1), dilation=2),
        at("conv2d", text("Calculated padded input size per channel: (5 x 7). Kernel size: (7 x 5). Kernel size "
                          "can't be greater than actual input size"))),
    "conv2d_bias_wrong_size": (
        lambda: tc.conv2d(r(1, 3, 5, 5), r(4, 3, 3, 3), r(5)),
        at("conv2d", text("Given weight of size [4, 3, 3, 3], expected bias to be 1-dimensional with 4 elements, "
                          "but got bias of size [5] instead"))),
    "conv2d_bias_2d": (
        lambda: tc.conv2d(r(1, 3, 5, 5), r(4, 3, 3, 3), r(4, 1)),
        at("conv2d", text("expected bias to be 1-dimensional with 4 elements, but got bias of size [4, 1]"))),
    "conv2d_weight_dtype": (
        lambda: tc.conv2d(r(1, 3, 5, 5), r(4, 3, 3, 3, dtype=torch.float64)),
        at("conv2d", text("Input type (Float) and weight type (Double) should be the same"))),
    "conv2d_bias_dtype": (
        lambda: tc.conv2d(r(1, 3, 5, 5), r(4, 3, 3, 3), r(4, dtype=torch.float64)),
        at("conv2d", text("Input type (Float) and bias type (Double) should be the same"))),
    "conv2d_int": (
        lambda: tc.conv2d(longs(1, 3, 5, 5), longs(4, 3, 3, 3)),
        at("conv2d", "expected input of dtype float32, float64 or bfloat16.*but got Long")),
    "conv2d_float16_on_cpu": (
        lambda: tc.conv2d(r(1, 3, 5, 5, dtype=torch.half), r(4, 3, 3, 3, dtype=torch.half)),
        at("conv2d", "expected input of dtype .*float16 on CUDA only.*but got Half")),
    "conv2d_empty_height": (
        lambda: tc.conv2d(r(1, 3, 0, 5), r(4, 3, 1, 1), padding=1),
        text("Only zero batch or zero channel inputs are supported, but got input shape: [1, 3, 0, 5]")),
    "conv2d_same_with_stride": (
        lambda: tc.conv2d(r(1, 3, 5, 5), r(4, 3, 3, 3), padding="same", stride=2),
        text("padding='same' is not supported for strided convolutions")),
    "conv2d_bad_padding_string": (
        lambda: tc.conv2d(r(1, 3, 5, 5), r(4, 3, 3, 3), padding="full"),
        text("Invalid padding string: 'full'")),
    "conv2d_stride_of_3": (
        lambda: tc.conv2d(r(1, 3, 5, 5), r(4, 3, 3, 3), stride=(1, 1, 1)),
        text("expected stride to be a single integer value or a list of 2 values to match the convolution "
             "dimensions, but got stride=[1, 1, 1]")),
    # conv_transpose2d
    "conv_transpose2d_input_rank_2": (
        lambda: tc.conv_transpose2d(r(4, 5), r(4, 4, 3, 3)),
        text("Expected 3D (unbatched) or 4D (batched) input to conv_transpose2d, but got input of size: [4, 5]")),
    "conv_transpose2d_weight_rank_3": (
        lambda: tc.conv_transpose2d(r(1, 3, 5, 5), r(3, 4, 3)),
        "expected a 4-D weight"),
    "conv_transpose2d_channel_mismatch": (
        lambda: tc.conv_transpose2d(r(1, 4, 5, 5), r(3, 4, 3, 3)),
        text("expected input[1, 4, 5, 5] to have 3 channels, but got 4 channels instead")),
    "conv_transpose2d_groups_not_dividing": (
        lambda: tc.conv_transpose2d(r(1, 3, 5, 5), r(3, 4, 3, 3), groups=2),
        text("Given groups=2, expected weight to be divisible by 2 at dimension 0")),
    "conv_transpose2d_output_padding": (
        lambda: tc.conv_transpose2d(r(1, 3, 5, 5), r(3, 4, 3, 3), stride=2, output_padding=(0, 2)),
        "output padding must be smaller than either stride or dilation"),
    "conv_transpose2d_output_too_small": (
        lambda: tc.conv_transpose2d(r(1, 3, 1, 1), r(3, 4, 1, 1), padding=1),
        "too small"),
    "conv_transpose2d_stride_0": (
        lambda: tc.conv_transpose2d(r(1, 3, 5, 5), r(3, 4, 3, 3), stride=0),
        "non-positive stride is not supported"),
    "conv_transpose2d_dilation_0": (
        lambda: tc.conv_transpose2d(r(1, 3, 5, 5), r(3, 4, 3, 3), dilation=(1, 0)),
        "dilation should be greater than zero"),
    "conv_transpose2d_bias_wrong_size": (
        lambda: tc.conv_transpose2d(r(1, 3, 5, 5), r(3, 4, 3, 3), r(3)),
        text("expected bias to be 1-dimensional with 4 elements")),
    "conv_transpose2d_bias_broadcastable": (
        lambda: tc.conv_transpose2d(r(1, 3, 5, 5), r(3, 4, 3, 3), r(1)),
        text("expected bias to be 1-dimensional with 4 elements")),
    "conv_transpose2d_weight_dtype": (
        lambda: tc.conv_transpose2d(r(1, 3, 5, 5), r(3, 4, 3, 3, dtype=torch.float64)),
        text("type (Double) should be the same")),
    "conv_transpose2d_int": (
        lambda: tc.conv_transpose2d(longs(1, 3, 5, 5), longs(3, 4, 3, 3)),
        "float32, float64 or bfloat16.*but got Long"),
    # max_pool2d (of inputs that need no gradient: the values-only op)
    "max_pool2d_kernel_0": (
        lambda: tc.max_pool2d(r(1, 3, 5, 5), 0),
        at("max_pool2d_values", "kernel size should be greater than zero")),
    "max_pool2d_stride_0": (
        lambda: tc.max_pool2d(r(1, 3, 5, 5), 2, (1, 0)),
        at("max_pool2d_values", "stride should be greater than zero")),
    "max_pool2d_pad_above_half_kernel": (
        lambda: tc.max_pool2d(r(1, 3, 5, 5), 2, 1, 2),
        at("max_pool2d_values", text("pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 "
                              "and dilation=1"))),
    "max_pool2d_dilated_pad_above_half_kernel": (
        lambda: tc.max_pool2d(r(1, 3, 9, 9), 3, 1, 2, 2),
        at("max_pool2d_values", "pad should be smaller than or equal to half of kernel size")),
    "max_pool2d_pad_negative": (
        lambda: tc.max_pool2d(r(1, 3, 5, 5), 2, 1, -1),
        at("max_pool2d_values", "pad must be non-negative")),
    "max_pool2d_dilation_0": (
        lambda: tc.max_pool2d(r(1, 3, 5, 5), 2, 1, 0, 0),
        at("max_pool2d_values", "dilation should be greater than zero")),
    "max_pool2d_output_too_small": (
        lambda: tc.max_pool2d(r(1, 3, 2, 2), 3),
        at("max_pool2d_values", text("Given input size: (3x2x2). Calculated output size: (3x0x0). Output size is too small"))),
    "max_pool2d_input_rank_2": (
        lambda: tc.max_pool2d(r(3, 5), 2),
        at("max_pool2d_values", text("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input"))),
    "max_pool2d_empty_channels": (
        lambda: tc.max_pool2d(r(1, 0, 5, 5), 2),
        at("max_pool2d_values", text("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input"))),
    "max_pool2d_empty_width_unbatched": (
        lambda: tc.max_pool2d(r(3, 5, 0), 2),
        at("max_pool2d_values", text("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input"))),
    "max_pool2d_int": (
        lambda: tc.max_pool2d(longs(1, 3, 5, 5), 2),
        at("max_pool2d_values", "float32, float64 or bfloat16.*but got Long")),
    "max_pool2d_float16_on_cpu": (
        lambda: tc.max_pool2d(r(1, 3, 5, 5, dtype=torch.half), 2),
        at("max_pool2d_values", "float16 on CUDA only.*but got Half")),
    "max_pool2d_kernel_of_3": (
        lambda: tc.max_pool2d(r(1, 3, 5, 5), (2, 2, 2)),
        text("max_pool2d: kernel_size must either be a single int, or a tuple of two ints")),
    # avg_pool2d
    "avg_pool2d_kernel_0": (
        lambda: tc.avg_pool2d(r(1, 3, 5, 5), (2, 0)),
        at("avg_pool2d", "kernel size should be greater than zero")),
    "avg_pool2d_stride_0": (
        lambda: tc.avg_pool2d(r(1, 3, 5, 5), 2, 0),
        at("avg_pool2d", "stride should be greater than zero")),
    "avg_pool2d_pad_above_half_kernel": (
        lambda: tc.avg_pool2d(r(1, 3, 5, 5), 3, 1, 2),
        at("avg_pool2d", "pad should be at most half of effective kernel size")),
    "avg_pool2d_pad_negative": (
        lambda: tc.avg_pool2d(r(1, 3, 5, 5), 2, 1, -1),
        at("avg_pool2d", "pad must be non-negative")),
    "avg_pool2d_divisor_0": (
        lambda: tc.avg_pool2d(r(1, 3, 5, 5), 2, divisor_override=0),
        at("avg_pool2d", "divisor must be not zero")),
    "avg_pool2d_output_too_small": (
        lambda: tc.avg_pool2d(r(1, 3, 2, 5), 3),
        at("avg_pool2d", "Output size is too small")),
    "avg_pool2d_empty_height": (
        lambda: tc.avg_pool2d(r(1, 3, 0, 5), 2),
        at("avg_pool2d", text("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input"))),
    "avg_pool2d_input_rank_5": (
        lambda: tc.avg_pool2d(r(1, 1, 3, 5, 5), 2),
        at("avg_pool2d", "Expected 3D or 4D")),
    "avg_pool2d_int": (
        lambda: tc.avg_pool2d(longs(1, 3, 5, 5), 2),
        at("avg_pool2d", "but got Long")),
    # adaptive pooling
    "adaptive_avg_pool2d_negative_size": (
        lambda: tc.adaptive_avg_pool2d(r(1, 3, 5, 5), (-1, 2)),
        at("adaptive_avg_pool2d", text("elements of output_size must be greater than or equal to 0 but received "
                                       "{-1, 2}"))),
    "adaptive_max_pool2d_negative_size": (
        lambda: tc.adaptive_max_pool2d(r(1, 3, 5, 5), (2, -3)),
        at("adaptive_max_pool2d", "elements of output_size must be greater than or equal to 0")),
    "adaptive_avg_pool2d_input_rank_2": (
        lambda: tc.adaptive_avg_pool2d(r(3, 5), 2),
        at("adaptive_avg_pool2d", text("Expected 3D or 4D tensor, but got [3, 5]"))),
    "adaptive_avg_pool2d_empty_height": (
        lambda: tc.adaptive_avg_pool2d(r(1, 3, 0, 5), 2),
        at("adaptive_avg_pool2d", text("Expected input to have non-zero size for non-batch dimensions, but input "
                                       "has sizes [1, 3, 0, 5] with dimension 2 being empty"))),
    "adaptive_max_pool2d_empty_width": (
        lambda: tc.adaptive_max_pool2d(r(1, 3, 5, 0), 2),
        at("adaptive_max_pool2d", "non-zero size for non-batch dimensions")),
    "adaptive_avg_pool2d_size_of_3": (
        lambda: tc.adaptive_avg_pool2d(r(1, 3, 5, 5), (1, 2, 3)),
        "output_size must be"),
    "adaptive_max_pool2d_int": (
        lambda: tc.adaptive_max_pool2d(longs(1, 3, 5, 5), 2),
        at("adaptive_max_pool2d", "but got Long")),
}

def conv(stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """The stride, padding, dilation and groups arguments of the conv ops."""
    return [list(stride), list(padding), list(dilation), groups]


# A consistent conv2d problem (input, weight and grad_output sizes, default arguments) and average pooling
# arguments (kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override).
X, W, GO, CONV = (1, 2, 5, 5), (3, 2, 3, 3), (1, 3, 3, 3), conv()
POOL = [[2, 2], [2, 2], [0, 0], False, True, None]

DIRECT_OP_ERRORS = {
    # conv2d
    "conv2d_scalar_input": (
        lambda: ops.conv2d(torch.tensor(1.0), r(*W), None, *CONV),
        at("conv2d", text("Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: []"))),
    "conv2d_huge_stride": (
        lambda: ops.conv2d(r(*X), r(*W), None, *conv(stride=(HUGE, HUGE))),
        at("conv2d", text("stride must be smaller than 2^31"))),
    "conv2d_huge_padding": (
        lambda: ops.conv2d(r(*X), r(*W), None, *conv(padding=(BIG, 1))),
        at("conv2d", text("padding must be smaller than 2^31"))),
    "conv2d_huge_dilation": (
        lambda: ops.conv2d(r(*X), r(*W), None, *conv(dilation=(1, BIG))),
        at("conv2d", text("dilation must be smaller than 2^31"))),
    "conv2d_huge_groups": (
        lambda: ops.conv2d(r(*X), r(*W), None, *conv(groups=HUGE)),
        at("conv2d", f"Given groups={HUGE}, expected weight to be at least")),
    "conv2d_stride_of_3": (
        lambda: ops.conv2d(r(*X), r(*W), None, [1, 1, 1], [0, 0], [1, 1], 1),
        at("conv2d", "expected stride to be a single integer value or a list of 2 values")),
    "conv2d_empty_dilation": (
        lambda: ops.conv2d(r(*X), r(*W), None, [1, 1], [0, 0], [], 1),
        at("conv2d", "expected dilation to be a single integer value or a list of 2 values")),
    "conv2d_int_bias": (
        lambda: ops.conv2d(r(*X), r(*W), longs(3), *CONV),
        at("conv2d", text("Input type (Float) and bias type (Long) should be the same"))),
    # conv2d_input_grad
    "conv2d_input_grad_wrong_grad_shape": (
        lambda: ops.conv2d_input_grad(r(1, 3, 4, 3), r(*W), list(X), *CONV),
        at("conv2d_input_grad", text("expected grad_output of size [1, 3, 3, 3] (batched), but got [1, 3, 4, 3]"))),
    "conv2d_input_grad_wrong_channels": (
        lambda: ops.conv2d_input_grad(r(*GO), r(*W), [1, 3, 5, 5], *CONV),
        at("conv2d_input_grad", "to have 2 channels, but got 3 channels instead")),
    "conv2d_input_grad_input_size_of_2": (
        lambda: ops.conv2d_input_grad(r(*GO), r(*W), [5, 5], *CONV),
        at("conv2d_input_grad", "must have as many dimensions as grad_output")),
    "conv2d_input_grad_negative_input_size": (
        lambda: ops.conv2d_input_grad(r(*GO), r(*W), [1, 2, -5, 5], *CONV),
        at("conv2d_input_grad", "invalid input size")),
    "conv2d_input_grad_huge_input_size": (
        lambda: ops.conv2d_input_grad(r(*GO), r(*W), [1, 2, BIG, BIG], *CONV),
        at("conv2d_input_grad", "input size .* is too large")),
    "conv2d_input_grad_groups_0": (
        lambda: ops.conv2d_input_grad(r(*GO), r(*W), list(X), *conv(groups=0)),
        at("conv2d_input_grad", "non-positive groups is not supported")),
    "conv2d_input_grad_huge_stride": (
        lambda: ops.conv2d_input_grad(r(*GO), r(*W), list(X), *conv(stride=(HUGE, 1))),
        at("conv2d_input_grad", text("stride must be smaller than 2^31"))),
    "conv2d_input_grad_weight_dtype": (
        lambda: ops.conv2d_input_grad(r(*GO), r(*W, dtype=torch.float64), list(X), *CONV),
        at("conv2d_input_grad", text("type (Float) and weight type (Double) should be the same"))),
    "conv2d_input_grad_int": (
        lambda: ops.conv2d_input_grad(longs(*GO), r(*W), list(X), *CONV),
        at("conv2d_input_grad", "expected grad_output of dtype float32, float64 or bfloat16.*but got Long")),
    # conv2d_weight_grad
    "conv2d_weight_grad_wrong_grad_shape": (
        lambda: ops.conv2d_weight_grad(r(1, 3, 3, 4), r(*X), list(W), *CONV),
        at("conv2d_weight_grad", "expected grad_output of size")),
    "conv2d_weight_grad_weight_size_of_3": (
        lambda: ops.conv2d_weight_grad(r(*GO), r(*X), [3, 2, 3], *CONV),
        at("conv2d_weight_grad", "expected a 4-D weight")),
    "conv2d_weight_grad_negative_weight_size": (
        lambda: ops.conv2d_weight_grad(r(*GO), r(*X), [3, 2, -3, 3], *CONV),
        at("conv2d_weight_grad", "invalid weight size")),
    "conv2d_weight_grad_huge_weight_size": (
        lambda: ops.conv2d_weight_grad(r(*GO), r(*X), [BIG, 2, 3, 3], *CONV),
        at("conv2d_weight_grad", "invalid weight size")),
    "conv2d_weight_grad_kernel_too_big": (
        lambda: ops.conv2d_weight_grad(r(*GO), r(*X), [3, 2, 7, 7], *CONV),
        at("conv2d_weight_grad", "Kernel size can't be greater than actual input size")),
    "conv2d_weight_grad_rank_mismatch": (
        lambda: ops.conv2d_weight_grad(r(3, 3, 3), r(*X), list(W), *CONV),
        at("conv2d_weight_grad", "must have as many dimensions as grad_output")),
    "conv2d_weight_grad_huge_padding": (
        lambda: ops.conv2d_weight_grad(r(*GO), r(*X), list(W), *conv(padding=(1, BIG))),
        at("conv2d_weight_grad", text("padding must be smaller than 2^31"))),
    # max_pool2d
    "max_pool2d_scalar_input": (
        lambda: ops.max_pool2d(torch.tensor(1.0), [1, 1], [1, 1], [0, 0], [1, 1], False),
        at("max_pool2d", "Expected 3D or 4D")),
    "max_pool2d_huge_kernel": (
        lambda: ops.max_pool2d(r(*X), [BIG, BIG], [1, 1], [0, 0], [1, 1], False),
        at("max_pool2d", text("kernel_size must be smaller than 2^31"))),
    "max_pool2d_huge_stride": (
        lambda: ops.max_pool2d(r(*X), [2, 2], [HUGE, HUGE], [0, 0], [1, 1], True),
        at("max_pool2d", text("stride must be smaller than 2^31"))),
    "max_pool2d_huge_padding": (
        lambda: ops.max_pool2d(r(*X), [2, 2], [1, 1], [BIG, 0], [1, 1], False),
        at("max_pool2d", "pad should be at most half of effective kernel size")),
    "max_pool2d_huge_dilation": (
        lambda: ops.max_pool2d(r(*X), [2, 2], [1, 1], [0, 0], [BIG, 1], False),
        at("max_pool2d", text("dilation must be smaller than 2^31"))),
    "max_pool2d_kernel_of_3": (
        lambda: ops.max_pool2d(r(*X), [2, 2, 2], [1, 1], [0, 0], [1, 1], False),
        at("max_pool2d", "expected kernel_size to be a single integer value or a list of 2 values")),
    "max_pool2d_empty_kernel": (
        lambda: ops.max_pool2d(r(*X), [], [1, 1], [0, 0], [1, 1], False),
        at("max_pool2d", "expected kernel_size to be a single integer value or a list of 2 values")),
    # max_pool2d_backward
    "max_pool2d_backward_index_too_large": (
        lambda: ops.max_pool2d_backward(r(1, 2, 2, 2), longs(1, 2, 2, 2, value=25), [1, 2, 5, 5]),
        at("max_pool2d_backward", "found an index outside the input plane")),
    "max_pool2d_backward_index_negative": (
        lambda: ops.max_pool2d_backward(r(1, 2, 2, 2), longs(1, 2, 2, 2, value=-2), [1, 2, 5, 5]),
        at("max_pool2d_backward", "found an index outside the input plane")),
    "max_pool2d_backward_index_too_large_channels_last": (
        lambda: ops.max_pool2d_backward(r(1, 2, 2, 2).contiguous(memory_format=torch.channels_last),
                                        longs(1, 2, 2, 2, value=BIG), [1, 2, 5, 5]),
        at("max_pool2d_backward", "found an index outside the input plane")),
    "max_pool2d_backward_index_too_large_unbatched": (
        lambda: ops.max_pool2d_backward(r(2, 2, 2), longs(2, 2, 2, value=9), [2, 3, 3]),
        at("max_pool2d_backward", "found an index outside the input plane")),
    "max_pool2d_backward_int32_indices": (
        lambda: ops.max_pool2d_backward(r(1, 2, 2, 2), longs(1, 2, 2, 2).int(), [1, 2, 5, 5]),
        at("max_pool2d_backward", "expected indices of dtype int64, but got Int")),
    "max_pool2d_backward_indices_shape": (
        lambda: ops.max_pool2d_backward(r(1, 2, 2, 2), longs(1, 2, 2, 3), [1, 2, 5, 5]),
        at("max_pool2d_backward", text("expected indices of size [1, 2, 2, 2]"))),
    "max_pool2d_backward_wrong_grad_channels": (
        lambda: ops.max_pool2d_backward(r(1, 3, 2, 2), longs(1, 3, 2, 2), [1, 2, 5, 5]),
        at("max_pool2d_backward", "expected grad_output of size")),
    "max_pool2d_backward_input_size_of_2": (
        lambda: ops.max_pool2d_backward(r(1, 2, 2, 2), longs(1, 2, 2, 2), [5, 5]),
        at("max_pool2d_backward", "Expected 3D or 4D")),
    "max_pool2d_backward_empty_input_size": (
        lambda: ops.max_pool2d_backward(r(1, 2, 2, 2), longs(1, 2, 2, 2), [1, 2, 0, 5]),
        at("max_pool2d_backward", "non-zero size for non-batch dimensions")),
    "max_pool2d_backward_huge_input_size": (
        lambda: ops.max_pool2d_backward(r(1, 2, 2, 2), longs(1, 2, 2, 2), [1, 2, BIG, BIG]),
        at("max_pool2d_backward")),
    "max_pool2d_backward_int_grad": (
        lambda: ops.max_pool2d_backward(longs(1, 2, 2, 2), longs(1, 2, 2, 2), [1, 2, 5, 5]),
        at("max_pool2d_backward", "expected grad_output of dtype .*but got Long")),
    # avg_pool2d
    "avg_pool2d_huge_kernel": (
        lambda: ops.avg_pool2d(r(*X), [BIG, 2], [1, 1], [0, 0], False, True, None),
        at("avg_pool2d", text("kernel_size must be smaller than 2^31"))),
    "avg_pool2d_huge_stride": (
        lambda: ops.avg_pool2d(r(*X), [2, 2], [HUGE, 1], [0, 0], True, True, None),
        at("avg_pool2d", text("stride must be smaller than 2^31"))),
    "avg_pool2d_padding_of_3": (
        lambda: ops.avg_pool2d(r(*X), [2, 2], [1, 1], [0, 0, 0], False, True, None),
        at("avg_pool2d", "expected padding to be a single integer value or a list of 2 values")),
    "avg_pool2d_divisor_0": (
        lambda: ops.avg_pool2d(r(*X), [2, 2], [1, 1], [0, 0], False, True, 0),
        at("avg_pool2d", "divisor must be not zero")),
    # avg_pool2d_backward
    "avg_pool2d_backward_wrong_grad_shape": (
        lambda: ops.avg_pool2d_backward(r(1, 2, 3, 3), [1, 2, 5, 5], *POOL),
        at("avg_pool2d_backward", text("expected grad_output of size [1, 2, 2, 2], but got [1, 2, 3, 3]"))),
    "avg_pool2d_backward_rank_mismatch": (
        lambda: ops.avg_pool2d_backward(r(1, 2, 2, 2), [2, 5, 5], *POOL),
        at("avg_pool2d_backward", "must have as many dimensions as input_size")),
    "avg_pool2d_backward_divisor_0": (
        lambda: ops.avg_pool2d_backward(r(1, 2, 2, 2), [1, 2, 5, 5], *POOL[:-1], 0),
        at("avg_pool2d_backward", "divisor")),
    "avg_pool2d_backward_kernel_0": (
        lambda: ops.avg_pool2d_backward(r(1, 2, 2, 2), [1, 2, 5, 5], [0, 2], *POOL[1:]),
        at("avg_pool2d_backward", "kernel size should be greater than zero")),
    "avg_pool2d_backward_huge_input_size": (
        lambda: ops.avg_pool2d_backward(r(1, 1, 1024, 1024), [1, 1, BIG, BIG], [2 ** 30] * 2, [2 ** 30] * 2,
                                        *POOL[2:]),
        at("avg_pool2d_backward")),
    "avg_pool2d_backward_int_grad": (
        lambda: ops.avg_pool2d_backward(longs(1, 2, 2, 2), [1, 2, 4, 4], *POOL),
        at("avg_pool2d_backward", "but got Long")),
    # adaptive_avg_pool2d, adaptive_avg_pool2d_backward, adaptive_max_pool2d
    "adaptive_avg_pool2d_huge_size": (
        lambda: ops.adaptive_avg_pool2d(r(*X), [BIG, BIG]),
        at("adaptive_avg_pool2d", text("output_size must be smaller than 2^31"))),
    "adaptive_avg_pool2d_size_of_1": (
        lambda: ops.adaptive_avg_pool2d(r(*X), [2]),
        at("adaptive_avg_pool2d", "output_size must be 2")),
    "adaptive_avg_pool2d_size_of_3": (
        lambda: ops.adaptive_avg_pool2d(r(*X), [2, 2, 2]),
        at("adaptive_avg_pool2d", "output_size must be 2")),
    "adaptive_max_pool2d_huge_size": (
        lambda: ops.adaptive_max_pool2d(r(*X), [1, HUGE]),
        at("adaptive_max_pool2d", text("output_size must be smaller than 2^31"))),
    "adaptive_max_pool2d_vector_input": (
        lambda: ops.adaptive_max_pool2d(r(5), [1, 1]),
        at("adaptive_max_pool2d", "Expected 3D or 4D tensor")),
    "adaptive_avg_pool2d_backward_wrong_grad_channels": (
        lambda: ops.adaptive_avg_pool2d_backward(r(1, 3, 2, 2), [1, 2, 4, 4]),
        at("adaptive_avg_pool2d_backward", "expected grad_output of size")),
    "adaptive_avg_pool2d_backward_grad_rank_2": (
        lambda: ops.adaptive_avg_pool2d_backward(r(2, 2), [1, 2, 4, 4]),
        at("adaptive_avg_pool2d_backward", "Expected 3D or 4D grad_output")),
    "adaptive_avg_pool2d_backward_negative_input_size": (
        lambda: ops.adaptive_avg_pool2d_backward(r(1, 2, 2, 2), [1, 2, -4, 4]),
        at("adaptive_avg_pool2d_backward", "non-zero size")),
    "adaptive_avg_pool2d_backward_huge_input_size": (
        lambda: ops.adaptive_avg_pool2d_backward(r(1, 2, 2, 2), [1, 2, BIG, BIG]),
        at("adaptive_avg_pool2d_backward")),
    "adaptive_avg_pool2d_backward_int_grad": (
        lambda: ops.adaptive_avg_pool2d_backward(longs(1, 2, 2, 2), [1, 2, 4, 4]),
        at("adaptive_avg_pool2d_backward", "but got Long")),
}


@pytest.mark.parametrize("case", PUBLIC_API_ERRORS)
def test_public_api_error(case):
    call, message = PUBLIC_API_ERRORS[case]
    with pytest.raises(RuntimeError, match=message):
        call()


@pytest.mark.parametrize("case", DIRECT_OP_ERRORS)
def test_direct_op_error(case):
    call, message = DIRECT_OP_ERRORS[case]
    with pytest.raises(RuntimeError, match=message):
        call()


def test_dtype_error_names_the_dtype_and_what_is_supported():
    with pytest.raises(RuntimeError) as info:
        tc.conv2d(r(1, 3, 5, 5).int(), r(4, 3, 3, 3).int())
    assert all(word in str(info.value) for word in ["Int", "float32", "float64", "bfloat16"])
