"""ResNet-18 (He et al., 2016; written out here, no torchvision) converted by ``torchconv.convert``.

Checks that the converted model computes the same thing as the original on each device (the CPU, and
the GPU when there is one), in float64 and float32: eval-mode outputs (relative error <= 1e-10 and
<= 1e-5) and one identical SGD training step (the largest parameter difference after it). Then times
a float32 forward pass (eval, no grad) and training step (forward, backward, SGD update) of both,
interleaved, median of --repeats runs.

    python examples/resnet18.py [--batch-size 4] [--resolution 224] [--repeats 5] [--channels-last]
"""
import argparse
import copy
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

import torchconv


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm, plus the input (through a strided 1x1 convolution when
    the shape changes)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        widths, cin, layers = [64, 128, 256, 512], 64, []
        for i, width in enumerate(widths):
            layers.append(nn.Sequential(BasicBlock(cin, width, 1 if i == 0 else 2), BasicBlock(width, width, 1)))
            cin = width
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def rel_err(a, b):
    return ((a - b).norm() / b.norm()).item()


def max_diff(a, b):
    return max((p - q).abs().max().item() for p, q in zip(a.state_dict().values(), b.state_dict().values())
               if p.is_floating_point())


def sgd_step(model, opt, x, y):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def check(reference, converted, x, y):
    """Eval outputs, then one SGD step from the same weights on the same batch (x's dtype)."""
    dtype = str(x.dtype).replace("torch.", "")
    tolerance = 1e-5 if x.dtype == torch.float32 else 1e-10
    for m in (reference, converted):
        m.eval()
    with torch.no_grad():
        err = rel_err(converted(x), reference(x))
    print(f"  {dtype} eval output relative error: {err:.2e} (must be <= {tolerance:g})")
    assert err <= tolerance
    for m in (reference, converted):
        m.train()
    opts = [torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4) for m in (reference, converted)]
    loss_ref, loss = sgd_step(reference, opts[0], x, y), sgd_step(converted, opts[1], x, y)
    print(f"  {dtype} training step: loss {loss_ref.item():.8f} (torch.nn) vs {loss.item():.8f} (torchconv), "
          f"largest parameter/buffer difference after it {max_diff(reference, converted):.2e}")


def timings(models, x, y, repeats, device):
    """Median seconds per forward (eval, no grad) and per training step, runs interleaved A B B A."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    opts = {name: torch.optim.SGD(m.parameters(), lr=1e-3, momentum=0.9) for name, m in models.items()}

    def forward(name):
        models[name].eval()
        with torch.no_grad():
            models[name](x)

    def train(name):
        models[name].train()
        sgd_step(models[name], opts[name], x, y)

    results = {}
    for what, fn in [("forward", forward), ("training step", train)]:
        runs = {name: [] for name in models}
        names = list(models)
        for name in names:  # warm-up
            fn(name)
        for i in range(repeats):
            for name in names if i % 2 == 0 else names[::-1]:
                sync()
                start = time.perf_counter()
                fn(name)
                sync()
                runs[name].append(time.perf_counter() - start)
        results[what] = {name: statistics.median(t) for name, t in runs.items()}
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--resolution", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--channels-last", action="store_true", help="NHWC activations and weights")
    parser.add_argument("--cpu-only", action="store_true", help="skip the GPU even when there is one")
    args = parser.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 on both sides
    torch.backends.cudnn.allow_tf32 = False
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and not args.cpu_only else [])

    torch.manual_seed(0)
    model = ResNet18()
    s = torchconv.summary(model, (1, 3, args.resolution, args.resolution))
    field = [r for r in s.layers if r.name.startswith("layer4")][-1].receptive_field
    print(f"ResNet-18: {s.total_params:,} parameters, {s.total_macs / 1e9:.2f} G multiply-adds per "
          f"{args.resolution}x{args.resolution} image, receptive field of the last block {field[0]}x{field[1]} pixels")
    for name in devices:
        device = torch.device(name)
        what = torch.cuda.get_device_name(device) if name == "cuda" else f"{torch.get_num_threads()} threads"
        print(f"\n{name} ({what}), batch {args.batch_size}x3x{args.resolution}x{args.resolution}, "
              f"{'channels_last' if args.channels_last else 'NCHW'}")
        g = torch.Generator().manual_seed(1)
        x = torch.randn(args.batch_size, 3, args.resolution, args.resolution, generator=g).to(device, memory_format=fmt)
        y = torch.randint(0, 1000, (args.batch_size,), generator=g).to(device)
        # float64 shows the conversion is exact up to summation order; in float32 a rounding difference
        # can flip a ReLU on a value near 0, which shifts that step's gradients by more than rounding
        for dtype in (torch.float64, torch.float32):
            reference = copy.deepcopy(model).to(device, dtype, memory_format=fmt)
            converted = torchconv.convert(reference)
            check(reference, converted, x.to(dtype), y)
        results = timings({"torch.nn": reference, "torchconv": converted}, x, y, args.repeats, device)
        for what, t in results.items():
            print(f"  float32 {what:>13}: torch.nn {t['torch.nn'] * 1e3:8.1f} ms, "
                  f"torchconv {t['torchconv'] * 1e3:8.1f} ms, speedup {t['torch.nn'] / t['torchconv']:.2f}x")


if __name__ == "__main__":
    main()
