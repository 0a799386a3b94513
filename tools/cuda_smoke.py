"""Small run of every torchconv op on the GPU, forward and backward, in every dtype and layout,
checked against torchconv's CPU kernels. Sized for compute-sanitizer (tools/gpu_check.sh); exits
non-zero on a mismatch.

    python tools/cuda_smoke.py
"""
import sys

import torch

import torchconv

ops = torch.ops.torchconv


def rel(a, b):
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    return ((a - b).norm() / b.norm().clamp_min(1e-30)).item()


TOL = {torch.float64: 1e-10, torch.float32: 1e-5, torch.bfloat16: 2e-2, torch.float16: 2e-3}

CONVS = [  # (N, C, H, W, K, R, S, stride, padding, dilation, groups)
    (2, 5, 9, 8, 7, 3, 3, (1, 1), (1, 1), (1, 1), 1),
    (1, 6, 11, 10, 4, 3, 2, (2, 3), (1, 0), (2, 1), 2),   # grouped, strided, dilated
    (2, 4, 7, 9, 8, 3, 3, (2, 2), (1, 1), (1, 1), 4),     # depthwise, multiplier 2
    (1, 70, 6, 6, 66, 1, 1, (1, 1), (0, 0), (1, 1), 1),   # 1x1, several tiles
]


def check(name, got, want, dtype, failures):
    err = rel(got, want)
    if not err <= TOL[dtype]:
        failures.append(f"{name}: relative error {err:.2e}")


def main():
    failures = []
    gen = torch.Generator().manual_seed(0)
    for dtype in (torch.float32, torch.float64, torch.bfloat16, torch.float16):
        ref_dtype = torch.float32 if dtype == torch.float16 else dtype  # the CPU has no float16
        for fmt in (torch.contiguous_format, torch.channels_last):
            tag = f"{dtype}/{fmt}"
            for N, C, H, W, K, R, S, st, pd, dl, G in CONVS:
                x = torch.randn(N, C, H, W, generator=gen).to(dtype).contiguous(memory_format=fmt)
                w = torch.randn(K, C // G, R, S, generator=gen).to(dtype)
                b = torch.randn(K, generator=gen).to(dtype)
                args = (st, pd, dl, G)
                y = ops.conv2d(x.cuda(), w.cuda(), b.cuda(), *args)
                y_ref = ops.conv2d(x.to(ref_dtype), w.to(ref_dtype), b.to(ref_dtype), *args)
                check(f"conv2d {tag}", y, y_ref, dtype, failures)
                dy = torch.randn(y_ref.shape, generator=gen).to(dtype).contiguous(memory_format=fmt)
                dx = ops.conv2d_input_grad(dy.cuda(), w.cuda(), list(x.shape), *args)
                dx_ref = ops.conv2d_input_grad(dy.to(ref_dtype), w.to(ref_dtype), list(x.shape), *args)
                check(f"conv2d_input_grad {tag}", dx, dx_ref, dtype, failures)
                dw = ops.conv2d_weight_grad(dy.cuda(), x.cuda(), list(w.shape), *args)
                dw_ref = ops.conv2d_weight_grad(dy.to(ref_dtype), x.to(ref_dtype), list(w.shape), *args)
                check(f"conv2d_weight_grad {tag}", dw, dw_ref, dtype, failures)

            x = torch.randn(2, 3, 11, 9, generator=gen).to(dtype).contiguous(memory_format=fmt)
            x[0, 0, 2, 2] = float("nan")
            xc, xr = x.cuda(), x.to(ref_dtype)
            y, i = ops.max_pool2d(xc, [3, 3], [2, 2], [1, 1], [1, 2], True)
            y_ref, i_ref = ops.max_pool2d(xr, [3, 3], [2, 2], [1, 1], [1, 2], True)
            if not torch.equal(i.cpu(), i_ref):
                failures.append(f"max_pool2d indices {tag}")
            dy = torch.randn(y_ref.shape, generator=gen).to(dtype)
            check(f"max_pool2d_backward {tag}", ops.max_pool2d_backward(dy.cuda(), i, list(x.shape)),
                  ops.max_pool2d_backward(dy.to(ref_dtype), i_ref, list(x.shape)), dtype, failures)
            y, i = ops.adaptive_max_pool2d(xc, [4, 5])
            if not torch.equal(i.cpu(), ops.adaptive_max_pool2d(xr, [4, 5])[1]):
                failures.append(f"adaptive_max_pool2d indices {tag}")
            x = x.nan_to_num()
            xc, xr = x.cuda(), x.to(ref_dtype)
            y = ops.avg_pool2d(xc, [3, 2], [2, 2], [1, 1], True, False, None)
            y_ref = ops.avg_pool2d(xr, [3, 2], [2, 2], [1, 1], True, False, None)
            check(f"avg_pool2d {tag}", y, y_ref, dtype, failures)
            dy = torch.randn(y_ref.shape, generator=gen).to(dtype)
            pool = ([3, 2], [2, 2], [1, 1], True, False, None)
            check(f"avg_pool2d_backward {tag}", ops.avg_pool2d_backward(dy.cuda(), list(x.shape), *pool),
                  ops.avg_pool2d_backward(dy.to(ref_dtype), list(x.shape), *pool), dtype, failures)
            y = ops.adaptive_avg_pool2d(xc, [4, 5])
            check(f"adaptive_avg_pool2d {tag}", y, ops.adaptive_avg_pool2d(xr, [4, 5]), dtype, failures)
            dy = torch.randn(y.shape, generator=gen).to(dtype)
            check(f"adaptive_avg_pool2d_backward {tag}",
                  ops.adaptive_avg_pool2d_backward(dy.cuda(), list(x.shape)),
                  ops.adaptive_avg_pool2d_backward(dy.to(ref_dtype), list(x.shape)), dtype, failures)
    torch.cuda.synchronize()
    for f in failures:
        print("MISMATCH", f)
    print("cuda_smoke:", "FAILED" if failures else "OK", f"({torchconv.__name__} on {torch.cuda.get_device_name()})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
