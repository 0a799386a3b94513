"""torch.compile(fullgraph=True) of a CNN made of torchconv layers: no graph breaks, and forward and
backward match eager execution."""
import torch

import torchconv
from conftest import TOLERANCE, rel_err, seeded_randn, small_cnn


def forward_backward(model, x):
    """Output, input gradient and all parameter gradients as one vector (some, like a bias followed by
    BatchNorm, are zero up to rounding and have no relative error of their own)."""
    out = model(x)
    out.square().sum().backward()
    return out.detach(), x.grad, torch.cat([p.grad.flatten() for p in model.parameters()])


def test_compile_fullgraph_matches_eager():
    # float64: BatchNorm's weight gradient cancels heavily, and fused float32 reductions would blur it.
    model = torchconv.convert(small_cnn(torch.float64))
    x = seeded_randn((2, 3, 16, 14), 0).contiguous(memory_format=torch.channels_last)
    eager = forward_backward(model, x.clone().requires_grad_())
    model.zero_grad()
    compiled = forward_backward(torch.compile(model, fullgraph=True), x.clone().requires_grad_())

    for what, c, e in zip(["output", "input gradient", "parameter gradients"], compiled, eager):
        assert rel_err(c, e) <= TOLERANCE[torch.float64], what


def test_compiled_graphs_call_torchconv_ops():
    """After AOT autograd, the forward and backward graphs still call torchconv's ops and none of
    PyTorch's convolution or pooling ops."""
    from torch._dynamo.backends.common import aot_autograd

    targets = {"forward": set(), "backward": set()}

    def recorder(kind):
        def compiler(gm, example_inputs):
            targets[kind].update(str(n.target) for n in gm.graph.nodes if n.op == "call_function")
            return gm
        return compiler

    backend = aot_autograd(fw_compiler=recorder("forward"), bw_compiler=recorder("backward"))
    fn = torch.compile(lambda x, w: torchconv.max_pool2d(torchconv.conv2d(x, w, padding=1), 2).sum(),
                       backend=backend, fullgraph=True)
    x, w = torch.randn(1, 2, 6, 6, requires_grad=True), torch.randn(3, 2, 3, 3, requires_grad=True)
    fn(x, w).backward()
    assert {"torchconv.conv2d.default", "torchconv.max_pool2d.default"} <= targets["forward"], targets
    assert {"torchconv.max_pool2d_backward.default", "torchconv.conv2d_input_grad.default",
            "torchconv.conv2d_weight_grad.default"} <= targets["backward"], targets
    aten = [t for t in targets["forward"] | targets["backward"] if t.startswith("aten.")]
    assert not [t for t in aten if "conv" in t or "pool" in t], aten
