"""The PyTorch workflows a converted model must keep working in, each run on the same small CNN as
torch.nn and after torchconv.convert, comparing results: torch.func transforms, forward-mode AD,
torch.compile with dynamic shapes, torch.jit.trace, torch.fx (and FX quantization's prepare_fx) and
CPU autocast."""
import warnings

import pytest
import torch
from torch.func import functional_call, grad, hessian, jacfwd, jacrev, jvp, vjp, vmap

import torchconv
from conftest import rel_err, seeded_randn, small_cnn

TOL = 1e-4  # float32 through two different kernels and a dozen layers


def models():
    ref = small_cnn().eval()
    return ref, torchconv.convert(ref)


def assert_close(ours, theirs):
    ours, theirs = torch.utils._pytree.tree_leaves(ours), torch.utils._pytree.tree_leaves(theirs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert b.abs().sum() > 0, "a reference that is all zeros checks nothing"
        assert rel_err(a, b) <= TOL


def inputs(n=4, hw=16):
    return seeded_randn((n, 3, hw, hw), 0, torch.float32)


def params_of(model):
    return {k: v.detach() for k, v in model.named_parameters()}


TRANSFORMS = {
    "grad": lambda m, p, x: grad(lambda p: functional_call(m, p, (x,)).square().sum())(p),
    "vjp": lambda m, p, x: vjp(lambda x: functional_call(m, p, (x,)), x)[1](torch.ones(x.shape[0], 5)),
    "jvp": lambda m, p, x: jvp(lambda x: functional_call(m, p, (x,)), (x,), (torch.ones_like(x),)),
    "jvp_params": lambda m, p, x: jvp(lambda p: functional_call(m, p, (x,)), (p,),
                                      ({k: torch.ones_like(v) for k, v in p.items()},)),
    "jacrev": lambda m, p, x: jacrev(lambda x: functional_call(m, p, (x,)))(x[:1]),
    "jacfwd": lambda m, p, x: jacfwd(lambda x: functional_call(m, p, (x,)))(x[:1]),
    "hessian": lambda m, p, x: hessian(lambda x: functional_call(m, p, (x,)).square().sum())(x[:1, :, :8, :8]),
    # per-sample gradients (Opacus, functorch's model ensembling recipes)
    "vmap_grad": lambda m, p, x: vmap(grad(lambda p, x: functional_call(m, p, (x[None],)).square().sum()),
                                      in_dims=(None, 0))(p, x),
    "vmap": lambda m, p, x: vmap(lambda x: functional_call(m, p, (x,)))(x.reshape(2, 2, 3, 16, 16)),
}


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_torch_func(transform):
    ref, ours = models()
    x = inputs()
    assert_close(TRANSFORMS[transform](ours, params_of(ours), x), TRANSFORMS[transform](ref, params_of(ref), x))


@pytest.mark.parametrize("trainable", [True, False])
def test_forward_ad_dual_numbers(trainable):
    import torch.autograd.forward_ad as fwAD

    ref, ours = models()
    x = inputs()
    tangents = []
    for model in (ours, ref):
        model.requires_grad_(trainable)
        with fwAD.dual_level():
            out = model(fwAD.make_dual(x, torch.ones_like(x)))
            tangents.append(fwAD.unpack_dual(out).tangent)
    assert_close(tangents[0], tangents[1])


def test_compile_dynamic_batch_compiles_no_more_graphs_than_torch():
    def graphs(model):
        torch._dynamo.reset()
        count = [0]

        def backend(gm, example_inputs):
            count[0] += 1
            return gm.forward

        fn = torch.compile(model, backend=backend, dynamic=True)
        for n in range(1, 13):
            out = fn(inputs(n))
            assert out.shape == (n, 5)
        return count[0]

    ref, ours = models()
    theirs, mine = graphs(ref), graphs(ours)
    torch._dynamo.reset()
    assert mine <= theirs, (mine, theirs)


def test_jit_trace_matches_and_is_differentiable():
    ref, ours = models()
    x = inputs()
    with torch.no_grad():
        traced = torch.jit.trace(ours, x)  # check_trace reruns it: the graph must not depend on grad mode
    x2 = inputs(2).requires_grad_()
    out = traced(x2)
    out.square().sum().backward()
    x3 = x2.detach().clone().requires_grad_()
    ref(x3).square().sum().backward()
    assert_close((out.detach(), x2.grad), (ref(x2).detach(), x3.grad))


def test_fx_symbolic_trace_and_prepare_fx():
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import prepare_fx

    ref, ours = models()
    x = inputs()
    gm = torch.fx.symbolic_trace(ours)
    called = {getattr(n.target, "__module__", "") for n in gm.graph.nodes if n.op == "call_function"}
    assert "torchconv.functional" in called, called
    assert_close(gm(x), ref(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FX quantization's deprecation notice
        prepared = prepare_fx(ours, get_default_qconfig_mapping(), (x,))
    assert_close(prepared(x), ref(x))


def test_cpu_autocast_runs_convolutions_in_bfloat16():
    ref, ours = models()
    x = inputs()
    with torch.autocast("cpu", torch.bfloat16):
        for layer_ref, layer in zip(ref.features, ours.features):
            ref_out, out = layer_ref(x), layer(x)
            assert out.dtype == ref_out.dtype, (type(layer).__name__, out.dtype, ref_out.dtype)
            x = ref_out
        assert ours(inputs()).dtype == ref(inputs()).dtype


def test_export_with_dynamic_batch_and_size():
    ref, ours = models()
    # Sizes that are multiples of 4, as for torch.nn's model: its ceil_mode average pool guards otherwise.
    batch, size = torch.export.Dim("batch", min=1, max=64), 4 * torch.export.Dim("quarter", min=4, max=16)
    for model in (ref, ours):
        exported = torch.export.export(model, (inputs(),), dynamic_shapes=({0: batch, 2: size, 3: size},))
    targets = {str(n.target) for n in exported.graph.nodes if n.op == "call_function"}
    assert any(t.startswith("torchconv.") for t in targets), targets
    for n, hw in [(3, 16), (5, 24)]:
        x = inputs(n, hw)
        assert_close(exported.module()(x), ref(x))


def test_checkpoint_weight_norm_and_save_load(tmp_path):
    from torch.utils.checkpoint import checkpoint

    ref, ours = models()
    x = inputs().requires_grad_()
    checkpoint(ours, x, use_reentrant=False).square().sum().backward()
    x_ref = x.detach().clone().requires_grad_()
    ref(x_ref).square().sum().backward()
    assert_close(x.grad, x_ref.grad)

    torch.save(ours, tmp_path / "model.pt")
    loaded = torch.load(tmp_path / "model.pt", weights_only=False)
    assert type(loaded.features[0]) is type(ours.features[0])
    assert_close(loaded(inputs()), ref(inputs()))

    normed = torch.nn.utils.parametrizations.weight_norm(ours.features[0])
    assert_close(normed(inputs()), ref.features[0](inputs()))
