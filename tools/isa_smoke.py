"""Smoke test of one CPU kernel set, small enough to run under an emulated CPU (`qemu-x86_64 -cpu MODEL`):
imports torchconv, checks that cpu_isa() names the expected kernel set, and runs every op forward and
backward on small shapes (float64, float32, bfloat16; NCHW and channels_last; depthwise and grouped)
against torch.nn.functional in float64.

    python tools/isa_smoke.py [EXPECTED_ISA]     # e.g. under qemu-x86_64 -cpu Haswell: avx2

Prints one line per case and, after all of them, exits non-zero if any mismatched; an instruction the
emulated CPU lacks ends the process with SIGILL (exit status 132 from the shell).
"""
import sys

import torch
import torch.nn.functional as F

import torchconv

TOL = {torch.float64: 1e-10, torch.float32: 1e-5, torch.bfloat16: 2e-2}


def rel_err(a, b):
    a, b = a.detach().double(), b.detach().double()
    return ((a - b).norm() / b.norm().clamp_min(1e-300)).item()


def compare(name, ours_fn, ref_fn, inputs, dtype):
    """Forward and backward of ours_fn (inputs in dtype) against ref_fn (the same inputs in float64)."""
    ours_in = [t.to(dtype, copy=True).requires_grad_() for t in inputs]
    ref_in = [t.to(dtype).to(torch.float64, copy=True).requires_grad_() for t in inputs]
    ours, ref = ours_fn(*ours_in), ref_fn(*ref_in)
    grad = torch.randn(ref.shape, dtype=torch.float64)
    ours.backward(grad.to(dtype))
    ref.backward(grad)
    errs = [rel_err(ours, ref)] + [rel_err(a.grad, b.grad) for a, b in zip(ours_in, ref_in)]
    worst = max(errs)
    ok = worst <= TOL[dtype]
    print(f"{'ok ' if ok else 'BAD'} {name:<34} {str(dtype)[6:]:<9} max rel err {worst:.1e}", flush=True)
    return ok


def cases():
    g = torch.Generator().manual_seed(0)

    def rnd(*shape, cl=False):
        t = torch.randn(*shape, generator=g, dtype=torch.float64)
        return t.to(memory_format=torch.channels_last) if cl else t

    for cl in (False, True):
        fmt = "channels_last" if cl else "nchw"
        x = rnd(2, 8, 9, 11, cl=cl)
        yield f"conv2d 3x3 pad1 {fmt}", lambda x, w, b: torchconv.conv2d(x, w, b, padding=1), \
            lambda x, w, b: F.conv2d(x, w, b, padding=1), [x, rnd(16, 8, 3, 3), rnd(16)]
        yield f"conv2d s2 d2 g2 {fmt}", \
            lambda x, w: torchconv.conv2d(x, w, stride=2, padding=2, dilation=2, groups=2), \
            lambda x, w: F.conv2d(x, w, stride=2, padding=2, dilation=2, groups=2), [x, rnd(6, 4, 3, 3)]
        yield f"conv2d depthwise {fmt}", lambda x, w: torchconv.conv2d(x, w, padding=1, groups=8), \
            lambda x, w: F.conv2d(x, w, padding=1, groups=8), [x, rnd(8, 1, 3, 3)]
        yield f"conv_transpose2d s2 {fmt}", \
            lambda x, w, b: torchconv.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1), \
            lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1), \
            [x, rnd(8, 5, 3, 3), rnd(5)]
        yield f"max_pool2d 3x3 s2 {fmt}", lambda x: torchconv.max_pool2d(x, 3, 2, 1), \
            lambda x: F.max_pool2d(x, 3, 2, 1), [x]
        yield f"avg_pool2d 3x3 s2 ceil {fmt}", lambda x: torchconv.avg_pool2d(x, 3, 2, 1, ceil_mode=True), \
            lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True), [x]
        yield f"adaptive_avg_pool2d 4x3 {fmt}", lambda x: torchconv.adaptive_avg_pool2d(x, (4, 3)), \
            lambda x: F.adaptive_avg_pool2d(x, (4, 3)), [x]
        yield f"adaptive_avg_pool2d 1x1 {fmt}", lambda x: torchconv.adaptive_avg_pool2d(x, 1), \
            lambda x: F.adaptive_avg_pool2d(x, 1), [x]
        yield f"adaptive_max_pool2d 4x3 {fmt}", lambda x: torchconv.adaptive_max_pool2d(x, (4, 3)), \
            lambda x: F.adaptive_max_pool2d(x, (4, 3)), [x]
    # Wide enough for full vectors of every ISA in the tile and channel kernels (64 channels).
    x = rnd(1, 64, 6, 7, cl=True)
    yield "conv2d 1x1 64ch channels_last", lambda x, w: torchconv.conv2d(x, w), \
        lambda x, w: F.conv2d(x, w), [x, rnd(64, 64, 1, 1)]
    yield "max_pool2d 2x2 64ch channels_last", lambda x: torchconv.max_pool2d(x, 2), \
        lambda x: F.max_pool2d(x, 2), [x]


def main():
    expected = sys.argv[1] if len(sys.argv) > 1 else None
    isa = torchconv.cpu_isa()
    print(f"torch {torch.__version__}, torchconv cpu_isa() = {isa}", flush=True)
    if expected is not None and isa != expected:
        sys.exit(f"expected cpu_isa() == {expected!r}, got {isa!r}")
    bad = 0
    for name, ours, ref, inputs in cases():
        for dtype in (torch.float64, torch.float32, torch.bfloat16):
            bad += not compare(name, ours, ref, inputs, dtype)
    if bad:
        sys.exit(f"{bad} mismatches")
    print("all ok")


if __name__ == "__main__":
    main()
