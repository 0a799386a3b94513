"""CUDA-only tests (skipped without a GPU): every op against torchconv's CPU kernels, bitwise-repeatable
backward passes, float32 without TF32, float16/bfloat16 accuracy on real layer shapes against PyTorch's
own error, tensors above 2^31 elements, 100000 channels, CUDA graph capture and autocast."""
import pytest
import torch
import torch.nn.functional as F

import torchconv
from conftest import (assert_low_precision_close, assert_same_layout, channels_last, rel_err, seeded_randn,
                      small_cnn, transposed_view)

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")

ops = torch.ops.torchconv
CUDA = "cuda"

# CPU and CUDA accumulate in the same precision but in different orders.
CPU_AGREEMENT = {torch.float64: 1e-12, torch.float32: 1e-5, torch.bfloat16: 1e-2}


def on(device, dtype, *args):
    """The arguments with tensors moved to `device`, floating-point ones converted to `dtype`, strides kept."""
    return [a.to(device=device, dtype=dtype if a.is_floating_point() else a.dtype) if torch.is_tensor(a) else a
            for a in args]


# ---------------------------------------------------------------------------------------------
# Every op: CUDA against torchconv's CPU kernels

CONV = {  # name: (input shape, weight shape, stride, padding, dilation, groups)
    "dense": ((2, 5, 11, 9), (7, 5, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    "strided_dilated_grouped": ((2, 6, 13, 10), (8, 3, 3, 2), (2, 3), (1, 2), (2, 1), 2),
    "depthwise_multiplier": ((2, 4, 9, 8), (8, 1, 3, 3), (2, 1), (1, 1), (1, 2), 4),
    "wide": ((1, 70, 9, 8), (130, 70, 3, 3), (1, 1), (1, 1), (1, 1), 1),  # several 64x64 tiles
}
LAYOUTS = {"contiguous": lambda t: t, "channels_last": channels_last, "transposed": transposed_view}


CONV_OPS = ["conv2d", "conv2d_input_grad", "conv2d_weight_grad"]
POOL_OPS = ["max_pool2d", "max_pool2d_values", "adaptive_max_pool2d", "max_pool2d_backward", "adaptive_max_pool2d_backward",
            "avg_pool2d", "avg_pool2d_backward", "adaptive_avg_pool2d", "adaptive_avg_pool2d_backward"]


def conv_args(op, geometry):
    """Arguments of a convolution op for one geometry of CONV, as float64 CPU tensors."""
    x_shape, w_shape, *params = CONV[geometry]
    x, w, b = seeded_randn(x_shape, 0), seeded_randn(w_shape, 1), seeded_randn(w_shape[0], 2)
    dy = seeded_randn(ops.conv2d(x, w, b, *params).shape, 3)
    return {"conv2d": [x, w, b, *params], "conv2d_input_grad": [dy, w, list(x_shape), *params],
            "conv2d_weight_grad": [dy, x, list(w_shape), *params]}[op]


def pool_args(op):
    """(torchconv op name, arguments) of a pooling case, float64 CPU tensors: NaN and -inf windows for max,
    ceil_mode, dilation and count_include_pad=False for the sliding windows, unequal adaptive windows."""
    x = seeded_randn((2, 3, 11, 9), 4)
    x[0, 0, 2, 2] = float("nan")
    x[1, 2, :4, :4] = float("-inf")
    xa = seeded_randn((2, 3, 11, 9), 5)
    maxp = ([3, 2], [2, 1], [1, 1], [1, 2], True)
    avgp = ([3, 3], [2, 2], [1, 1], True, False, None)
    if op == "max_pool2d_backward":
        y, i = ops.max_pool2d(x, *maxp)
        return op, [seeded_randn(y.shape, 6), i, list(x.shape)]
    if op == "adaptive_max_pool2d_backward":  # max_pool2d_backward with adaptive indices
        _, i = ops.adaptive_max_pool2d(x, [4, 5])
        return "max_pool2d_backward", [seeded_randn(i.shape, 7), i, list(x.shape)]
    return op, {"max_pool2d": [x, *maxp], "max_pool2d_values": [x, *maxp], "adaptive_max_pool2d": [x, [4, 5]], "avg_pool2d": [xa, *avgp],
                "avg_pool2d_backward": [seeded_randn(ops.avg_pool2d(xa, *avgp).shape, 8), list(x.shape), *avgp],
                "adaptive_avg_pool2d": [xa, [4, 5]],
                "adaptive_avg_pool2d_backward": [seeded_randn((2, 3, 4, 5), 9), list(x.shape)]}[op]


OP_CASES = [(op, geometry) for geometry in CONV for op in CONV_OPS] + [(op, None) for op in POOL_OPS]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", CPU_AGREEMENT)
@pytest.mark.parametrize("op, geometry", OP_CASES, ids=[f"{op}-{g}" if g else op for op, g in OP_CASES])
def test_every_op_matches_cpu(op, geometry, dtype, layout):
    name, args = (op, conv_args(op, geometry)) if geometry else pool_args(op)
    fn = getattr(ops, name)
    args = [LAYOUTS[layout](a) if torch.is_tensor(a) and a.is_floating_point() and a.dim() == 4 else a for a in args]
    ref, out = fn(*on("cpu", dtype, *args)), fn(*on(CUDA, dtype, *args))
    for r, o in zip(ref if isinstance(ref, tuple) else (ref,), out if isinstance(out, tuple) else (out,)):
        assert o.device.type == CUDA and o.dtype == r.dtype and o.shape == r.shape
        assert_same_layout(o, r, name)
        if name in ("max_pool2d", "adaptive_max_pool2d"):  # values and indices exactly
            torch.testing.assert_close(o.cpu(), r, rtol=0, atol=0, equal_nan=True)
        else:
            err = rel_err(o, r)
            assert err <= CPU_AGREEMENT[dtype], f"{name} {dtype} {layout}: relative error {err:.2e} to the CPU"


def test_model_training_step_matches_cpu():
    """Forward and backward of the converted small CNN through autograd: CUDA against CPU, float64."""
    cpu = torchconv.convert(small_cnn(torch.float64))
    gpu = torchconv.convert(small_cnn(torch.float64)).to(CUDA)
    x = seeded_randn((4, 3, 16, 14), 0)
    results = []
    for model, device in ((cpu, "cpu"), (gpu, CUDA)):
        xi = x.to(device, copy=True).requires_grad_()
        model(xi).square().sum().backward()
        results.append([xi.grad] + [p.grad for p in model.parameters()])
    for a, b in zip(*results):
        assert rel_err(b, a) <= 1e-10


# ---------------------------------------------------------------------------------------------
# Determinism: backward results are bitwise identical run to run

def test_backward_is_bitwise_repeatable():
    g = torch.Generator(device=CUDA).manual_seed(0)
    x = torch.randn(8, 64, 28, 28, device=CUDA, generator=g).contiguous(memory_format=torch.channels_last)
    w = torch.randn(64, 64, 3, 3, device=CUDA, generator=g)
    wd = torch.randn(64, 1, 3, 3, device=CUDA, generator=g)
    dy = torch.randn(8, 64, 28, 28, device=CUDA, generator=g)
    dy2 = torch.randn(8, 64, 14, 14, device=CUDA, generator=g)
    _, idx = ops.max_pool2d(x, [3, 3], [2, 2], [1, 1], [1, 1], False)
    _, aidx = ops.adaptive_max_pool2d(x, [9, 11])
    calls = [
        lambda: ops.conv2d_weight_grad(dy, x, [64, 64, 3, 3], [1, 1], [1, 1], [1, 1], 1),  # split-K
        lambda: ops.conv2d_input_grad(dy, w, list(x.shape), [1, 1], [1, 1], [1, 1], 1),
        lambda: ops.conv2d_weight_grad(dy, x, [64, 1, 3, 3], [1, 1], [1, 1], [1, 1], 64),
        lambda: ops.conv2d_input_grad(dy2, wd, list(x.shape), [2, 2], [1, 1], [1, 1], 64),
        lambda: ops.max_pool2d_backward(dy2, idx, list(x.shape)),
        lambda: ops.max_pool2d_backward(dy[:, :, :9, :11], aidx, list(x.shape)),
        lambda: ops.avg_pool2d_backward(dy2, list(x.shape), [3, 3], [2, 2], [1, 1], False, True, None),
        lambda: ops.adaptive_avg_pool2d_backward(dy[:, :, :9, :11], list(x.shape)),
    ]
    for i, call in enumerate(calls):
        first, second = call(), call()
        assert torch.equal(first, second), f"call {i} is not bitwise repeatable"


# ---------------------------------------------------------------------------------------------
# Precision

def test_float32_is_not_tf32():
    """A long reduction (C*R*S = 2304): TF32 would be ~1e-3 off; fp32 FMAs are ~1e-6 off."""
    x, w = seeded_randn((2, 256, 12, 12), 0), seeded_randn((64, 256, 3, 3), 1)
    ref = F.conv2d(x, w, padding=1)
    dy = seeded_randn(ref.shape, 2)
    xc, wc, dyc = on(CUDA, torch.float32, x, w, dy)
    assert rel_err(ops.conv2d(xc, wc, None, [1, 1], [1, 1], [1, 1], 1), ref) <= 1e-5
    assert rel_err(ops.conv2d_input_grad(dyc, wc, list(x.shape), [1, 1], [1, 1], [1, 1], 1),
                   torch.nn.grad.conv2d_input(x.shape, w, dy, padding=1)) <= 1e-5
    assert rel_err(ops.conv2d_weight_grad(dyc, xc, list(w.shape), [1, 1], [1, 1], [1, 1], 1),
                   torch.nn.grad.conv2d_weight(x, w.shape, dy, padding=1)) <= 1e-5


LAYERS = {  # real CNN layers: (input shape, weight shape, stride, padding, groups)
    "resnet_stem": ((4, 3, 112, 112), (64, 3, 7, 7), 2, 3, 1),
    "resnet_3x3": ((8, 64, 28, 28), (64, 64, 3, 3), 1, 1, 1),
    "resnet_1x1": ((8, 256, 14, 14), (64, 256, 1, 1), 1, 0, 1),
    "mobilenet_depthwise": ((8, 96, 28, 28), (96, 1, 3, 3), 2, 1, 96),
    "resnext_grouped": ((4, 128, 14, 14), (128, 4, 3, 3), 1, 1, 32),
}


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("layer", LAYERS)
def test_low_precision_conv_accuracy(layer, dtype):
    """float16/bfloat16 (fp32 accumulation) against the float64 result of the same rounded inputs, judged by
    PyTorch's own error in that dtype."""
    x_shape, w_shape, stride, padding, groups = LAYERS[layer]
    x, w = on(CUDA, dtype, seeded_randn(x_shape, 0), seeded_randn(w_shape, 1))
    x64, w64 = x.double(), w.double()
    ref = F.conv2d(x64, w64, None, stride, padding, 1, groups)
    dy = seeded_randn(ref.shape, 2).to(CUDA, dtype)
    dy64 = dy.double()
    geometry = ([stride] * 2, [padding] * 2, [1, 1], groups)
    assert_low_precision_close(ops.conv2d(x, w, None, *geometry), F.conv2d(x, w, None, stride, padding, 1, groups),
                               ref, "forward")
    assert_low_precision_close(
        ops.conv2d_input_grad(dy, w, list(x_shape), *geometry),
        torch.nn.grad.conv2d_input(x_shape, w, dy, stride, padding, 1, groups),
        torch.nn.grad.conv2d_input(x_shape, w64, dy64, stride, padding, 1, groups), "input gradient")
    assert_low_precision_close(
        ops.conv2d_weight_grad(dy, x, list(w_shape), *geometry),
        torch.nn.grad.conv2d_weight(x, w_shape, dy, stride, padding, 1, groups),
        torch.nn.grad.conv2d_weight(x64, w_shape, dy64, stride, padding, 1, groups), "weight gradient")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_pool_accuracy(dtype):
    x = seeded_randn((16, 512, 14, 14), 0).to(CUDA, dtype).contiguous(memory_format=torch.channels_last)
    x64 = x.double()
    for ours, theirs in [
        (lambda t: ops.adaptive_avg_pool2d(t, [1, 1]), lambda t: F.adaptive_avg_pool2d(t, 1)),
        (lambda t: ops.avg_pool2d(t, [3, 3], [2, 2], [1, 1], False, True, None), lambda t: F.avg_pool2d(t, 3, 2, 1)),
    ]:
        assert_low_precision_close(ours(x), theirs(x), theirs(x64))


# ---------------------------------------------------------------------------------------------
# Sizes: above 2^31 elements (64-bit indexing), 100000 channels

def need_gpu_memory(gib):
    free, _ = torch.cuda.mem_get_info()
    if free < gib * 2**30:
        pytest.skip(f"needs {gib} GiB of free GPU memory, {free / 2**30:.1f} GiB free")


BIG = (1, 2, 32768, 32800)  # 2^31 + 2^21 elements; each plane below 2^31


def bands(rows, step=4096):
    """Row ranges [a, b) covering `rows`: the references are computed band by band, on tensors below 2^31
    elements."""
    return [(a, min(a + step, rows)) for a in range(0, rows, step)]


def padded_rows(x, a, b, below, above):
    """Rows [a - above, b + below) of x, zero rows standing in for those outside it."""
    H = x.shape[2]
    lo, hi = max(a - above, 0), min(b + below, H)
    return F.pad(x[:, :, lo:hi], (0, 0, lo - (a - above), (b + below) - hi))


def test_pooling_above_2_31_elements():
    need_gpu_memory(24)
    torch.manual_seed(0)
    x = torch.randn(BIG, device=CUDA, dtype=torch.float16)
    assert x.numel() > 2**31
    W = BIG[3]
    y, i = ops.max_pool2d(x, [2, 2], [2, 2], [0, 0], [1, 1], False)
    dx = ops.max_pool2d_backward(y, i, list(BIG))  # output above 2^31 elements
    for a, b in bands(y.shape[2]):
        xb = x[:, :, 2 * a:2 * b]
        ry, ri = F.max_pool2d(xb, 2, 2, return_indices=True)
        assert torch.equal(y[:, :, a:b], ry) and torch.equal(i[:, :, a:b], ri + 2 * a * W)
        ref = torch.ops.aten.max_pool2d_with_indices_backward(y[:, :, a:b], xb, [2, 2], [2, 2], [0, 0], [1, 1],
                                                              False, ri)
        assert torch.equal(dx[:, :, 2 * a:2 * b], ref)
    del y, i, dx

    y = ops.avg_pool2d(x, [3, 3], [2, 2], [1, 1], False, True, None)
    for a, b in bands(y.shape[2]):  # output rows [a, b) read input rows [2a - 1, 2b + 1)
        ref = F.avg_pool2d(padded_rows(x, 2 * a, 2 * b, 1, 1), 3, 2, (0, 1))
        assert rel_err(y[:, :, a:b], ref) < 2e-3
    del y

    # Adaptive pooling to H/64 rows: every output row pools exactly 64 input rows, so bands are independent.
    out = [BIG[2] // 64, 512]
    y = ops.adaptive_avg_pool2d(x, out)
    dx = ops.adaptive_avg_pool2d_backward(y, list(BIG))
    ym, im = ops.adaptive_max_pool2d(x, out)
    for a, b in bands(out[0], 64):
        xb = x[:, :, 64 * a:64 * b]
        assert rel_err(y[:, :, a:b], F.adaptive_avg_pool2d(xb, (b - a, out[1]))) < 2e-3
        assert rel_err(dx[:, :, 64 * a:64 * b], torch.ops.aten._adaptive_avg_pool2d_backward(y[:, :, a:b], xb)) < 2e-3
        ry, ri = F.adaptive_max_pool2d(xb, (b - a, out[1]), return_indices=True)
        assert torch.equal(ym[:, :, a:b], ry) and torch.equal(im[:, :, a:b], ri + 64 * a * W)


def test_conv_above_2_31_elements():
    need_gpu_memory(24)
    torch.manual_seed(0)
    x = torch.randn(BIG, device=CUDA, dtype=torch.float16)
    w = torch.randn(2, 2, 3, 3, device=CUDA, dtype=torch.float16)
    geometry = ([1, 1], [1, 1], [1, 1], 1)
    y = ops.conv2d(x, w, None, *geometry)
    for a, b in bands(BIG[2]):  # 3x3, padding 1: output rows [a, b) read input rows [a - 1, b + 1)
        assert rel_err(y[:, :, a:b], F.conv2d(padded_rows(x, a, b, 1, 1), w, padding=(0, 1))) < 2e-3
    dy = torch.randn_like(y).mul_(1 / 16)
    del y
    dx = ops.conv2d_input_grad(dy, w, list(BIG), *geometry)
    w_t = w.transpose(0, 1).flip(2, 3)  # stride 1: the input gradient is a convolution with the flipped weight
    for a, b in bands(BIG[2]):
        assert rel_err(dx[:, :, a:b], F.conv2d(padded_rows(dy, a, b, 1, 1), w_t, padding=(0, 1))) < 2e-3
    del dx
    # With one operand all ones (or constant), weight gradients are window sums of the other:
    #   x = 1:     dw[k, c, r, s] = sum of dy[0, k] over the output rows/columns whose tap lands in the input
    #   dy = c_dy: dw[k, c, r, s] = c_dy * sum of x[0, c] over the input rows/columns that tap (r, s) reads
    H, W = BIG[2:]
    out_rows = [(1, H), (0, H), (0, H - 1)]  # p with p + r - 1 in [0, H), for r = 0, 1, 2
    out_cols = [(1, W), (0, W), (0, W - 1)]
    in_rows = [(0, H - 1), (0, H), (1, H)]   # p + r - 1 for p in [0, H), clipped
    in_cols = [(0, W - 1), (0, W), (1, W)]
    ones = torch.ones_like(x)
    dw = ops.conv2d_weight_grad(dy, ones, [2, 2, 3, 3], *geometry)
    del ones
    for k in range(2):
        for r in range(3):
            for s in range(3):
                want = dy[0, k, slice(*out_rows[r]), slice(*out_cols[s])].sum(dtype=torch.float64)
                torch.testing.assert_close(dw[k, :, r, s].double(), want.expand(2), rtol=1e-2, atol=1.0)
    c_dy = 2.0**-4
    dy.fill_(c_dy)
    dw = ops.conv2d_weight_grad(dy, x, [2, 2, 3, 3], *geometry)
    for c in range(2):
        for r in range(3):
            for s in range(3):
                want = c_dy * x[0, c, slice(*in_rows[r]), slice(*in_cols[s])].sum(dtype=torch.float64)
                torch.testing.assert_close(dw[:, c, r, s].double(), want.expand(2), rtol=1e-2, atol=1.0)


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_max_pool_100000_channels(memory_format):
    x = torch.randn(2, 100000, 7, 6, device=CUDA).contiguous(memory_format=memory_format)
    y, i = torchconv.max_pool2d(x, 3, 2, 1, return_indices=True)
    ry, ri = F.max_pool2d(x, 3, 2, 1, return_indices=True)
    assert torch.equal(y, ry) and torch.equal(i, ri)
    assert_same_layout(y, ry)
    dy = torch.randn_like(y)
    dx = ops.max_pool2d_backward(dy, i, list(x.shape))
    ref = torch.ops.aten.max_pool2d_with_indices_backward(dy, x, [3, 3], [2, 2], [1, 1], [1, 1], False, ri)
    torch.testing.assert_close(dx, ref, rtol=1e-6, atol=1e-6)
    y = torchconv.adaptive_max_pool2d(x, (3, 2))
    assert torch.equal(y, F.adaptive_max_pool2d(x, (3, 2)))


# ---------------------------------------------------------------------------------------------
# Errors and CUDA graphs

def test_max_pool_backward_rejects_bad_indices():
    x = torch.randn(1, 2, 6, 6, device=CUDA)
    y, i = ops.max_pool2d(x, [2, 2], [2, 2], [0, 0], [1, 1], False)
    i[0, 1, 2, 2] = 36
    with pytest.raises(RuntimeError, match="outside the input plane"):
        ops.max_pool2d_backward(y, i, [1, 2, 6, 6])


def test_cuda_graph_capture():
    """Every backward op (and the forward conv) can be captured: no host synchronisation inside."""
    x = torch.randn(2, 8, 12, 12, device=CUDA)
    w = torch.randn(8, 8, 3, 3, device=CUDA)
    y, i = ops.max_pool2d(x, [3, 3], [2, 2], [1, 1], [1, 1], False)
    dy = torch.randn(2, 8, 12, 12, device=CUDA)

    def run():
        return [ops.max_pool2d_backward(y, i, list(x.shape)),
                ops.conv2d(x, w, None, [1, 1], [1, 1], [1, 1], 1),
                ops.conv2d_input_grad(dy, w, list(x.shape), [1, 1], [1, 1], [1, 1], 1),
                ops.conv2d_weight_grad(dy, x, list(w.shape), [1, 1], [1, 1], [1, 1], 1)]

    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        eager = run()  # warm-up outside the capture
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        captured = run()
    graph.replay()
    torch.cuda.synchronize()
    for a, b in zip(eager, captured):
        assert torch.equal(a, b)


# ---------------------------------------------------------------------------------------------
# Autocast

AUTOCAST_TOL = {torch.float16: 1e-2, torch.bfloat16: 5e-2}


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_autocast_ops(dtype):
    """Convolutions run in the autocast dtype, as PyTorch's do; pooling keeps its input dtype; float64
    tensors are left alone."""
    x = torch.randn(2, 4, 9, 9, device=CUDA)
    w = torch.randn(6, 4, 3, 3, device=CUDA)
    b = torch.randn(6, device=CUDA)
    dy = torch.randn(2, 6, 7, 7, device=CUDA)
    geometry = ([1, 1], [0, 0], [1, 1], 1)
    with torch.autocast(CUDA, dtype=dtype):
        assert ops.conv2d(x, w, b, *geometry).dtype == F.conv2d(x, w, b).dtype == dtype
        assert ops.conv2d_input_grad(dy, w, list(x.shape), *geometry).dtype == dtype
        assert ops.conv2d_weight_grad(dy, x, list(w.shape), *geometry).dtype == dtype
        assert torchconv.conv_transpose2d(dy, w).dtype == dtype
        assert torchconv.conv2d(x.double(), w.double()).dtype == torch.float64
        assert torchconv.max_pool2d(x, 2).dtype == F.max_pool2d(x, 2).dtype == torch.float32
        assert torchconv.avg_pool2d(x.to(dtype), 2).dtype == dtype
        assert torchconv.adaptive_avg_pool2d(x, 3).dtype == torch.float32
        assert torchconv.conv2d(x.cpu(), w.cpu()).dtype == torch.float32  # CPU tensors: CUDA autocast ignores them
        out = torchconv.conv2d(x, w, b)
    ref = F.conv2d(x.to(dtype).double(), w.to(dtype).double(), b.to(dtype).double())
    assert rel_err(out, ref) <= AUTOCAST_TOL[dtype]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_autocast_converted_cnn(dtype):
    """The small CNN under autocast, converted and not: same dtypes (convolutions in the autocast dtype),
    outputs and parameter gradients within the autocast dtype's tolerance."""
    model = small_cnn().to(CUDA)
    ours = torchconv.convert(model)
    x = seeded_randn((4, 3, 16, 14), 0, torch.float32).to(CUDA)
    results = []
    for m in (model, ours):
        conv_dtypes = []
        hooks = [c.register_forward_hook(lambda mod, inp, out: conv_dtypes.append(out.dtype))
                 for c in m.modules() if isinstance(c, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
        with torch.autocast(CUDA, dtype=dtype):
            out = m(x)
        out.float().square().mean().backward()
        for h in hooks:
            h.remove()
        results.append((out, conv_dtypes, [p.grad for p in m.parameters()]))
    (ref, ref_dtypes, ref_grads), (out, out_dtypes, grads) = results
    assert out.dtype == ref.dtype == dtype
    assert out_dtypes == ref_dtypes == [dtype] * 4
    assert rel_err(out, ref) <= AUTOCAST_TOL[dtype]
    for g, r in zip(grads, ref_grads):  # through five low-precision layers: twice the output tolerance
        assert g.dtype == r.dtype == torch.float32
        assert rel_err(g, r) <= 2 * AUTOCAST_TOL[dtype]
