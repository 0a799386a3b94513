"""Pooling against torch.nn.functional: max pooling values and indices exactly (NaN, -inf, ties, ceil_mode,
dilation), average pooling divisors, adaptive windows, memory formats, unbatched and empty inputs, and
every gradient."""
import pytest
import torch
import torch.nn.functional as F

import torchconv
from conftest import (LAYOUTS, OTHER_DTYPES, as_tuple, assert_same_layout, channels_last, check_against_torch,
                      forward_backward, rng_for, seeded_randn, skip_unsupported_dtype, to_device)

NAN, INF = float("nan"), float("inf")


def pool_out_size(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling output size (the ceil_mode rule drops a last window starting in the right padding)."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def windows_nonempty(size, k, s, p, d, ceil_mode):
    """For each output position along one dimension: does its dilated window hit the input at all?"""
    result = []
    for o in range(pool_out_size(size, k, s, p, d, ceil_mode)):
        taps = [o * s - p + i * d for i in range(k)]
        result.append(any(0 <= t < size for t in taps))
    return result


def random_values(rng, shape, seed):
    """Inputs that stress max pooling: plain, with NaNs, with -inf (whole windows of it), or heavy ties."""
    kind = rng.choice(["plain", "nan", "minus_inf", "ties"])
    x = seeded_randn(shape, seed)
    mask = seeded_randn(shape, seed + 1)
    if kind == "nan":
        x[mask > 1.0] = NAN
    elif kind == "minus_inf":
        x[mask > -0.2] = -INF
    elif kind == "ties":
        x = torch.round(x)
    return x


def random_max_pool_case(seed):
    """(input, (kernel, stride, padding, dilation, ceil_mode)) drawn from `seed`: PyTorch-valid parameters
    with a non-empty output and every window touching the input, unbatched for some seeds, in a random
    layout and with values from random_values."""
    rng = rng_for("max_pool2d", seed)
    while True:
        k = (rng.randint(1, 4), rng.randint(1, 4))
        s = (rng.randint(1, 3), rng.randint(1, 3))
        d = (rng.randint(1, 3), rng.randint(1, 3)) if seed % 2 else (1, 1)
        p = (rng.randint(0, k[0] // 2), rng.randint(0, k[1] // 2))
        ceil_mode = rng.random() < 0.5
        hw = (rng.randint(1, 9), rng.randint(1, 9))
        rows, cols = (windows_nonempty(hw[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(2))
        if rows and cols and all(rows) and all(cols):
            break
    shape = (rng.randint(1, 3), rng.randint(1, 5), *hw) if rng.random() < 0.8 else (rng.randint(1, 5), *hw)
    layout = rng.choice(["contiguous", "channels_last", "sliced"]) if len(shape) == 4 else "contiguous"
    return LAYOUTS[layout](random_values(rng, shape, seed)), (k, s, p, d, ceil_mode)


def max_pool2d_fns(kernel, stride, padding, dilation, ceil_mode):
    def call(module):
        return lambda x: module.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode, return_indices=True)
    return call(torchconv), call(F)


def avg_pool2d_fns(kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    def call(module):
        return lambda x: module.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    return call(torchconv), call(F)


@pytest.mark.parametrize("seed", range(60))
def test_max_pool2d_random(seed, device):
    x, args = random_max_pool_case(seed)
    check_against_torch(*max_pool2d_fns(*args), [x], device=device, exact_outputs=(0, 1))


@pytest.mark.parametrize("dtype", OTHER_DTYPES)
@pytest.mark.parametrize("seed", range(0, 60, 6))
def test_max_pool2d_random_dtypes(seed, dtype, device):
    skip_unsupported_dtype(dtype, device)
    x, args = random_max_pool_case(seed)
    check_against_torch(*max_pool2d_fns(*args), [x], device=device, dtype=dtype, exact_outputs=(0, 1))


@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
def test_max_pool2d_nan_wins(layout, device):
    """A window holding a NaN yields NaN with the index of its last NaN, as PyTorch does."""
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float64).reshape(2, 3, 6, 6)
    x[0, 0, 0, 0] = NAN               # first element of window (0, 0)
    x[0, 1, 1, 1] = NAN               # last element of window (0, 0)
    x[0, 2, 2, 2] = x[0, 2, 3, 3] = NAN   # two NaNs in window (1, 1)
    x[1, :, 4:, 4:] = NAN             # a whole window of NaNs
    ours, theirs = max_pool2d_fns(2, 2, 0, 1, False)
    (values, indices), _ = check_against_torch(ours, theirs, [LAYOUTS[layout](x)], device=device,
                                               exact_outputs=(0, 1))
    assert values[0, 0, 0, 0].isnan() and values[0, 1, 0, 0].isnan() and values[1, 2, 2, 2].isnan()
    assert indices[0, 2, 1, 1] == 3 * 6 + 3


@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
def test_max_pool2d_minus_inf_windows(layout, device):
    """Windows of -inf only (padding counts as -inf too) keep -inf and point at their first element."""
    x = seeded_randn((1, 4, 7, 7), 0)
    x[:, :, :4, :4] = -INF
    x[:, 1] = -INF
    ours, theirs = max_pool2d_fns(3, 2, 1, 1, True)
    (values, _), _ = check_against_torch(ours, theirs, [LAYOUTS[layout](x)], device=device, exact_outputs=(0, 1))
    assert values[0, 0, 0, 0] == -INF and (values[0, 1] == -INF).all()


CEIL_MODE_CASES = [  # (input size, kernel, stride, padding, dilation)
    (5, 2, 2, 1, 1),   # a ceil window would start in the right padding: dropped
    (6, 3, 2, 1, 1),   # the last window starts inside and runs past the input
    (7, 3, 3, 1, 1),
    (1, 3, 2, 1, 1),   # a single pixel padded on both sides
    (4, 3, 2, 1, 2),   # dilated windows starting in the left padding
    (8, 2, 3, 1, 2),
]


@pytest.mark.parametrize("size, kernel, stride, padding, dilation", CEIL_MODE_CASES)
def test_max_pool2d_ceil_mode_windows_in_padding(size, kernel, stride, padding, dilation, device):
    x = seeded_randn((2, 3, size, size + 1), 0)
    check_against_torch(*max_pool2d_fns(kernel, stride, padding, dilation, True), [x], device=device,
                        exact_outputs=(0, 1))


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("size, kernel, stride, padding", [case[:4] for case in CEIL_MODE_CASES if case[4] == 1])
def test_avg_pool2d_ceil_mode_windows_in_padding(size, kernel, stride, padding, count_include_pad, device):
    x = seeded_randn((2, 3, size, size + 1), 0)
    check_against_torch(*avg_pool2d_fns(kernel, stride, padding, True, count_include_pad, None), [x], device=device)


def check_values_only(x, args, device, dtype=torch.float64):
    """Max pooling where no gradient is needed (torchconv.max_pool2d of an input that needs none or under
    no_grad, and the op it then calls, max_pool2d_values, which keeps no indices) against F.max_pool2d:
    the same values, NaN where PyTorch has NaN, in the same memory format."""
    x = to_device([x], device, dtype)[0]
    expected = F.max_pool2d(x, *args)
    with torch.no_grad():
        under_no_grad = torchconv.max_pool2d(x.detach().requires_grad_(), *args)
    pairs = [a if isinstance(a, tuple) else (a, a) for a in args[:4]]
    for got in (torchconv.max_pool2d(x, *args), under_no_grad, torch.ops.torchconv.max_pool2d_values(x, *pairs, args[4])):
        torch.testing.assert_close(got, expected, rtol=0, atol=0, equal_nan=True)
        assert_same_layout(got, expected)


@pytest.mark.parametrize("dtype", [pytest.param(torch.float64, id="float64"), *OTHER_DTYPES])
@pytest.mark.parametrize("seed", range(0, 60, 4))
def test_max_pool2d_values_only_random(seed, dtype, device):
    skip_unsupported_dtype(dtype, device)
    x, args = random_max_pool_case(seed)
    check_values_only(x, args, device, dtype)


VALUES_ONLY_CASES = {  # name -> (input shape, (kernel, stride, padding, dilation, ceil_mode))
    "3x3s2_many_planes": ((2, 70, 37, 23), (3, 2, 1, 1, False)),
    "2x2_gaps": ((2, 70, 37, 23), (2, 3, 0, 1, False)),
    "dilated_ceil": ((3, 20, 11, 9), ((3, 2), (2, 3), 1, (3, 2), True)),
    "windows_in_padding": ((2, 3, 5, 2), ((1, 2), (2, 2), (0, 1), (1, 3), True)),
}


@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("case", VALUES_ONLY_CASES)
def test_max_pool2d_values_only_blocks_and_padding(case, layout, device):
    """Several interleaved plane blocks and row bands (NCHW), vectors of channels plus a remainder
    (channels_last), ties and NaNs, and dilated windows lying entirely in the padding (-inf)."""
    shape, args = VALUES_ONLY_CASES[case]
    x = torch.round(3 * seeded_randn(shape, 0))
    x[seeded_randn(shape, 1) > 2.0] = NAN
    check_values_only(LAYOUTS[layout](x), args, device)


def test_max_pool2d_values_gradient(device):
    """The values-only op keeps indices when autograd needs them: its gradient is max_pool2d's."""
    x = seeded_randn((1, 2, 5, 5), 0).to(device).requires_grad_()
    dy = seeded_randn((1, 2, 3, 3), 1).to(device)
    args = ((2, 2), (2, 2), (1, 1), (1, 1), False)
    torch.ops.torchconv.max_pool2d_values(x, *args).backward(dy)
    ours = x.grad.clone()
    x.grad = None
    torch.ops.torchconv.max_pool2d(x, *args)[0].backward(dy)
    assert torch.equal(ours, x.grad) and ours.abs().sum() > 0


def test_max_pool2d_windows_entirely_in_padding(device):
    """Dilated windows that start in the padding and jump over the whole input hold no input element: their
    value is -inf (as in PyTorch), their index -1 (PyTorch points at an element outside the window) and they
    pass no gradient, while every other window matches PyTorch and its gradient reaches its argmax."""
    kernel, stride, padding, dilation = (1, 2), (2, 2), (0, 1), (1, 3)
    x = seeded_randn((2, 3, 5, 2), 0).to(device).requires_grad_()
    values, indices = torchconv.max_pool2d(x, kernel, stride, padding, dilation, True, return_indices=True)
    ref_values, ref_indices = F.max_pool2d(x.detach(), kernel, stride, padding, dilation, True, return_indices=True)
    cols = torch.tensor(windows_nonempty(2, kernel[1], stride[1], padding[1], dilation[1], True), device=device)
    assert not cols.all(), "the configuration must contain windows outside the input"
    assert torch.equal(values.detach(), ref_values)
    assert torch.equal(torch.where(cols, indices, 0), torch.where(cols, ref_indices, 0))
    assert bool((indices[..., ~cols] == -1).all())

    grad_output = seeded_randn(values.shape, 1).to(device)
    (grad,) = torch.autograd.grad(values, x, grad_output)
    live_index = torch.where(cols, indices, 0).flatten(2)
    live_grad = torch.where(cols, grad_output, 0).flatten(2)
    expected = torch.zeros(2, 3, 5 * 2, dtype=grad.dtype, device=device).scatter_add_(2, live_index, live_grad)
    torch.testing.assert_close(grad, expected.reshape(grad.shape), rtol=1e-12, atol=0)


def random_avg_pool_case(seed):
    """(input, (kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)) drawn from `seed`."""
    rng = rng_for("avg_pool2d", seed)
    k = (rng.randint(1, 4), rng.randint(1, 4))
    s = (rng.randint(1, 3), rng.randint(1, 3))
    p = (rng.randint(0, k[0] // 2), rng.randint(0, k[1] // 2))
    hw = tuple(max(1, k[i] - 2 * p[i]) + rng.randint(0, 6) for i in range(2))
    shape = (rng.randint(1, 3), rng.randint(1, 5), *hw) if rng.random() < 0.8 else (rng.randint(1, 5), *hw)
    layout = rng.choice(["contiguous", "channels_last", "transposed"]) if len(shape) == 4 else "contiguous"
    divisor_override = rng.choice([None, None, 1, 3, 7])
    return (LAYOUTS[layout](seeded_randn(shape, seed)),
            (k, s, p, rng.random() < 0.5, rng.random() < 0.5, divisor_override))


@pytest.mark.parametrize("seed", range(50))
def test_avg_pool2d_random(seed, device):
    x, args = random_avg_pool_case(seed)
    check_against_torch(*avg_pool2d_fns(*args), [x], device=device)


@pytest.mark.parametrize("dtype", OTHER_DTYPES)
@pytest.mark.parametrize("seed", range(0, 50, 5))
def test_avg_pool2d_random_dtypes(seed, dtype, device):
    skip_unsupported_dtype(dtype, device)
    x, args = random_avg_pool_case(seed)
    check_against_torch(*avg_pool2d_fns(*args), [x], device=device, dtype=dtype)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("divisor_override", [None, 1, 5, -2])
def test_avg_pool2d_divisors(count_include_pad, divisor_override, device):
    """Border windows divide by the padded window size, the in-input count, or divisor_override (any
    non-zero integer, as in PyTorch)."""
    ours, theirs = avg_pool2d_fns((3, 2), (2, 1), 1, True, count_include_pad, divisor_override)
    check_against_torch(ours, theirs, [seeded_randn((2, 3, 6, 5), 0)], device=device)


def adaptive_fns(op, output_size):
    """(torchconv function, PyTorch function, positions of exactly compared outputs) of adaptive `op`."""
    if op == "adaptive_max_pool2d":
        return (lambda x: torchconv.adaptive_max_pool2d(x, output_size, return_indices=True),
                lambda x: F.adaptive_max_pool2d(x, output_size, return_indices=True), (0, 1))
    return (lambda x: torchconv.adaptive_avg_pool2d(x, output_size),
            lambda x: F.adaptive_avg_pool2d(x, output_size), ())


ADAPTIVE_OPS = ["adaptive_avg_pool2d", "adaptive_max_pool2d"]
ADAPTIVE_SIZES = [1, (1, 1), (2, 3), (5, 7), (9, 12), (4, 2), (None, 4), (3, None), (None, None), (7, 1)]


@pytest.mark.parametrize("output_size", ADAPTIVE_SIZES, ids=str)
@pytest.mark.parametrize("input_hw", [(5, 7), (1, 1), (8, 3)], ids=str)
@pytest.mark.parametrize("op", ADAPTIVE_OPS)
def test_adaptive_pool2d(op, input_hw, output_size, device):
    """Output sizes smaller than, equal to and larger than the input (overlapping windows), and None
    entries (keep that input size); rounded values make ties for max pooling."""
    ours, theirs, exact = adaptive_fns(op, output_size)
    x = torch.round(2 * seeded_randn((2, 3, *input_hw), 0))
    check_against_torch(ours, theirs, [x], device=device, exact_outputs=exact)


@pytest.mark.parametrize("dtype", OTHER_DTYPES)
@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("op", ADAPTIVE_OPS)
def test_adaptive_pool2d_dtypes_and_layouts(op, layout, dtype, device):
    skip_unsupported_dtype(dtype, device)
    ours, theirs, exact = adaptive_fns(op, (4, 5))
    x = LAYOUTS[layout](seeded_randn((2, 5, 9, 7), 0))
    check_against_torch(ours, theirs, [x], device=device, dtype=dtype, exact_outputs=exact)


@pytest.mark.parametrize("output_size", [(0, 3), 0])
@pytest.mark.parametrize("op", ADAPTIVE_OPS)
def test_adaptive_pool2d_empty_output(op, output_size, device):
    x = seeded_randn((2, 3, 5, 4), 0).to(device)
    assert getattr(torchconv, op)(x, output_size).shape == getattr(F, op)(x, output_size).shape


POOLS = {  # name -> (torchconv function, PyTorch function, positions of exactly compared outputs)
    "max_pool2d": (*max_pool2d_fns(3, 2, 1, 1, True), (0, 1)),
    "max_pool2d_dilated": (*max_pool2d_fns((2, 3), (1, 2), 1, (2, 1), False), (0, 1)),
    "avg_pool2d": (*avg_pool2d_fns(3, 2, 1, True, False, None), ()),
    "adaptive_avg_pool2d": adaptive_fns("adaptive_avg_pool2d", (3, 4)),
    "adaptive_max_pool2d": adaptive_fns("adaptive_max_pool2d", (3, 4)),
}


@pytest.mark.parametrize("shape", [(3, 7, 6), (0, 3, 7, 6)], ids=["unbatched", "empty_batch"])
@pytest.mark.parametrize("pool", POOLS)
def test_pool_unbatched_and_empty_batch(pool, shape, device):
    ours, theirs, exact = POOLS[pool]
    outs, _ = check_against_torch(ours, theirs, [seeded_randn(shape, 0)], device=device, exact_outputs=exact)
    assert outs[0].dim() == len(shape)


@pytest.mark.parametrize("grad_layout", ["contiguous", "channels_last", "sliced"])
@pytest.mark.parametrize("input_layout", ["contiguous", "channels_last", "transposed", "sliced"])
@pytest.mark.parametrize("pool", POOLS)
def test_pool_layouts(pool, input_layout, grad_layout, device):
    """Any input strides and any grad_output strides; the output keeps PyTorch's memory format."""
    ours, theirs, exact = POOLS[pool]
    x = LAYOUTS[input_layout](seeded_randn((2, 5, 7, 6), 0))
    grad_outputs = [LAYOUTS[grad_layout](seeded_randn(o.shape, 1)) if o.is_floating_point() else None
                    for o in as_tuple(theirs(x))]
    check_against_torch(ours, theirs, [x], device=device, exact_outputs=exact, grad_outputs=grad_outputs)


@pytest.mark.parametrize("grad_layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("input_layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("pool", POOLS)
def test_pool_gradient_memory_format(pool, input_layout, grad_layout, device):
    """The input gradient comes back in the input's memory format (PyTorch's rule), whatever the layout
    of the incoming gradient."""
    ours, theirs, _ = POOLS[pool]
    x = LAYOUTS[input_layout](seeded_randn((2, 5, 7, 6), 0)).to(device)
    grad = [LAYOUTS[grad_layout](seeded_randn(as_tuple(theirs(x))[0].shape, 1)).to(device)]
    (_, [our_grad]), (_, [their_grad]) = forward_backward(ours, [x], grad), forward_backward(theirs, [x], grad)
    assert_same_layout(our_grad, their_grad, "input gradient")


BLOCKED_POOLS = {  # geometries whose windows overlap, skip rows, or lie partly in the padding
    "max_pool2d_3x3s2": (*max_pool2d_fns(3, 2, 1, 1, False), (0, 1)),
    "max_pool2d_dilated_ceil": (*max_pool2d_fns((3, 2), (2, 3), 1, (3, 2), True), (0, 1)),
    "max_pool2d_gaps": (*max_pool2d_fns(2, 3, 0, 1, False), (0, 1)),
    "avg_pool2d_3x3s2_pad": (*avg_pool2d_fns(3, 2, 1, True, False, None), ()),
    "avg_pool2d_2x2": (*avg_pool2d_fns(2, 2, 0, False, True, None), ()),
    "adaptive_max_pool2d": adaptive_fns("adaptive_max_pool2d", (11, 5)),
    "adaptive_avg_pool2d": adaptive_fns("adaptive_avg_pool2d", (5, 11)),
}


@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("pool", BLOCKED_POOLS)
def test_pool_many_planes_and_rows(pool, layout, device):
    """Enough planes for several interleaved plane blocks plus a partial one (2 x 70 = 140 planes,
    blocks of 64) and enough rows for several row bands, with ties so that index order matters."""
    ours, theirs, exact = BLOCKED_POOLS[pool]
    x = LAYOUTS[layout](torch.round(3 * seeded_randn((2, 70, 37, 23), 0)))
    check_against_torch(ours, theirs, [x], device=device, exact_outputs=exact)


@pytest.mark.parametrize("kernel, stride, padding", [(2, 2, 0), (3, 2, 1), (3, 1, 1)], ids=str)
def test_max_pool2d_backward_reused_gradient_buffer(kernel, stride, padding, device):
    """channels_last backward over whole images (at least two per thread), each zeroed in chunks just
    ahead of the indices that reach it: twice in a row, so that the second call's gradient buffer of
    over 256 KiB comes back from the output cache holding the first call's values."""
    n = 2 * torch.get_num_threads() + 1
    x = channels_last(seeded_randn((n, 64, 17, 16), 0)).to(device).requires_grad_()
    expected_x = x.detach().clone().requires_grad_()
    for seed in (1, 2):
        ours = torchconv.max_pool2d(x, kernel, stride, padding)
        theirs = F.max_pool2d(expected_x, kernel, stride, padding)
        gy = channels_last(seeded_randn(ours.shape, seed)).to(device)
        (got,) = torch.autograd.grad(ours, [x], gy)
        (want,) = torch.autograd.grad(theirs, [expected_x], gy)
        torch.testing.assert_close(got, want)
