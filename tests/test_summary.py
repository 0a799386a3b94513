"""torchconv.summary: receptive fields and jumps against a direct measurement, parameter and
multiply-add counts against independent counts."""
import copy

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import torchconv


def measure_fields(model, input_shape, names):
    """Receptive field and jump, per spatial axis, of the central output element of each named module,
    measured. With positive weights and zero biases every layer is monotone and maps 0 to 0, so an input
    that is 1 on the hyperplane {x_axis = i} and 0 elsewhere reaches an output element (makes it > 0)
    iff i lies in that element's receptive field along that axis; max pooling included.
    The field is the widest over two neighbouring outputs (transposed convolutions reach different
    widths at different output phases); the jump is the shift of the field's start over two outputs,
    halved. Returns {name: (field, jump)}."""
    model = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.zero_() if name.endswith("bias") else p.uniform_(0.1, 1.0)
    channels, *spatial = input_shape[1:]
    images = []
    for axis, size in enumerate(spatial):
        for i in range(size):
            x = torch.zeros(channels, *spatial, dtype=torch.float64)
            x.select(1 + axis, i).fill_(1)
            images.append(x)
    outputs = {}
    modules = dict(model.named_modules())
    hooks = [modules[n].register_forward_hook(
        lambda m, a, out, n=n: outputs.__setitem__(n, out[0] if isinstance(out, tuple) else out)) for n in names]
    with torch.no_grad():
        model(torch.stack(images))
    for h in hooks:
        h.remove()
    fields = {}
    for name in names:
        reached = outputs[name].sum(1) > 0  # (images, *output spatial)
        centre = [max(0, s // 2 - 1) for s in reached.shape[1:]]
        field, jump, offset = [], [], 0
        for axis, size in enumerate(spatial):
            rows = reached[offset:offset + size]
            offset += size
            spans = []
            for step in range(3):
                o = list(centre)
                o[axis] += step
                hit = rows[(slice(None),) + tuple(o)].nonzero().flatten()
                assert 0 < hit.min() and hit.max() < size - 1, f"{name}: field clipped by the input border"
                spans.append((hit.min().item(), hit.max().item()))
            field.append(max(e - s + 1 for s, e in spans[:2]))
            jump.append((spans[2][0] - spans[0][0]) / 2)
        fields[name] = (tuple(field), tuple(jump))
    return fields


def check_fields(model, input_shape, skip_jump=()):
    """Every spatial row of the summary has the measured field and jump, for the torch.nn model and
    its torchconv conversion."""
    for m in (model, torchconv.convert(model)):
        rows = torchconv.summary(m, input_shape).layers
        spatial = [r for r in rows if r.receptive_field is not None]
        assert len(spatial) >= 3
        measured = measure_fields(m, input_shape, [r.name for r in spatial])
        for r in spatial:
            field, jump = measured[r.name]
            assert r.receptive_field == field, (r.name, r.type, r.receptive_field, field)
            if r.name not in skip_jump:
                assert tuple(float(j) for j in r.jump) == jump, (r.name, r.type, r.jump, jump)


def test_chain_2d_stride_dilation_pooling():
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(),
        nn.Conv2d(2, 2, 3, stride=2, padding=1), nn.BatchNorm2d(2),
        nn.Conv2d(2, 2, 3, dilation=2, padding=2),
        nn.MaxPool2d(3, 2, 1),
        nn.Conv2d(2, 2, (3, 5), padding=(1, 2)),
        nn.AvgPool2d(2),
        nn.MaxPool2d(2, stride=1, dilation=2),
        nn.Conv2d(2, 2, 1, stride=(1, 2)))
    check_fields(model, (1, 1, 96, 160))
    rows = torchconv.summary(model, (1, 1, 96, 160)).layers
    assert rows[-1].receptive_field == (45, 53) and rows[-1].jump == (8, 16)


def test_adaptive_pools_2d():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2, padding=1), nn.MaxPool2d(2), nn.AdaptiveMaxPool2d((12, 8)),
                          nn.Conv2d(2, 2, 3, padding=1), nn.AdaptiveAvgPool2d((6, 8)))
    check_fields(model, (1, 1, 96, 64))


@pytest.mark.parametrize("k,p,d", [(3, 0, 1), (4, 1, 1), (2, 0, 1), (5, 2, 1), (3, 1, 3)])
def test_transposed_convolution(k, p, d):
    """Stride 2: even and odd outputs are reached by different taps; the field is the wider one."""
    for nn_conv, nn_convt, shape in [(nn.Conv2d, nn.ConvTranspose2d, (1, 1, 40, 40)),
                                     (nn.Conv1d, nn.ConvTranspose1d, (1, 1, 40))]:
        model = nn.Sequential(nn_conv(1, 2, 3, stride=2), nn.ReLU(), nn_convt(2, 2, k, stride=2, padding=p, dilation=d))
        check_fields(model, shape)
        assert torchconv.summary(model, shape).layers[-1].jump == (1,) * (len(shape) - 2)


def test_chain_1d():
    model = nn.Sequential(
        nn.Conv1d(1, 2, 5, stride=2, padding=2), nn.Tanh(),
        nn.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True),
        nn.Conv1d(2, 2, 3, dilation=3, padding=3),
        nn.AvgPool1d(3, stride=1, padding=1),
        nn.Conv1d(2, 2, 3, stride=2, padding=1),
        nn.AdaptiveAvgPool1d(16), nn.Flatten(), nn.Linear(32, 3))
    check_fields(model, (1, 1, 512))
    rows = torchconv.summary(model, (2, 1, 512)).layers
    assert [r.receptive_field for r in rows[-2:]] == [None, None]  # flatten, linear: no local field
    assert rows[0].receptive_field == (5,) and rows[0].jump == (2,)


class Residual(nn.Module):
    """The shortcut runs last and has the smaller field: a field read off the layer order would be wrong."""

    def __init__(self, cat=False):
        super().__init__()
        self.cat = cat
        self.stem = nn.Conv2d(1, 2, 3, padding=1)
        self.branch = nn.Sequential(nn.Conv2d(2, 2, 3, padding=1), nn.ReLU(), nn.Conv2d(2, 2, 3, padding=2, dilation=2))
        self.shortcut = nn.Conv2d(2, 2, 1)
        self.head = nn.Conv2d(4 if cat else 2, 2, 3, stride=2, padding=1)

    def forward(self, x):
        x = self.stem(x)
        y = self.branch(x)
        s = self.shortcut(x)
        return self.head(torch.relu(torch.cat([y, s], 1) if self.cat else y + s))


@pytest.mark.parametrize("cat", [False, True])
def test_branches_follow_tensors(cat):
    model = Residual(cat)
    check_fields(model, (1, 1, 40, 40))
    head = torchconv.summary(model, (1, 1, 40, 40)).layers[-1]
    assert head.name == "head" and head.receptive_field == (11, 11) and head.jump == (2, 2)


def test_global_pool_and_functional_flatten():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(8, 4)
            self.post = nn.ReLU()

        def forward(self, x):
            return self.post(self.fc(torch.flatten(self.pool(self.conv(x)), 1)))

    rows = {r.name: r for r in torchconv.summary(Net(), (2, 3, 16, 16)).layers}
    assert rows["pool"].receptive_field == (3 + 7 * 2,) * 2 and rows["pool"].jump == (16, 16)
    assert rows["fc"].receptive_field is None and rows["post"].receptive_field is None


def lenet():
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84),
                         nn.ReLU(), nn.Linear(84, 10))


@pytest.mark.parametrize("convert", [False, True])
def test_params_macs_shapes(convert):
    model = nn.Sequential(lenet()[:6], nn.ConvTranspose2d(16, 8, 3, stride=2, groups=2), nn.BatchNorm2d(8),
                          nn.Conv2d(8, 8, 3, groups=8, bias=False), nn.Flatten(), nn.Linear(8 * 9 * 9, 10))
    model[-1].weight.requires_grad_(False)
    x = torch.randn(3, 1, 32, 32)
    with FlopCounterMode(display=False) as flops:  # counts PyTorch's own conv/linear ops: 2 flops per mult-add
        out = model(x)
    if convert:
        model = torchconv.convert(model)
    s = torchconv.summary(model, (3, 1, 32, 32))
    assert s.total_params == sum(p.numel() for p in model.parameters()) == sum(r.params for r in s.layers)
    assert s.trainable_params == s.total_params - model[-1].weight.numel()
    assert s.total_macs == flops.get_total_flops() // 2
    assert s.layers[-1].output_shape == tuple(out.shape)
    assert s.layers[0].macs == 3 * 6 * 28 * 28 * 25 and s.layers[0].params == 6 * 25 + 6
    assert s.layers[0].type == ("torchconv.nn.Conv2d" if convert else "Conv2d")


def test_shared_module_counted_once():
    conv = nn.Conv2d(2, 2, 3, padding=1)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), conv, nn.ReLU(), conv)
    s = torchconv.summary(model, (1, 1, 12, 12))
    assert [r.name for r in s.layers] == ["0", "1", "2", "1"]
    assert sum(r.params for r in s.layers) == s.total_params == sum(p.numel() for p in model.parameters())
    assert s.layers[-1].receptive_field == (7, 7) and s.layers[-1].macs == s.layers[1].macs


def test_model_state_is_kept_and_table():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Dropout(0.5), nn.MaxPool2d(2))
    model.train()
    model[2].eval()
    before = copy.deepcopy(model.state_dict())
    s = torchconv.summary(model, (1, 3, 10, 10))  # batch 1 works: batch norm runs in eval mode
    assert model.training and model[1].training and not model[2].training
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    table = str(s)
    lines = table.splitlines()
    assert lines[0] == "Input: [1, 3, 10, 10]"
    assert any(l.split()[:3] == ["0", "Conv2d", "[1,"] and l.split()[-2:] == ["3x3", "1x1"] for l in lines)
    assert any(l.split()[:2] == ["3", "MaxPool2d"] and l.split()[-2:] == ["4x4", "2x2"] for l in lines)
    assert "Total params: 120 (trainable: 120)" in table and repr(s) == table


def test_bad_arguments():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        torchconv.summary(lambda x: x, (1, 3, 8, 8))
    with pytest.raises(ValueError, match="batch dimension"):
        torchconv.summary(nn.Conv2d(3, 4, 3), (3, 8))


def gradient_field(model, input_shape, name):
    """Receptive field of the central output element of module `name`, measured by back-propagating
    from that element to the input: with positive weights every input pixel it depends on gets a
    non-zero gradient. (Max pooling passes gradient to its argmax only, so the networks measured this
    way use average pooling.)"""
    model = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(0.1, 1.0)
    captured = {}
    dict(model.named_modules())[name].register_forward_hook(lambda m, a, out: captured.__setitem__("out", out))
    x = torch.rand(input_shape, dtype=torch.float64, requires_grad=True)
    model(x)
    out = captured["out"]
    centre = tuple(s // 2 for s in out.shape[2:])
    (grad,) = torch.autograd.grad(out[(0, 0) + centre], x)
    touched = grad[0].abs().sum(0) > 0  # (H, W)
    extent = [touched.any(dim=1).nonzero(), touched.any(dim=0).nonzero()]  # rows, columns reached
    return tuple(int(e.max() - e.min()) + 1 for e in extent)


@pytest.mark.parametrize("convert", [False, True])
def test_receptive_field_against_gradients(convert):
    model = nn.Sequential(nn.Conv2d(2, 3, 3, stride=2, padding=1), nn.ReLU(), nn.AvgPool2d(2),
                          nn.Conv2d(3, 3, (3, 5), dilation=(2, 1)), nn.Conv2d(3, 2, 3, stride=(1, 2)))
    model = torchconv.convert(model) if convert else model
    rows = {r.name: r for r in torchconv.summary(model, (1, 2, 64, 64)).layers}
    for name in ["0", "2", "3", "4"]:
        assert rows[name].receptive_field == gradient_field(model, (1, 2, 64, 64), name), name
