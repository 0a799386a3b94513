"""Threading: with a fixed thread count every result is bitwise reproducible (work items write disjoint
outputs, split reductions are summed in a fixed order); one, two and three threads agree within tolerance."""
import pytest
import torch

import torchconv
from conftest import TOLERANCE, channels_last, forward_backward, rel_err, seeded_randn


def conv2d_case():
    # Few output channels and many rows: the weight gradient is split over row chunks.
    return (lambda x, w, b: torchconv.conv2d(x, w, b, 1, 1, 1, 1),
            [seeded_randn((4, 16, 20, 18), 0), seeded_randn((8, 16, 3, 3), 1), seeded_randn(8, 2)])


def depthwise_case():
    return (lambda x, w: torchconv.conv2d(x, w, None, 2, 1, 1, 16),
            [channels_last(seeded_randn((4, 16, 21, 19), 0)), seeded_randn((32, 1, 3, 3), 1)])


def conv_transpose2d_case():
    return (lambda x, w: torchconv.conv_transpose2d(x, w, None, 2, 1, 1, 2),
            [seeded_randn((3, 12, 9, 10), 0), seeded_randn((12, 5, 4, 4), 1)])


def pool_case(pool, fmt=None):
    x = seeded_randn((4, 24, 17, 15), 0)
    return pool, [channels_last(x) if fmt == "channels_last" else x]


CASES = {
    "conv2d": conv2d_case,
    "conv2d_depthwise": depthwise_case,
    "conv_transpose2d": conv_transpose2d_case,
    "max_pool2d": lambda: pool_case(lambda x: torchconv.max_pool2d(x, 3, 2, 1, ceil_mode=True)),
    "max_pool2d_channels_last": lambda: pool_case(lambda x: torchconv.max_pool2d(x, 3, 1, 1), "channels_last"),
    "avg_pool2d": lambda: pool_case(lambda x: torchconv.avg_pool2d(x, 3, 1, 1, count_include_pad=False)),
    "avg_pool2d_channels_last": lambda: pool_case(lambda x: torchconv.avg_pool2d(x, 4, 2, 2), "channels_last"),
    "adaptive_avg_pool2d": lambda: pool_case(lambda x: torchconv.adaptive_avg_pool2d(x, (5, 7))),
    "adaptive_max_pool2d": lambda: pool_case(lambda x: torchconv.adaptive_max_pool2d(x, (5, 7))),
}


def run_float32(case):
    fn, inputs = CASES[case]()
    inputs = [t.float() for t in inputs]
    outs, grads = forward_backward(fn, inputs, [seeded_randn(fn(*inputs).shape, 9, torch.float32)])
    return outs + grads


@pytest.mark.parametrize("case", CASES)
def test_reproducible_for_a_fixed_thread_count(case, num_threads):
    num_threads(2)
    first, second = run_float32(case), run_float32(case)
    for a, b in zip(first, second):
        assert torch.equal(a, b)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("threads", [2, 3])
def test_thread_counts_agree(case, threads, num_threads):
    num_threads(1)
    one = run_float32(case)
    num_threads(threads)
    many = run_float32(case)
    for i, (a, b) in enumerate(zip(many, one)):
        assert rel_err(a, b) <= TOLERANCE[torch.float32], f"result {i}"
