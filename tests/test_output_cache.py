"""The CPU output cache (csrc/cpu/output_cache.h): outputs of 256 KiB and more reuse freed blocks of their
size, hold correct values whatever the block held before, behave as ordinary tensors (resize, views,
release from another thread), and TORCHCONV_CPU_OUTPUT_CACHE_MB=0 turns the cache off."""
import os
import subprocess
import sys
import threading

import torch
import torch.nn.functional as F

import torchconv
from conftest import channels_last, seeded_randn

BIG = (4, 32, 40, 40)  # 800 KiB of float32: cached


def test_freed_output_block_is_reused_with_fresh_values():
    x, w = seeded_randn(BIG, 0), seeded_randn((32, 32, 3, 3), 1)
    y = torchconv.conv2d(x, w, padding=1)
    address = y.data_ptr()
    del y
    other = torch.empty_like(x)  # PyTorch's allocator: would take the freed block were it not cached
    y = torchconv.conv2d(-x, w, padding=1)  # same size: the block just freed, holding the old values
    assert other.data_ptr() != address
    assert y.data_ptr() == address
    torch.testing.assert_close(y, F.conv2d(-x, w, padding=1), rtol=1e-12, atol=1e-12)


def test_outputs_in_use_get_distinct_blocks():
    x = seeded_randn(BIG, 0, torch.float32)
    outputs = [torchconv.max_pool2d(x * k, 1) for k in range(4)]
    assert len({y.data_ptr() for y in outputs}) == 4
    for k, y in enumerate(outputs):
        assert torch.equal(y, x * k)


def test_cached_output_resizes_and_is_freed_on_another_thread():
    x = seeded_randn(BIG, 0, torch.float32)
    assert torchconv.avg_pool2d(channels_last(x), 1).is_contiguous(memory_format=torch.channels_last)
    y = torchconv.avg_pool2d(x, 1)
    flat = y.view(-1)[:10].clone()
    y.resize_(2 * y.numel())  # grows through the same allocator
    assert torch.equal(y.view(-1)[:10], flat)
    worker = threading.Thread(target=lambda tensors: tensors.clear(), args=([y],))
    del y
    worker.start()
    worker.join()
    assert torch.equal(torchconv.avg_pool2d(x, 1), x)


def test_cache_can_be_turned_off():
    code = ("import torch, torchconv\n"
            "x = torch.randn(4, 32, 40, 40)\n"
            "for _ in range(3):\n"
            "    assert torch.equal(torchconv.max_pool2d(x, 2), torch.nn.functional.max_pool2d(x, 2))\n")
    env = dict(os.environ, TORCHCONV_CPU_OUTPUT_CACHE_MB="0")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
