"""conv2d and conv_transpose2d against torch.nn.functional: outputs, input/weight/bias gradients and
output memory formats over seeded random configurations, padding strings, unbatched and empty inputs,
strided views and channels_last."""
import pytest
import torch
import torch.nn.functional as F

import torchconv
from conftest import (LAYOUTS, OTHER_DTYPES, assert_same_layout, channels_last, check_against_torch,
                      forward_backward, rng_for, seeded_randn, skip_unsupported_dtype)

CONV_KINDS = ["dense", "grouped", "depthwise", "depthwise_multiplier", "pointwise", "wide"]


def random_conv_config(seed):
    """A conv2d problem drawn from `seed`: (input shape, weight shape, has_bias, stride, padding, dilation,
    groups). The kind cycles with the seed; spatial sizes range from "kernel exactly as big as the padded
    input" (one output pixel) to a few windows more, with non-square kernels and odd sizes."""
    rng = rng_for("conv2d", seed)
    kind = CONV_KINDS[seed % len(CONV_KINDS)]
    if kind == "dense":
        groups, c, k = 1, rng.randint(1, 5), rng.randint(1, 6)
    elif kind == "grouped":
        groups = rng.choice([2, 3, 4])
        c, k = groups * rng.randint(1, 3), groups * rng.randint(1, 3)
    elif kind == "depthwise":
        groups = c = k = rng.randint(2, 9)
    elif kind == "depthwise_multiplier":
        groups = c = rng.randint(2, 5)
        k = c * rng.choice([2, 3])
    elif kind == "pointwise":
        groups, c, k = 1, rng.randint(1, 12), rng.randint(1, 20)
    else:  # several register tiles and channel panels, with tails
        groups, c, k = rng.choice([1, 1, 2]), 2 * rng.randint(4, 12), 2 * rng.randint(9, 20)
    kernel = (1, 1) if kind == "pointwise" else (rng.randint(1, 5), rng.randint(1, 5))
    stride = (rng.randint(1, 3), rng.randint(1, 3))
    dilation = (1, 1) if kind == "pointwise" else (rng.randint(1, 3), rng.randint(1, 3))
    padding = (rng.randint(0, 3), rng.randint(0, 3))
    # The smallest input giving one output pixel, then a few more rows and columns.
    smallest = [max(1, dilation[i] * (kernel[i] - 1) + 1 - 2 * padding[i]) for i in range(2)]
    extra_w = rng.randint(10, 30) if kind == "wide" else rng.choice([0, 0, 1, 2, 5, 9])
    hw = (smallest[0] + rng.choice([0, 1, 3, 6]), smallest[1] + extra_w)
    n = rng.choice([1, 2, 3])
    return (n, c, *hw), (k, c // groups, *kernel), rng.random() < 0.6, stride, padding, dilation, groups


def conv2d_inputs(config, seed):
    x_shape, w_shape, has_bias, *_ = config
    bias = seeded_randn(w_shape[0], seed + 2) if has_bias else None
    return [seeded_randn(x_shape, seed), seeded_randn(w_shape, seed + 1), bias]


def conv2d_fns(stride, padding, dilation, groups):
    def call(module):
        return lambda x, w, b: module.conv2d(x, w, b, stride, padding, dilation, groups)
    return call(torchconv), call(F)


@pytest.mark.parametrize("seed", range(60))
def test_conv2d_random(seed, device):
    config = random_conv_config(seed)
    ours, theirs = conv2d_fns(*config[3:])
    check_against_torch(ours, theirs, conv2d_inputs(config, seed), device=device)


@pytest.mark.parametrize("dtype", OTHER_DTYPES)
@pytest.mark.parametrize("seed", range(0, 60, 5))
def test_conv2d_random_dtypes(seed, dtype, device):
    skip_unsupported_dtype(dtype, device)
    config = random_conv_config(seed)
    ours, theirs = conv2d_fns(*config[3:])
    check_against_torch(ours, theirs, conv2d_inputs(config, seed), device=device, dtype=dtype)


def random_conv_transpose_config(seed):
    """A conv_transpose2d problem drawn from `seed`: (input shape, weight shape, has_bias, stride, padding,
    output_padding, groups, dilation), output_padding anywhere below max(stride, dilation)."""
    rng = rng_for("conv_transpose2d", seed)
    groups = rng.choice([1, 1, 2, 3])
    c_in, c_out = groups * rng.randint(1, 4), groups * rng.randint(1, 4)
    if seed % 5 == 4:  # depthwise
        groups, c_in, c_out = c_in, c_in, c_in * rng.choice([1, 2])
    kernel = (rng.randint(1, 4), rng.randint(1, 4))
    stride = (rng.randint(1, 3), rng.randint(1, 3))
    dilation = (rng.randint(1, 3), rng.randint(1, 3))
    output_padding = tuple(rng.randint(0, max(stride[i], dilation[i]) - 1) for i in range(2))
    hw = (rng.randint(1, 6), rng.randint(1, 6))
    # Padding up to what keeps the output non-empty.
    padding = tuple(rng.randint(0, max(0, min(2, ((hw[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1)) // 2)))
                    for i in range(2))
    n = rng.choice([1, 2])
    return ((n, c_in, *hw), (c_in, c_out // groups, *kernel), rng.random() < 0.6, stride, padding, output_padding,
            groups, dilation)


def conv_transpose2d_fns(stride, padding, output_padding, groups, dilation):
    def call(module):
        return lambda x, w, b: module.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation)
    return call(torchconv), call(F)


def conv_transpose2d_inputs(config, seed):
    x_shape, w_shape, has_bias, *_, groups, _ = config
    bias = seeded_randn(w_shape[1] * groups, seed + 2) if has_bias else None
    return [seeded_randn(x_shape, seed), seeded_randn(w_shape, seed + 1), bias]


@pytest.mark.parametrize("seed", range(40))
def test_conv_transpose2d_random(seed, device):
    config = random_conv_transpose_config(seed)
    ours, theirs = conv_transpose2d_fns(*config[3:])
    check_against_torch(ours, theirs, conv_transpose2d_inputs(config, seed), device=device)


@pytest.mark.parametrize("dtype", OTHER_DTYPES)
@pytest.mark.parametrize("seed", range(0, 40, 8))
def test_conv_transpose2d_random_dtypes(seed, dtype, device):
    skip_unsupported_dtype(dtype, device)
    config = random_conv_transpose_config(seed)
    ours, theirs = conv_transpose2d_fns(*config[3:])
    check_against_torch(ours, theirs, conv_transpose2d_inputs(config, seed), device=device, dtype=dtype)


@pytest.mark.parametrize("stride, output_padding, dilation", [
    (2, 1, 1),            # the usual upsampling case
    (1, 1, 2),            # output_padding >= stride, allowed because it is below the dilation
    ((1, 3), (2, 2), (3, 1)),
    ((2, 1), (0, 2), (1, 3)),
])
def test_conv_transpose2d_output_padding(stride, output_padding, dilation, device):
    inputs = [seeded_randn((2, 4, 5, 4), 0), seeded_randn((4, 3, 3, 2), 1), seeded_randn(3, 2)]
    ours, theirs = conv_transpose2d_fns(stride, 1, output_padding, 1, dilation)
    check_against_torch(ours, theirs, inputs, device=device)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("kernel, dilation", [
    ((3, 3), 1), ((5, 3), (1, 2)),
    ((4, 4), 1),             # even kernel: total padding 3 is odd, the extra row/column goes bottom/right
    ((2, 5), (3, 1)),        # total padding 3 x 4
    ((3, 2), (1, 3)),        # dilation giving an odd total padding (2 x 3)
    ((1, 4), (2, 2)),
])
def test_conv2d_padding_strings(padding, kernel, dilation, device):
    inputs = [seeded_randn((2, 4, 7, 8), 0), seeded_randn((6, 2, *kernel), 1), seeded_randn(6, 2)]
    ours, theirs = conv2d_fns(1, padding, dilation, 2)
    check_against_torch(ours, theirs, inputs, device=device)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv2d_padding_strings_channels_last(padding, device):
    inputs = [channels_last(seeded_randn((2, 4, 7, 8), 0)), seeded_randn((6, 4, 4, 3), 1), None]
    ours, theirs = conv2d_fns(1, padding, (1, 2), 1)
    check_against_torch(ours, theirs, inputs, device=device)


def test_conv2d_unbatched(device):
    inputs = [seeded_randn((3, 9, 7), 0), seeded_randn((6, 1, 3, 2), 1), seeded_randn(6, 2)]
    ours, theirs = conv2d_fns((2, 1), (1, 0), (1, 2), 3)
    outs, _ = check_against_torch(ours, theirs, inputs, device=device)
    assert outs[0].dim() == 3


def test_conv_transpose2d_unbatched(device):
    inputs = [seeded_randn((4, 5, 3), 0), seeded_randn((4, 3, 3, 2), 1), seeded_randn(6, 2)]
    ours, theirs = conv_transpose2d_fns((2, 3), (1, 0), (1, 2), 2, 1)
    outs, _ = check_against_torch(ours, theirs, inputs, device=device)
    assert outs[0].dim() == 3


EMPTY_BATCH_CASES = {  # functions, input shape, weight shape, bias size
    "conv2d": (conv2d_fns((2, 1), 1, 1, 2), (0, 4, 6, 5), (4, 2, 3, 3), 4),
    "conv_transpose2d": (conv_transpose2d_fns((2, 1), 1, 0, 2, 1), (0, 4, 6, 5), (4, 3, 3, 3), 6),
}


@pytest.mark.parametrize("op", EMPTY_BATCH_CASES)
def test_empty_batch(op, device):
    """N = 0: an empty output of the right shape, and zero weight and bias gradients."""
    (ours, theirs), x_shape, w_shape, bias_size = EMPTY_BATCH_CASES[op]
    inputs = [seeded_randn(x_shape, 0), seeded_randn(w_shape, 1), seeded_randn(bias_size, 2)]
    outs, grads = check_against_torch(ours, theirs, inputs, device=device)
    assert outs[0].shape[0] == 0
    assert all(torch.count_nonzero(g) == 0 for g in grads)


def grad_output_like(fn, inputs, layout, seed=7):
    """A random grad_output for fn(*inputs) in the layout LAYOUTS[layout]."""
    shape = fn(*inputs).shape
    return [LAYOUTS[layout](seeded_randn(shape, seed))]


@pytest.mark.parametrize("grad_layout", ["contiguous", "channels_last", "transposed"])
@pytest.mark.parametrize("weight_layout", ["contiguous", "channels_last", "sliced"])
@pytest.mark.parametrize("input_layout", ["contiguous", "channels_last", "transposed", "sliced"])
def test_conv2d_layouts(input_layout, weight_layout, grad_layout, device):
    """Any strides in, PyTorch's output memory format out (channels_last when the input or the weight is)."""
    inputs = [LAYOUTS[input_layout](seeded_randn((2, 6, 7, 9), 0)),
              LAYOUTS[weight_layout](seeded_randn((8, 3, 3, 2), 1)), seeded_randn(8, 2)]
    ours, theirs = conv2d_fns((1, 2), 1, (2, 1), 2)
    check_against_torch(ours, theirs, inputs, device=device,
                        grad_outputs=grad_output_like(theirs, inputs, grad_layout))


@pytest.mark.parametrize("grad_layout", ["contiguous", "channels_last", "sliced"])
@pytest.mark.parametrize("weight_layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("input_layout", ["contiguous", "channels_last", "transposed"])
def test_conv_transpose2d_layouts(input_layout, weight_layout, grad_layout, device):
    inputs = [LAYOUTS[input_layout](seeded_randn((2, 6, 5, 4), 0)),
              LAYOUTS[weight_layout](seeded_randn((6, 4, 3, 2), 1)), seeded_randn(8, 2)]
    ours, theirs = conv_transpose2d_fns(2, (1, 0), 1, 2, 1)
    check_against_torch(ours, theirs, inputs, device=device,
                        grad_outputs=grad_output_like(theirs, inputs, grad_layout))


GRADIENT_LAYOUT_CASES = {  # functions, input shape, weight shape
    "conv2d": (conv2d_fns(1, 1, 1, 1), (2, 4, 6, 6), (8, 4, 3, 3)),
    "conv_transpose2d": (conv_transpose2d_fns(2, 1, 1, 1, 1), (2, 4, 6, 6), (4, 3, 3, 3)),
}


@pytest.mark.parametrize("op", GRADIENT_LAYOUT_CASES)
@pytest.mark.parametrize("grad_layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("input_layout", ["contiguous", "channels_last"])
def test_gradient_memory_format(op, input_layout, grad_layout, device):
    """Input and weight gradients come back in PyTorch's memory format, which follows the forward's
    (input, weight) layout rule whatever the layout of the incoming gradient."""
    (ours, theirs), x_shape, w_shape = GRADIENT_LAYOUT_CASES[op]
    inputs = [LAYOUTS[input_layout](seeded_randn(x_shape, 0)).to(device), seeded_randn(w_shape, 1).to(device), None]
    grad = [g.to(device) for g in grad_output_like(theirs, inputs, grad_layout)]
    _, our_grads = forward_backward(ours, inputs, grad)
    _, their_grads = forward_backward(theirs, inputs, grad)
    for name, g, r in zip(["input", "weight"], our_grads, their_grads):
        assert_same_layout(g, r, f"{name} gradient")


DEPTHWISE_CASES = [  # (channels, multiplier, kernel, stride, padding, dilation, input size)
    (37, 1, 3, 1, 1, 1, (13, 40)),
    (48, 1, 3, 2, 1, 1, (15, 37)),
    (70, 1, (3, 5), (2, 1), (0, 2), (2, 1), (17, 21)),
    (5, 2, 3, (1, 3), 2, 2, (9, 35)),
]


@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("case", DEPTHWISE_CASES, ids=[f"case{i}" for i in range(len(DEPTHWISE_CASES))])
def test_depthwise_conv2d(case, layout, device):
    """Depthwise convolutions with many channels (several channel vectors plus a remainder), rows
    longer than a vector, strides, dilations and multipliers, in both memory formats."""
    c, m, kernel, stride, padding, dilation, hw = case
    kernel = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    x = LAYOUTS[layout](seeded_randn((2, c, *hw), 0))
    w = LAYOUTS[layout](seeded_randn((c * m, 1, *kernel), 1))
    ours, theirs = conv2d_fns(stride, padding, dilation, c)
    check_against_torch(ours, theirs, [x, w, seeded_randn(c * m, 2)], device=device)


@pytest.mark.parametrize("dtype", OTHER_DTYPES)
@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
def test_depthwise_conv2d_dtypes(layout, dtype, device):
    skip_unsupported_dtype(dtype, device)
    c, m, kernel, stride, padding, dilation, hw = DEPTHWISE_CASES[1]
    x = LAYOUTS[layout](seeded_randn((2, c, *hw), 0))
    w = LAYOUTS[layout](seeded_randn((c * m, 1, kernel, kernel), 1))
    ours, theirs = conv2d_fns(stride, padding, dilation, c)
    check_against_torch(ours, theirs, [x, w, seeded_randn(c * m, 2)], device=device, dtype=dtype)


NARROW_GROUP_CASES = [  # (groups, channels per group, kernel, stride, padding, dilation, input size)
    (9, 4, 3, 1, 1, 1, (11, 30)),
    (16, 2, 3, 2, 1, 1, (13, 21)),
    (5, 8, (3, 2), (2, 1), (1, 0), (1, 2), (12, 19)),
]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16], ids=["float64", "float32", "bfloat16"])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("case", NARROW_GROUP_CASES, ids=[f"case{i}" for i in range(len(NARROW_GROUP_CASES))])
def test_narrow_group_conv2d(case, layout, dtype, device):
    """Groups of 2, 4 and 8 channels in and out (ResNeXt-like), in both memory formats; channel
    counts that are not a multiple of the vector length."""
    skip_unsupported_dtype(dtype, device)
    groups, cg, kernel, stride, padding, dilation, hw = case
    kernel = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    x = LAYOUTS[layout](seeded_randn((2, groups * cg, *hw), 0))
    w = LAYOUTS[layout](seeded_randn((groups * cg, cg, *kernel), 1))
    ours, theirs = conv2d_fns(stride, padding, dilation, groups)
    check_against_torch(ours, theirs, [x, w, seeded_randn(groups * cg, 2)], device=device, dtype=dtype)


# Reductions over enough channels that the NCHW route (1x1 layers, and others with few output
# channels per group) takes them in chunks accumulated into the output, with blocks of columns that
# cross rows and a last block that overlaps the one before it; the last case's input gradient is
# such a reduction over its 300 output channels.
CHANNEL_CHUNK_CASES = [
    # (input shape, weight shape, padding, groups)
    ((2, 600, 5, 7), (100, 600, 1, 1), 0, 1),
    ((2, 300, 6, 19), (20, 300, 3, 3), 1, 1),
    ((1, 400, 4, 21), (40, 200, 3, 3), 1, 2),
    ((2, 20, 6, 19), (300, 20, 3, 3), 1, 1),
]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", CHANNEL_CHUNK_CASES, ids=[f"case{i}" for i in range(len(CHANNEL_CHUNK_CASES))])
def test_conv2d_channel_chunks(case, dtype, device):
    x_shape, w_shape, padding, groups = case
    x, w, b = seeded_randn(x_shape, 0), seeded_randn(w_shape, 1), seeded_randn(w_shape[0], 2)
    ours, theirs = conv2d_fns(1, padding, 1, groups)
    check_against_torch(ours, theirs, [x, w, b], device=device, dtype=dtype)


# channels_last inputs whose padding the forward reads in place (16+ input channels per group, edge
# columns at most an eighth of the row): border outputs leave out the taps that land in the padding,
# edge columns run as narrow tiles grouped by their column taps. Cases: plain 3x3; stride 2 (one
# left edge column, none on the right); dilation 2 (two edge columns per side, with different taps);
# rows of padding deeper than the filter's reach (first and last output rows with no tap at all,
# i.e. bias only); asymmetric filter, stride and dilation with groups.
PADDING_IN_PLACE_CASES = [
    # (input shape, weight shape, stride, padding, dilation, groups)
    ((2, 16, 7, 40), (24, 16, 3, 3), 1, 1, 1, 1),
    ((2, 32, 9, 57), (40, 32, 3, 3), 2, 1, 1, 1),
    ((1, 20, 8, 48), (33, 20, 3, 3), 1, 2, 2, 1),
    ((2, 16, 5, 40), (8, 16, 3, 3), 1, (4, 1), 1, 1),
    ((2, 36, 11, 70), (12, 18, 3, 2), (2, 3), (3, 1), (2, 3), 2),
]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", PADDING_IN_PLACE_CASES, ids=[f"case{i}" for i in range(len(PADDING_IN_PLACE_CASES))])
def test_conv2d_channels_last_padding_read_in_place(case, dtype, device):
    x_shape, w_shape, stride, padding, dilation, groups = case
    x = LAYOUTS["channels_last"](seeded_randn(x_shape, 0))
    w, b = seeded_randn(w_shape, 1), seeded_randn(w_shape[0], 2)
    ours, theirs = conv2d_fns(stride, padding, dilation, groups)
    check_against_torch(ours, theirs, [x, w, b], device=device, dtype=dtype)


# Strided 1x1 convolutions without padding run as stride-1 ones over the subsampled view. channels_last
# inputs: read in place (24 channels; 512 channels, whose pixels read are 4 KiB apart in float32 and
# 8 KiB in float64, in tiles of at most 7 pixels). NCHW
# inputs: the NHWC copy transposes each row's whole span and keeps every sw-th pixel (column steps up
# to 4; 5: element by element).
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("layout, x_shape, w_shape, stride, groups", [
    ("channels_last", (2, 24, 9, 11), (40, 24, 1, 1), (2, 3), 1),
    ("channels_last", (3, 24, 8, 7), (18, 12, 1, 1), (3, 1), 2),
    ("channels_last", (1, 512, 7, 9), (64, 512, 1, 1), 2, 1),
    ("contiguous", (2, 24, 9, 11), (40, 24, 1, 1), (2, 3), 1),
    ("contiguous", (3, 24, 8, 37), (18, 12, 1, 1), (3, 4), 2),
    ("contiguous", (1, 40, 7, 23), (64, 40, 1, 1), 5, 1),
], ids=["cl_in_place", "cl_groups", "cl_aliased", "nchw_step3", "nchw_step4", "nchw_step5"])
def test_conv2d_strided_pointwise(layout, x_shape, w_shape, stride, groups, dtype, device):
    x = LAYOUTS[layout](seeded_randn(x_shape, 0))
    w, b = seeded_randn(w_shape, 1), seeded_randn(w_shape[0], 2)
    ours, theirs = conv2d_fns(stride, 0, 1, groups)
    check_against_torch(ours, theirs, [x, w, b], device=device, dtype=dtype)


# channels_last outputs of 4 MiB and more (here 4.1-9.8 MB) are stored around the caches where a
# tile row is whole aligned vectors; the partial tile of 48 output channels per group, the ordinary
# way.
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("x_shape, w_shape, groups", [
    ((2, 8, 92, 92), (64, 8, 3, 3), 1),
    ((3, 8, 92, 92), (48, 8, 3, 3), 1),
    ((3, 8, 92, 92), (96, 4, 3, 3), 2),
], ids=["64", "48", "groups"])
def test_conv2d_channels_last_large_output(x_shape, w_shape, groups, dtype, device):
    x = LAYOUTS["channels_last"](seeded_randn(x_shape, 0))
    w, b = seeded_randn(w_shape, 1), seeded_randn(w_shape[0], 2)
    ours, theirs = conv2d_fns(1, 1, 1, groups)
    check_against_torch(ours, theirs, [x, w, b], device=device, dtype=dtype)


# Small images (a zero-padded NHWC copy of at most 32 KiB), at least four per thread, that cannot be
# read in place: each work item copies its own image and computes all of it, by bands of output rows.
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16],
                         ids=["float64", "float32", "bfloat16"])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "sliced", "transposed"])
@pytest.mark.parametrize("x_shape, w_shape, stride, padding", [
    ((12, 6, 14, 14), (16, 6, 5, 5), 1, 0),
    ((12, 16, 16, 16), (40, 16, 3, 3), 1, 1),
    ((9, 8, 10, 21), (24, 8, 3, 3), 2, (1, 2)),
], ids=["lenet", "two_panels", "strided"])
def test_conv2d_small_images(x_shape, w_shape, stride, padding, layout, dtype, device, num_threads):
    num_threads(2)
    x = LAYOUTS[layout](seeded_randn(x_shape, 0))
    w, b = seeded_randn(w_shape, 1), seeded_randn(w_shape[0], 2)
    ours, theirs = conv2d_fns(stride, padding, 1, 1)
    check_against_torch(ours, theirs, [x, w, b], device=device, dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("width", [16, 29])
def test_conv2d_aliased_rows_in_place(width, dtype, device):
    """1024 channels_last channels (4 KiB a float32 pixel, 8 KiB a float64 one): the forward reads
    them in place in tiles of at most 7 pixels (16 columns: 6, 5, 5), so no 8 of them share an L1 set."""
    x = LAYOUTS["channels_last"](seeded_randn((2, 1024, 3, width), 0))
    w = seeded_randn((40, 1024, 1, 1), 1) / 30
    ours, theirs = conv2d_fns(1, 0, 1, 1)
    check_against_torch(ours, theirs, [x, w, seeded_randn(40, 2)], device=device, dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("kernel, stride, padding", [(3, 1, 1), (1, 2, 0), (1, 1, 0)], ids=str)
def test_conv2d_pixel_stride_multiple_of_2k(kernel, stride, padding, layout, dtype, device):
    """512 channels (2 KiB a float32 pixel, 4 KiB a float64 one) in and out: the NHWC copies of the
    input (forward and weight gradient) and of the output gradient (input gradient) space their
    pixels one cache line further apart; the forward reads unpadded channels_last inputs in place,
    float64 in tiles of at most 7 pixels."""
    x = LAYOUTS[layout](seeded_randn((2, 512, 5, 9), 0))
    w = seeded_randn((512, 512, kernel, kernel), 1) / 30
    ours, theirs = conv2d_fns(stride, padding, 1, 1)
    check_against_torch(ours, theirs, [x, w, seeded_randn(512, 2)], device=device, dtype=dtype)


@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "sliced"])
@pytest.mark.parametrize("hw", [(7, 5), (1, 9), (4, 4)], ids=str)
def test_pointwise_conv2d(hw, layout, device):
    """1x1 convolutions, which NCHW tensors run on planes flattened to one row of H*W pixels."""
    x = LAYOUTS[layout](seeded_randn((3, 40, *hw), 0))
    w = seeded_randn((36, 40, 1, 1), 1)
    ours, theirs = conv2d_fns(1, 0, 1, 1)
    check_against_torch(ours, theirs, [x, w, seeded_randn(36, 2)], device=device)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("k", [13, 29])
@pytest.mark.parametrize("c, w", [(6, 14), (6, 5), (21, 19), (40, 37)], ids=str)
def test_conv2d_nchw_ragged_blocks(c, w, k, dtype, device):
    """NCHW tensors whose channel counts and row widths are no multiple of a vector: the conversions to
    and from NHWC transpose their ragged edge blocks with masked vectors."""
    x = seeded_randn((2, c, 4, w), 0)
    weight = seeded_randn((k, c, 2, 3), 1)
    ours, theirs = conv2d_fns(1, (0, 1), 1, 1)
    check_against_torch(ours, theirs, [x, weight, seeded_randn(k, 2)], device=device, dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("x_shape, w_shape, padding, dilation", [
    ((2, 20, 13, 17), (24, 20, 3, 3), 4, 4),
    ((2, 20, 11, 30), (40, 20, 3, 2), (5, 4), (5, 4)),
    ((1, 8, 9, 12), (16, 8, 3, 3), (4, 5), (4, 4)),
    ((1, 16, 12, 12), (32, 16, 3, 3), 40, 4),
    ((1, 16, 3, 400), (32, 16, 3, 3), 24, 1),
], ids=["d4", "wide", "uneven", "beyond_reach", "long_row"])
def test_conv2d_padding_taps_left_out(x_shape, w_shape, padding, dilation, layout, dtype, device):
    """Filter taps that read only padding are left out: rows always, columns where the edge columns
    with equal taps come in runs of at least 4 (dilation 4 and more, padded as much), runs longer than
    a tile (padding beyond the filter's reach) cut into tiles."""
    x = LAYOUTS[layout](seeded_randn(x_shape, 0))
    w, b = seeded_randn(w_shape, 1), seeded_randn(w_shape[0], 2)
    ours, theirs = conv2d_fns(1, padding, dilation, 1)
    check_against_torch(ours, theirs, [x, w, b], device=device, dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("hw", [(14, 14), (28, 28), (7, 7)], ids=str)
def test_pointwise_conv2d_nchw_routes(hw, dtype, device):
    """1x1 convolutions of NCHW tensors over full channel panels take the NCHW route where its flat
    grid is at most a tenth longer than the plane, else the NHWC one (with AVX-512 float32: 784
    pixels 2% longer, NCHW; 196 14%, 49 31%, NHWC)."""
    x = seeded_randn((2, 64, *hw), 0)
    w = seeded_randn((48, 64, 1, 1), 1)
    ours, theirs = conv2d_fns(1, 0, 1, 1)
    check_against_torch(ours, theirs, [x, w, seeded_randn(48, 2)], device=device, dtype=dtype)
