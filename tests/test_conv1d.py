"""1-D layers (run by the 2-D kernels on a unit-height view) against torch.nn.functional in float64:
outputs, every gradient, indices, modules, convert and errors."""
import copy

import pytest
import torch
import torch.nn.functional as F

import torchconv
import torchconv.nn as tnn
from conftest import (OTHER_DTYPES, check_against_torch, rel_err, rng_for, skip_unsupported_dtype, sliced_view,
                      transposed_view)


def compare(name, inputs, device="cpu", dtype=torch.float64, exact=(), **kwargs):
    """torchconv.<name> on `device` in `dtype` against torch.nn.functional.<name> in float64: outputs,
    output layout and the gradient of every floating-point input; the `exact` outputs bit for bit."""
    return check_against_torch(lambda *a: getattr(torchconv, name)(*a, **kwargs),
                               lambda *a: getattr(F, name)(*a, **kwargs), inputs, device=device, dtype=dtype,
                               exact_outputs=exact)


def random_input(rng, channels, length):
    """(N, C, L) or unbatched (C, L), contiguous or as a transposed or strided view."""
    shape = (channels, length) if rng.random() < 0.2 else (rng.choice([1, 2, 3]), channels, length)
    return rng.choice([lambda t: t, transposed_view, sliced_view])(torch.randn(shape, dtype=torch.float64))


def conv_config(rng):
    groups = rng.choice([1, 1, 2, 3])
    cin, cout = groups * rng.randint(1, 3), groups * rng.randint(1, 3)
    if rng.random() < 0.2:  # depthwise
        groups, cin = cin, cin
        cout = cin * rng.choice([1, 2])
    k, s, d, p = rng.randint(1, 5), rng.randint(1, 3), rng.randint(1, 3), rng.randint(0, 3)
    return groups, cin, cout, k, s, d, p


def conv1d_case(seed):
    rng = rng_for("conv1d", seed)
    torch.manual_seed(seed)
    groups, cin, cout, k, s, d, p = conv_config(rng)
    padding = rng.choice([p, p, (p,), "valid"] + (["same"] if s == 1 else []))
    pad = p if isinstance(padding, int) else (padding[0] if isinstance(padding, tuple) else 0)
    x = random_input(rng, cin, max(1, d * (k - 1) + 1 - 2 * pad) + rng.randint(0, 9))
    w = torch.randn(cout, cin // groups, k, dtype=torch.float64)
    b = torch.randn(cout, dtype=torch.float64) if rng.random() < 0.7 else None
    return [x, w, b], dict(stride=s, padding=padding, dilation=d, groups=groups)


def conv_transpose1d_case(seed):
    rng = rng_for("conv_transpose1d", seed)
    torch.manual_seed(seed)
    groups, cin, cout, k, s, d, p = conv_config(rng)
    output_padding = rng.randint(0, max(s, d) - 1)
    length = rng.randint(1, 9)
    while (length - 1) * s - 2 * p + d * (k - 1) + output_padding + 1 <= 0:
        length += 1
    x = random_input(rng, cin, length)
    w = torch.randn(cin, cout // groups, k, dtype=torch.float64)
    b = torch.randn(cout, dtype=torch.float64) if rng.random() < 0.7 else None
    return [x, w, b], dict(stride=s, padding=p, output_padding=output_padding, groups=groups, dilation=d)


def max_pool1d_case(seed):
    rng = rng_for("max_pool1d", seed)
    k, d = rng.randint(1, 5), rng.randint(1, 3)
    x = random_input(rng, rng.randint(1, 4), d * (k - 1) + 1 + rng.randint(0, 12))
    return [x], dict(kernel_size=k, stride=rng.choice([None, 1, 2, 3, (2,)]), padding=rng.randint(0, k // 2),
                     dilation=d, ceil_mode=rng.random() < 0.5, return_indices=True)


def avg_pool1d_case(seed):
    rng = rng_for("avg_pool1d", seed)
    k = rng.randint(1, 5)
    x = random_input(rng, rng.randint(1, 4), k + rng.randint(0, 12))
    return [x], dict(kernel_size=k, stride=rng.choice([None, 1, 2, 3, (2,)]), padding=rng.randint(0, k // 2),
                     ceil_mode=rng.random() < 0.5, count_include_pad=rng.random() < 0.5)


CASES = {"conv1d": (conv1d_case, ()), "conv_transpose1d": (conv_transpose1d_case, ()),
         "max_pool1d": (max_pool1d_case, (0, 1)), "avg_pool1d": (avg_pool1d_case, ())}


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("seed", range(20))
def test_random_float64(name, seed, device):
    make, exact = CASES[name]
    inputs, kwargs = make(seed)
    compare(name, inputs, device, exact=exact, **kwargs)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dtype", OTHER_DTYPES)
def test_random_other_dtypes(name, seed, dtype, device):
    skip_unsupported_dtype(dtype, device)
    make, exact = CASES[name]
    inputs, kwargs = make(100 + seed)
    compare(name, inputs, device, dtype, exact=exact, **kwargs)


@pytest.mark.parametrize("length,size", [(10, 1), (10, 3), (7, 7), (5, 8), (13, (4,))])
def test_adaptive_pool1d(length, size, device):
    x = random_input(rng_for("adaptive", length, size), 3, length)
    compare("adaptive_avg_pool1d", [x], device, output_size=size)
    compare("adaptive_max_pool1d", [x], device, exact=(0, 1), output_size=size, return_indices=True)


def test_adaptive_pool1d_empty_output():
    x = torch.randn(2, 3, 9)
    assert torchconv.adaptive_avg_pool1d(x, 0).shape == F.adaptive_avg_pool1d(x, 0).shape == (2, 3, 0)
    assert torchconv.adaptive_max_pool1d(x, 0).shape == (2, 3, 0)


def test_max_pool1d_nan_and_inf():
    x = torch.tensor([[[1.0, float("nan"), 3.0, float("-inf"), float("-inf"), 2.0, float("nan"), float("nan")]]],
                     dtype=torch.float64)
    for kwargs in [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1), dict(kernel_size=2, dilation=2)]:
        ours, idx = torchconv.max_pool1d(x, return_indices=True, **kwargs)
        ref, ref_idx = F.max_pool1d(x, return_indices=True, **kwargs)
        assert torch.equal(ours.isnan(), ref.isnan()) and torch.equal(ours.nan_to_num(), ref.nan_to_num())
        assert torch.equal(idx, ref_idx)
    ours, idx = torchconv.adaptive_max_pool1d(x, 3, return_indices=True)
    ref, ref_idx = F.adaptive_max_pool1d(x, 3, return_indices=True)
    assert torch.equal(idx, ref_idx) and torch.equal(ours.isnan(), ref.isnan())


def test_ceil_mode_window_starting_in_padding():
    # L=5, k=2, s=2, p=1: ceil_mode gives 4 windows, the last starting at 5 (the right padding) is dropped -> 3.
    x = torch.randn(1, 2, 5, dtype=torch.float64)
    for name, kwargs in [("max_pool1d", {}), ("avg_pool1d", dict(count_include_pad=False)), ("avg_pool1d", {})]:
        out = getattr(torchconv, name)(x, 2, 2, 1, ceil_mode=True, **kwargs)
        assert out.shape[-1] == 3
        assert rel_err(out, getattr(F, name)(x, 2, 2, 1, ceil_mode=True, **kwargs)) <= 1e-12


def test_keyword_arguments_match_torch():
    """Every parameter name and default of torch.nn.functional's 1-D functions is accepted."""
    x = torch.randn(2, 4, 12, dtype=torch.float64)
    w = torch.randn(6, 2, 3, dtype=torch.float64)
    b = torch.randn(6, dtype=torch.float64)
    wt = torch.randn(4, 3, 3, dtype=torch.float64)
    calls = [
        ("conv1d", dict(input=x, weight=w, bias=b, stride=2, padding=1, dilation=2, groups=2)),
        ("conv1d", dict(input=x, weight=w, groups=2)),
        ("conv_transpose1d", dict(input=x, weight=wt, bias=None, stride=2, padding=1, output_padding=1, groups=1,
                                  dilation=1)),
        ("conv_transpose1d", dict(input=x, weight=wt)),
        ("max_pool1d", dict(input=x, kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True,
                            return_indices=True)),
        ("max_pool1d", dict(input=x, kernel_size=3)),
        ("avg_pool1d", dict(input=x, kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
        ("avg_pool1d", dict(input=x, kernel_size=3)),
        ("adaptive_avg_pool1d", dict(input=x, output_size=5)),
        ("adaptive_max_pool1d", dict(input=x, output_size=5, return_indices=True)),
        ("adaptive_max_pool1d", dict(input=x, output_size=5)),
    ]
    for name, kwargs in calls:
        ours, ref = getattr(torchconv, name)(**kwargs), getattr(F, name)(**kwargs)
        assert type(ours) is type(ref), name
        for a, r in zip(ours if isinstance(ours, tuple) else (ours,), ref if isinstance(ref, tuple) else (ref,)):
            assert rel_err(a.double(), r.double()) <= 1e-12, name


def test_empty_batch(device):
    x = torch.randn(0, 4, 9, dtype=torch.float64)
    w = torch.randn(5, 4, 3, dtype=torch.float64)
    for name, args in [("conv1d", (w,)), ("conv_transpose1d", (w.transpose(0, 1),)), ("max_pool1d", (2,)),
                       ("avg_pool1d", (2,)), ("adaptive_avg_pool1d", (3,)), ("adaptive_max_pool1d", (3,))]:
        compare(name, [x, *args], device)


def test_gradcheck(single_thread):
    torch.manual_seed(0)
    x = torch.randn(1, 4, 7, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    wt = torch.randn(4, 1, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, requires_grad=True)
    conv = lambda x, w, b: torchconv.conv1d(x, w, b, stride=2, padding=1, dilation=2, groups=2)
    convt = lambda x, w: torchconv.conv_transpose1d(x, w, stride=2, padding=1, output_padding=1, groups=2)
    assert torch.autograd.gradcheck(conv, (x, w, b))
    assert torch.autograd.gradgradcheck(conv, (x, w, b))
    assert torch.autograd.gradcheck(convt, (x, wt))
    assert torch.autograd.gradgradcheck(convt, (x, wt))
    assert torch.autograd.gradcheck(lambda x: torchconv.max_pool1d(x, 3, 2, 1, ceil_mode=True), (x,))
    assert torch.autograd.gradcheck(lambda x: torchconv.avg_pool1d(x, 3, 2, 1, count_include_pad=False), (x,))
    assert torch.autograd.gradgradcheck(lambda x: torchconv.avg_pool1d(x, 3, 2, 1), (x,))
    assert torch.autograd.gradcheck(lambda x: torchconv.adaptive_avg_pool1d(x, 3), (x,))
    assert torch.autograd.gradcheck(lambda x: torchconv.adaptive_max_pool1d(x, 3), (x,))


def test_compile_fullgraph():
    """The 1-D functions trace into one graph (views and the 2-D ops' fake kernels), backward included."""
    torch.manual_seed(0)
    model = torchconv.convert(torch.nn.Sequential(
        torch.nn.Conv1d(4, 6, 3, padding="same", padding_mode="circular"), torch.nn.MaxPool1d(3, 2, 1),
        torch.nn.ConvTranspose1d(6, 4, 2, stride=2), torch.nn.AvgPool1d(2), torch.nn.AdaptiveMaxPool1d(3)))
    x = torch.randn(2, 4, 20, requires_grad=True)
    compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
    out = compiled(x)
    (grad,) = torch.autograd.grad(out.sum(), x)
    assert torch.equal(out, model(x))
    assert torch.equal(grad, torch.autograd.grad(model(x).sum(), x)[0])


# ---------------------------------------------------------------------------------------------
# Modules and convert

MODULES = [
    ("Conv1d", (4, 6, 3), dict(stride=2, padding=1, dilation=2, groups=2, bias=False)),
    ("Conv1d", (4, 6, 4), dict(padding="same", padding_mode="reflect")),
    ("Conv1d", (4, 6, 3), dict(padding=2, padding_mode="replicate")),
    ("Conv1d", (4, 4, 3), dict(padding=1, padding_mode="circular", groups=4)),
    ("Conv1d", (4, 6, 3), dict(padding="valid")),
    ("ConvTranspose1d", (4, 6, 4), dict(stride=2, padding=1, groups=2)),
    ("MaxPool1d", (3,), dict(stride=2, padding=1, dilation=2, ceil_mode=True)),
    ("MaxPool1d", (2,), dict(return_indices=True)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("AdaptiveAvgPool1d", (5,), {}),
    ("AdaptiveMaxPool1d", (5,), dict(return_indices=True)),
]


@pytest.mark.parametrize("name,args,kwargs", MODULES, ids=[m[0] + str(i) for i, m in enumerate(MODULES)])
def test_module_drop_in(name, args, kwargs):
    torch.manual_seed(0)
    ref = getattr(torch.nn, name)(*args, **kwargs).double()
    torch.manual_seed(0)
    ours = getattr(tnn, name)(*args, **kwargs).double()
    assert isinstance(ours, getattr(torch.nn, name)) and repr(ours) == repr(ref)
    state = ours.state_dict()
    assert state.keys() == ref.state_dict().keys()
    assert all(torch.equal(v, ref.state_dict()[k]) for k, v in state.items())  # same initialisation
    ref.load_state_dict(state)  # checkpoints load both ways
    ours.load_state_dict(ref.state_dict())
    for x in (torch.randn(3, 4, 17, dtype=torch.float64), torch.randn(4, 17, dtype=torch.float64)):
        a, b = ours(x), ref(x)
        for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
            assert rel_err(u.double(), v.double()) <= 1e-10
    if getattr(ref, "weight", None) is not None:
        x = torch.randn(3, 4, 17, dtype=torch.float64)
        ours(x).square().sum().backward()
        ref(x).square().sum().backward()
        assert rel_err(ours.weight.grad, ref.weight.grad) <= 1e-10


def test_conv_transpose1d_output_size_and_padding_mode():
    torch.manual_seed(0)
    ref = torch.nn.ConvTranspose1d(4, 2, 3, stride=2, padding=1).double()
    ours = copy.deepcopy(ref)
    ours.__class__ = tnn.ConvTranspose1d
    x = torch.randn(2, 4, 8, dtype=torch.float64)
    for size in ([16], [2, 2, 16], None):
        out = ours(x, output_size=size)
        assert rel_err(out, ref(x, output_size=size)) <= 1e-10
    with pytest.raises(ValueError, match="Only .zeros. padding mode is supported for ConvTranspose1d"):
        tnn.ConvTranspose1d(4, 2, 3, padding_mode="reflect")(x)


def test_convert_1d_model():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv1d(2, 8, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool1d(2),
                                torch.nn.Conv1d(8, 8, 3, padding=1, padding_mode="circular"), torch.nn.AvgPool1d(2),
                                torch.nn.ConvTranspose1d(8, 4, 2, stride=2), torch.nn.AdaptiveMaxPool1d(6),
                                torch.nn.AdaptiveAvgPool1d(3), torch.nn.Flatten(), torch.nn.Linear(12, 3)).double()
    converted = torchconv.convert(model)
    assert [type(m) for m in converted] == [tnn.Conv1d, torch.nn.ReLU, tnn.MaxPool1d, tnn.Conv1d, tnn.AvgPool1d,
                                            tnn.ConvTranspose1d, tnn.AdaptiveMaxPool1d, tnn.AdaptiveAvgPool1d,
                                            torch.nn.Flatten, torch.nn.Linear]
    assert type(model[0]) is torch.nn.Conv1d  # the original is left untouched
    x = torch.randn(5, 2, 40, dtype=torch.float64)
    assert rel_err(converted(x), model(x)) <= 1e-10
    model(x).sum().backward()
    converted(x).sum().backward()
    for (n, p), q in zip(model.named_parameters(), converted.parameters()):
        assert rel_err(q.grad, p.grad) <= 1e-10, n


# ---------------------------------------------------------------------------------------------
# Errors: the same calls fail in PyTorch; torchconv's message says what is wrong.

x3 = torch.randn(2, 4, 10)
w3 = torch.randn(8, 4, 3)
ERRORS = [
    (lambda f: f.conv1d(torch.randn(1, 2, 4, 10), w3), r"Expected 2D \(unbatched\) or 3D \(batched\) input to conv1d"),
    (lambda f: f.conv1d(torch.randn(10), w3), "input to conv1d, but got input of size: \\[10\\]"),
    (lambda f: f.conv1d(x3, torch.randn(8, 3, 3)), "expected input.* to have 3 channels, but got 4 channels"),
    (lambda f: f.conv1d(x3, w3, stride=(1, 2)), "expected stride to be a single integer value or a list of 1 values"),
    (lambda f: f.conv1d(x3, w3, padding=[1, 1]), "expected padding to be a single integer value or a list of 1"),
    (lambda f: f.conv1d(x3, w3, stride=0), "non-positive stride is not supported"),
    (lambda f: f.conv1d(x3, w3, padding=-1), "negative padding is not supported"),
    (lambda f: f.conv1d(x3, w3, stride=2, padding="same"), "padding='same' is not supported for strided convolutions"),
    (lambda f: f.conv1d(x3, w3, padding="full"), "Invalid padding string: 'full'"),
    (lambda f: f.conv1d(x3, torch.randn(8, 4, 11)), "Kernel size can't be greater than actual input size"),
    (lambda f: f.conv1d(x3, w3, groups=3), "expected weight to be divisible by 3"),
    (lambda f: f.conv_transpose1d(torch.randn(1, 2, 4, 10), w3), "input to conv_transpose1d"),
    (lambda f: f.conv_transpose1d(x3, w3), "expected input.* to have 8 channels, but got 4 channels"),
    (lambda f: f.conv_transpose1d(torch.randn(2, 8, 10), w3, output_padding=1),
     "output padding must be smaller than either stride or dilation"),
    (lambda f: f.max_pool1d(x3, 0), "kernel.size .*greater than zero"),
    (lambda f: f.max_pool1d(x3, (2, 2)), "kernel_size must .*one int|size 1"),
    (lambda f: f.max_pool1d(x3, 2, padding=2), "padding should be at most half of kernel size"),
    (lambda f: f.max_pool1d(x3, 2, padding=2, dilation=3), "padding should be at most half of kernel size"),
    (lambda f: f.max_pool1d(x3, 2, 0), "stride .*greater than zero"),
    (lambda f: f.max_pool1d(torch.randn(1, 2, 3, 4), 2), "max_pool1d"),
    (lambda f: f.max_pool1d(x3, 12), "Output size is too small|Invalid computed output size"),
    (lambda f: f.avg_pool1d(x3, 2, padding=2), "at most half of .*kernel size"),
    (lambda f: f.avg_pool1d(x3, 12), "Output size is too small"),
    (lambda f: f.avg_pool1d(torch.randn(1, 2, 3, 4), 2), "avg_pool1d"),
    (lambda f: f.adaptive_avg_pool1d(x3, (2, 2)), "output_size .*one int"),
    (lambda f: f.adaptive_max_pool1d(torch.randn(1, 2, 3, 4), 2), "adaptive_max_pool1d"),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors(index):
    call, message = ERRORS[index]
    with pytest.raises(RuntimeError):
        call(F)
    with pytest.raises(RuntimeError, match=message):
        call(torchconv)


def test_dtype_error():
    with pytest.raises(RuntimeError, match="dtype"):
        torchconv.conv1d(x3.int(), w3.int())
    with pytest.raises(RuntimeError, match="dtype"):
        torchconv.max_pool1d(x3.int(), 2)
