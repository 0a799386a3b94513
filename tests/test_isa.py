"""The per-ISA CPU kernels: TORCHCONV_CPU_ISA forces avx2 or scalar (the machine's best ISA runs everywhere
else in the suite), and a sample of the random comparisons against PyTorch runs in a subprocess with it."""
import os
import subprocess
import sys

import pytest

import torchconv

TESTS = os.path.dirname(os.path.abspath(__file__))

# Every kind of convolution (CONV_KINDS has six kinds, seeds step by 5) and of pooling window (odd seeds are
# dilated), in float64, float32 and bfloat16; the depthwise and narrow-group kernels and the interleaved
# NCHW pooling with full vectors.
SAMPLE = ([f"test_conv.py::test_conv2d_random[cpu-{seed}]" for seed in range(0, 60, 5)]
          + [f"test_conv.py::test_conv_transpose2d_random[cpu-{seed}]" for seed in range(0, 40, 8)]
          + [f"test_conv.py::test_conv2d_random_dtypes[cpu-{seed}-{dtype}]" for seed in (5, 20, 45)
             for dtype in ("float32", "bfloat16")]
          + [f"test_pool.py::test_max_pool2d_random[cpu-{seed}]" for seed in range(0, 60, 5)]
          + [f"test_pool.py::test_avg_pool2d_random[cpu-{seed}]" for seed in range(0, 50, 10)]
          + [f"test_pool.py::test_max_pool2d_random_dtypes[cpu-{seed}-bfloat16]" for seed in (6, 30)]
          + [f"test_conv.py::test_depthwise_conv2d[cpu-case{i}-{layout}]" for i in range(4)
             for layout in ("contiguous", "channels_last")]
          + [f"test_conv.py::test_narrow_group_conv2d[cpu-case{i}-channels_last-{dtype}]" for i in range(3)
             for dtype in ("float64", "float32")]
          + [f"test_pool.py::test_pool_many_planes_and_rows[cpu-{pool}-contiguous]"
             for pool in ("max_pool2d_dilated_ceil", "avg_pool2d_3x3s2_pad", "adaptive_max_pool2d")]
          + [f"test_conv.py::test_conv2d_channel_chunks[cpu-case{i}-float32]" for i in range(4)]
          + [f"test_conv.py::test_conv2d_pixel_stride_multiple_of_2k[cpu-3-1-1-{layout}-float32]"
             for layout in ("contiguous", "channels_last")])


def run_python(args, isa, cwd):
    env = dict(os.environ, TORCHCONV_CPU_ISA=isa)
    return subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_default_isa():
    assert torchconv.cpu_isa() in ("avx512", "avx2", "scalar")


@pytest.mark.parametrize("isa", ["avx2", "scalar"])
def test_forced_isa_matches_pytorch(isa, tmp_path):
    probe = run_python(["-c", "import torchconv; print(torchconv.cpu_isa())"], isa, tmp_path)
    if "does not support it" in probe.stderr:
        pytest.skip(f"this CPU has no {isa}")
    assert probe.stdout.strip() == isa, probe.stderr
    tests = [os.path.join(TESTS, node) for node in SAMPLE]
    result = run_python(["-m", "pytest", "-q", "-p", "no:cacheprovider", *tests], isa, tmp_path)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def test_unknown_isa_is_an_error(tmp_path):
    probe = run_python(["-c", "import torchconv; torchconv.cpu_isa()"], "sse9", tmp_path)
    assert probe.returncode != 0
    assert "TORCHCONV_CPU_ISA must be avx512, avx2 or scalar, got 'sse9'" in probe.stderr
