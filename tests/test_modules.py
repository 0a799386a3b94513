"""Drop-in modules: subclasses of torch.nn's with the same repr, initialisation and state_dict, padding_mode,
ConvTranspose2d's output_size, and torchconv.convert on a small CNN (outputs and one training step)."""
import copy

import pytest
import torch

import torchconv
import torchconv.nn as tnn
from conftest import TOLERANCE, check_against_torch, rel_err, seeded_randn, small_cnn

# (class name, constructor args, constructor kwargs, input shape)
MODULE_SPECS = [
    ("Conv2d", (4, 6, 3), dict(padding=1), (2, 4, 7, 6)),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=2, padding=(1, 0), dilation=(1, 2), groups=2, bias=False), (2, 4, 7, 6)),
    ("Conv2d", (4, 8, 4), dict(padding="same", groups=4, padding_mode="circular"), (4, 7, 6)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2), (2, 4, 5, 4)),
    ("ConvTranspose2d", (4, 2, (2, 3)), dict(dilation=(2, 1), bias=False), (4, 5, 4)),
    ("MaxPool2d", (3, 2, 1), dict(ceil_mode=True), (2, 4, 7, 6)),
    ("MaxPool2d", (2,), dict(return_indices=True, dilation=(1, 2)), (2, 4, 7, 6)),
    ("AvgPool2d", (3, 2, 1), dict(count_include_pad=False, ceil_mode=True), (2, 4, 7, 6)),
    ("AvgPool2d", ((2, 3),), dict(divisor_override=4), (4, 7, 6)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 4, 7, 6)),
    ("AdaptiveMaxPool2d", (2,), dict(return_indices=True), (2, 4, 7, 6)),
]
SPEC_IDS = [f"{name}-{i}" for i, (name, *_) in enumerate(MODULE_SPECS)]


def build_pair(spec, seed=0):
    """The torchconv module and the torch.nn module of `spec`, each initialised from `seed`, in float64."""
    name, args, kwargs, _ = spec
    torch.manual_seed(seed)
    ours = getattr(tnn, name)(*args, **kwargs).double()
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    return ours, theirs


def module_fn(module):
    """module(x) as a function of the input and of the module's parameters, so that check_against_torch
    differentiates with respect to all of them."""
    names = [n for n, _ in module.named_parameters()]
    return lambda x, *params: torch.func.functional_call(module, dict(zip(names, params)), (x,))


def check_modules_agree(ours, theirs, input_shape, device="cpu"):
    ours, theirs = ours.to(device), theirs.to(device)
    params = [p.detach().cpu() for p in theirs.parameters()]
    exact = (0, 1) if getattr(theirs, "return_indices", False) else ()
    check_against_torch(module_fn(ours), module_fn(theirs), [seeded_randn(input_shape, 5), *params], device=device,
                        exact_outputs=exact)


@pytest.mark.parametrize("spec", MODULE_SPECS, ids=SPEC_IDS)
def test_subclass_repr_and_state_dict_keys(spec):
    ours, theirs = build_pair(spec)
    assert isinstance(ours, type(theirs)) and type(ours) is not type(theirs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("spec", MODULE_SPECS, ids=SPEC_IDS)
def test_same_initialisation_and_outputs(spec, device):
    ours, theirs = build_pair(spec)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert torch.equal(p, q), name
    check_modules_agree(ours, theirs, spec[3], device)


@pytest.mark.parametrize("spec", MODULE_SPECS, ids=SPEC_IDS)
def test_state_dict_loads_both_ways(spec):
    ours, theirs = build_pair(spec, seed=0)
    other_ours, other_theirs = build_pair(spec, seed=1)
    other_ours.load_state_dict(theirs.state_dict())      # torch.nn -> torchconv
    check_modules_agree(other_ours, theirs, spec[3])
    other_theirs.load_state_dict(ours.state_dict())      # torchconv -> torch.nn
    check_modules_agree(ours, other_theirs, spec[3])


@pytest.mark.parametrize("padding", [1, (2, 1), "same", 0])
@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv2d_padding_modes(padding_mode, padding, device):
    spec = ("Conv2d", (4, 6, (3, 4)), dict(padding=padding, padding_mode=padding_mode, dilation=(2, 1), groups=2),
            (2, 4, 7, 6))
    check_modules_agree(*build_pair(spec), spec[3], device)


@pytest.mark.parametrize("output_size", [None, (9, 7), [10, 8], torch.Size([2, 6, 10, 7])])
def test_conv_transpose2d_output_size(output_size, device):
    """forward(input, output_size) picks the output_padding that reaches output_size, as in torch.nn."""
    ours, theirs = build_pair(("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, groups=2), None))
    ours, theirs = ours.to(device), theirs.to(device)
    check_against_torch(lambda x: ours(x, output_size), lambda x: theirs(x, output_size),
                        [seeded_randn((2, 4, 5, 4), 0)], device=device)


# ---------------------------------------------------------------------------------------------
# convert

SWAPPED = {torch.nn.Conv2d: tnn.Conv2d, torch.nn.ConvTranspose2d: tnn.ConvTranspose2d,
           torch.nn.MaxPool2d: tnn.MaxPool2d, torch.nn.AvgPool2d: tnn.AvgPool2d,
           torch.nn.AdaptiveAvgPool2d: tnn.AdaptiveAvgPool2d, torch.nn.AdaptiveMaxPool2d: tnn.AdaptiveMaxPool2d}


def module_types(model):
    return [type(m) for m in model.modules()]


def test_convert_leaves_the_original_untouched():
    model = small_cnn()
    types, state = module_types(model), copy.deepcopy(model.state_dict())
    converted = torchconv.convert(model)
    assert converted is not model
    assert module_types(model) == types
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert module_types(converted) == [SWAPPED.get(t, t) for t in types]
    assert any(t in SWAPPED for t in types)
    assert converted.state_dict().keys() == state.keys()
    assert all(torch.equal(v, state[k]) for k, v in converted.state_dict().items())
    assert all(p is not q for p, q in zip(converted.parameters(), model.parameters()))


def test_convert_inplace():
    model = small_cnn()
    types = module_types(model)
    assert torchconv.convert(model, inplace=True) is model
    assert module_types(model) == [SWAPPED.get(t, t) for t in types]


def test_convert_keeps_subclasses_and_hooks():
    class MyConv(torch.nn.Conv2d):
        pass

    model = torch.nn.Sequential(MyConv(2, 2, 1), torch.nn.Conv2d(2, 2, 1))
    calls = []
    model[1].register_forward_hook(lambda module, args, out: calls.append(type(module)))
    converted = torchconv.convert(model)
    assert type(converted[0]) is MyConv and type(converted[1]) is tnn.Conv2d
    converted(torch.randn(1, 2, 3, 3))
    assert calls == [tnn.Conv2d]


def test_convert_rejects_non_modules():
    with pytest.raises(TypeError, match="convert expects a torch.nn.Module"):
        torchconv.convert(lambda x: x)


def sgd_step(model, x, target):
    """One training step; returns the output and the model's state (parameters and BN statistics) after it."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    out = model(x)
    torch.nn.functional.cross_entropy(out, target).backward()
    optimizer.step()
    return out.detach(), {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_convert_training_step_matches(dtype, memory_format, device):
    model = small_cnn(dtype).to(device, memory_format=memory_format)
    converted = torchconv.convert(model)
    x = seeded_randn((4, 3, 16, 14), 0, dtype).to(device).contiguous(memory_format=memory_format)
    target = torch.tensor([0, 3, 1, 4], device=device)

    theirs_out, theirs_state = sgd_step(model, x, target)
    ours_out, ours_state = sgd_step(converted, x, target)
    assert rel_err(ours_out, theirs_out) <= TOLERANCE[dtype]
    for name, value in theirs_state.items():
        if value.is_floating_point():
            assert rel_err(ours_state[name], value) <= TOLERANCE[dtype], name
        else:
            assert torch.equal(ours_state[name], value), name
