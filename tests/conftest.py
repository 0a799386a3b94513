"""Shared fixtures and helpers: the reference is torch.nn.functional in float64, compared by relative
error ||a - b|| / ||b||; low precision is judged against PyTorch's own error in the same dtype."""
import random

import pytest
import torch

# Relative-error bounds against the float64 reference.
TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-5}
# Low precision: torchconv's error may be at most LOW_PRECISION_FACTOR times PyTorch's own error in the
# same dtype, plus LOW_PRECISION_SLACK.
LOW_PRECISION_FACTOR = 2.0
LOW_PRECISION_SLACK = 1e-3

# The dtypes compared besides float64 (float16 is CUDA-only, see skip_unsupported_dtype).
OTHER_DTYPES = [pytest.param(dtype, id=str(dtype).split(".")[1])
                for dtype in (torch.float32, torch.bfloat16, torch.float16)]


@pytest.fixture(params=["cpu", "cuda"])
def device(request):
    """Every numerical comparison runs on the CPU and, where a GPU is present, on CUDA."""
    if request.param == "cuda" and not torch.cuda.is_available():
        pytest.skip("CUDA is not available")
    return request.param


@pytest.fixture
def single_thread():
    """One intra-op thread, for tests that make hundreds of tiny calls (gradcheck, opcheck): their cost is
    thread start-up, not arithmetic."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def num_threads():
    """Restores the intra-op thread count after a test that changes it."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


def skip_unsupported_dtype(dtype, device):
    if dtype == torch.float16 and device == "cpu":
        pytest.skip("float16 is supported on CUDA only")


# ---------------------------------------------------------------------------------------------
# Comparisons

def rel_err(ours, ref):
    """||ours - ref|| / ||ref|| in float64 (0 for empty tensors; an all-zero ref must be matched exactly)."""
    assert ours.shape == ref.shape, f"shape {tuple(ours.shape)} != reference {tuple(ref.shape)}"
    if ref.numel() == 0:
        return 0.0
    ours, ref = ours.detach().double().cpu(), ref.detach().double().cpu()
    return ((ours - ref).norm() / ref.norm().clamp_min(1e-300)).item()


def assert_rel_close(ours, ref, dtype, what=""):
    err = rel_err(ours, ref)
    assert err <= TOLERANCE[dtype], f"{what}: relative error {err:.3e} > {TOLERANCE[dtype]:.0e} ({dtype})"


def assert_low_precision_close(ours, theirs, ref, what=""):
    """`ours` (torchconv) and `theirs` (PyTorch) in the same low precision dtype, against a float64 `ref`."""
    ours_err, theirs_err = rel_err(ours, ref), rel_err(theirs, ref)
    bound = LOW_PRECISION_FACTOR * theirs_err + LOW_PRECISION_SLACK
    assert ours_err <= bound, f"{what}: torchconv error {ours_err:.3e}, PyTorch's {theirs_err:.3e}"


def layout(t):
    """(contiguous, channels_last): the memory-format facts PyTorch's layout rules decide."""
    return t.is_contiguous(), t.dim() == 4 and t.is_contiguous(memory_format=torch.channels_last)


def assert_same_layout(ours, ref, what=""):
    assert layout(ours) == layout(ref), (f"{what}: memory format (contiguous, channels_last) {layout(ours)} "
                                         f"!= PyTorch's {layout(ref)}; strides {ours.stride()} vs {ref.stride()}")


# ---------------------------------------------------------------------------------------------
# Running a function forward and backward

def seeded_randn(shape, seed, dtype=torch.float64):
    return torch.randn(shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


def as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


def forward_backward(fn, inputs, grad_outputs):
    """Runs fn(*inputs) and back-propagates `grad_outputs` into the floating-point outputs.

    Tensor inputs are used with their own strides (detach() keeps them, so strided views and
    channels_last tensors reach fn unchanged). Returns (outputs, gradients of the floating-point tensor
    inputs in order)."""
    leaves = [t.detach().requires_grad_() if torch.is_tensor(t) and t.is_floating_point() else t for t in inputs]
    outs = as_tuple(fn(*leaves))
    wrt = [t for t in leaves if torch.is_tensor(t) and t.requires_grad]
    diff = [(o, g) for o, g in zip(outs, grad_outputs) if o.is_floating_point()]
    grads = torch.autograd.grad([o for o, _ in diff], wrt, [g for _, g in diff], allow_unused=True)
    grads = [torch.zeros_like(t) if g is None else g for t, g in zip(wrt, grads)]
    return [o.detach() for o in outs], grads


def to_device(inputs, device, dtype=None):
    """Moves tensor inputs to `device` (and floating-point ones to `dtype`), keeping their strides."""
    def move(t):
        if not torch.is_tensor(t):
            return t
        target = dtype if dtype is not None and t.is_floating_point() else t.dtype
        return t.detach().to(device=device, dtype=target)
    return [move(t) for t in inputs]


def check_against_torch(ours_fn, torch_fn, inputs, *, device="cpu", dtype=torch.float64, grad_outputs=None,
                        exact_outputs=()):
    """Compares ours_fn with torch_fn on `inputs`: outputs and the gradient of every floating-point input.

    `inputs` are float64 CPU tensors (and any non-tensor arguments). The reference is torch_fn in float64 on
    the CPU; torchconv runs on `device` in `dtype`. float32/float64 are judged by TOLERANCE; bfloat16 and
    float16 against PyTorch's own error in that dtype. Outputs whose positions are in `exact_outputs` (max
    pooling values and indices) must equal PyTorch's exactly, NaNs included. `grad_outputs` default to
    seeded random tensors in the layout of the outputs. Also checks the output memory format.
    """
    low_precision = dtype not in TOLERANCE
    # The reference sees exactly the values torchconv sees (rounded to dtype), in float64.
    rounded = [t.to(dtype).double() if torch.is_tensor(t) and t.is_floating_point() else t for t in inputs]
    ref_outs = as_tuple(torch_fn(*rounded))
    if grad_outputs is None:
        grad_outputs = [torch.empty_like(o).copy_(seeded_randn(o.shape, 100 + i)) if o.is_floating_point() else None
                        for i, o in enumerate(ref_outs)]
    ref_outs, ref_grads = forward_backward(torch_fn, rounded, grad_outputs)

    def run(fn, run_device):
        return forward_backward(fn, to_device(inputs, run_device, dtype),
                                to_device(grad_outputs, run_device, dtype))

    outs, grads = run(ours_fn, device)
    # PyTorch in torchconv's dtype and on its device: the layout, exactness and low-precision yardstick.
    same_run = device == "cpu" and dtype == torch.float64
    theirs_outs, theirs_grads = (ref_outs, ref_grads) if same_run else run(torch_fn, device)

    assert len(outs) == len(ref_outs)
    for i, (o, r) in enumerate(zip(outs, ref_outs)):
        what = f"output {i}"
        assert o.shape == r.shape, f"{what}: shape {tuple(o.shape)} != PyTorch's {tuple(r.shape)}"
        assert o.device.type == torch.device(device).type, f"{what}: on {o.device}, expected {device}"
        assert_same_layout(o, theirs_outs[i], what)
        if i in exact_outputs:
            assert o.dtype == theirs_outs[i].dtype, f"{what}: dtype {o.dtype} != PyTorch's {theirs_outs[i].dtype}"
            torch.testing.assert_close(o.cpu(), theirs_outs[i].cpu(), rtol=0, atol=0, equal_nan=True,
                                       msg=f"{what} differs from PyTorch's")
        elif low_precision:
            assert o.dtype == dtype
            assert_low_precision_close(o, theirs_outs[i], r, what)
        else:
            assert o.dtype == dtype
            assert_rel_close(o, r, dtype, what)
    assert len(grads) == len(ref_grads)
    for i, (g, r) in enumerate(zip(grads, ref_grads)):
        what = f"gradient of input {i}"
        if low_precision:
            assert_low_precision_close(g, theirs_grads[i], r, what)
        else:
            assert_rel_close(g, r, dtype, what)
    return outs, grads


# ---------------------------------------------------------------------------------------------
# Inputs

def distinct_values(shape, seed=0, dtype=torch.float64):
    """A random permutation of evenly spaced values in [-1, 1): no ties, so max pooling's argmax is
    unique and stable under gradcheck's perturbations."""
    n = 1
    for s in shape:
        n *= s
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return (perm.to(dtype) * (2.0 / max(n, 1)) - 1.0).reshape(shape)


def rng_for(*key):
    """A random.Random seeded by a test's parameters, so every configuration is reproducible."""
    return random.Random(repr(key))


def channels_last(t):
    return t.contiguous(memory_format=torch.channels_last)


def transposed_view(t):
    """The same values as a non-contiguous view: H and W strides swapped (W outermost)."""
    return t.transpose(-1, -2).contiguous().transpose(-1, -2)


def sliced_view(t):
    """The same values as a non-contiguous view: every other element of a twice-wider tensor."""
    wide = torch.zeros(*t.shape[:-1], 2 * t.shape[-1], dtype=t.dtype)
    wide[..., ::2] = t
    return wide[..., ::2]


LAYOUTS = {"contiguous": lambda t: t, "channels_last": channels_last, "transposed": transposed_view,
           "sliced": sliced_view}


# ---------------------------------------------------------------------------------------------
# Models

class SmallCNN(torch.nn.Module):
    """A torch.nn CNN with every layer torchconv.convert swaps (and BatchNorm, ReLU, Linear, which it keeps)."""

    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, padding=1, bias=False), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
            torch.nn.MaxPool2d(3, 2, 1),
            torch.nn.Conv2d(8, 8, 3, padding=1, groups=8), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
            torch.nn.Conv2d(8, 12, 1), torch.nn.ReLU(),
            torch.nn.AvgPool2d(2, ceil_mode=True),
            torch.nn.ConvTranspose2d(12, 8, 2, stride=2),
            torch.nn.AdaptiveMaxPool2d((4, 4)))
        self.pool = torch.nn.AdaptiveAvgPool2d((2, 2))
        self.head = torch.nn.Linear(8 * 4, 5)

    def forward(self, x):
        return self.head(torch.flatten(self.pool(self.features(x)), 1))


def small_cnn(dtype=torch.float32):
    torch.manual_seed(0)
    return SmallCNN().to(dtype)
