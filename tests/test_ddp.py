"""DistributedDataParallel over a converted model: two CPU processes (gloo, loopback), each on half of
every batch, end with the parameters of one process trained on the full batches."""
import os
import socket
import sys
import time

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn

import torchconv

STEPS, BATCH, WORLD = 4, 8, 2

pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                                reason="torch.distributed with gloo is not available")


def make_model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2), nn.ReLU(), nn.AvgPool2d(2),
                          nn.ConvTranspose2d(8, 4, 2, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(4, 5))
    return torchconv.convert(model).double()


def batches():
    g = torch.Generator().manual_seed(1)
    return (torch.randn(STEPS, BATCH, 3, 16, 16, generator=g, dtype=torch.float64),
            torch.randint(0, 5, (STEPS, BATCH), generator=g))


def train(model, rank=0, world=1):
    """SGD with momentum; this process sees rows [rank*B/world, (rank+1)*B/world) of every batch."""
    opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    rows = slice(rank * BATCH // world, (rank + 1) * BATCH // world)
    for x, y in zip(*batches()):
        opt.zero_grad()
        F.cross_entropy(model(x[rows]), y[rows]).backward()
        opt.step()


def worker(rank, port, path):
    if sys.platform.startswith("linux"):
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD)
    try:
        model = nn.parallel.DistributedDataParallel(make_model())
        train(model, rank, WORLD)
        if rank == 0:
            torch.save(model.module.state_dict(), path)
        # Both ranks leave together: one tearing down gloo while the other still runs aborts the other.
        dist.barrier()
    finally:
        dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_matches_single_process(tmp_path):
    path = tmp_path / "ddp.pt"
    context = mp.spawn(worker, args=(free_port(), str(path)), nprocs=WORLD, join=False)
    deadline = time.monotonic() + 120
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for p in context.processes:
                p.terminate()
            pytest.fail("DDP workers did not finish in 120 s")
    ddp = torch.load(path)

    model = make_model()
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    train(model)
    assert type(model[0]) is torchconv.nn.Conv2d
    for name, value in model.state_dict().items():
        assert not torch.allclose(value, initial[name]), f"{name} did not train"
        assert torch.allclose(ddp[name], value, rtol=1e-10, atol=1e-12), (name, (ddp[name] - value).abs().max())
