"""LeNet-5 on scikit-learn's handwritten digits, trained twice from the same initial weights, with the
same batches in the same order: once with torch.nn layers, once converted by ``torchconv.convert``.

The 1,797 8x8 digit images (shipped with scikit-learn, no download) are scaled to 32x32, LeNet-5's
input size, and split 80/20 into training and test sets. Prints each epoch's training loss and time
for both models, their test accuracy, and the largest difference between their parameters after
training (the two differ only by floating-point summation order).

    pip install -e ".[examples]"        # scikit-learn
    python examples/lenet_digits.py [--epochs 15] [--device cpu|cuda]
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

import torchconv


def lenet5():
    """LeNet-5 (LeCun et al., 1998) with ReLU activations and max pooling."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),     # 1x32x32 -> 6x28x28 -> 6x14x14
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),    # -> 16x10x10 -> 16x5x5
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


def digits(device):
    """(x_train, y_train, x_test, y_test): images 1x32x32, standardised; a fixed 80/20 split."""
    data = load_digits()
    x = torch.tensor(data.images, dtype=torch.float32).unsqueeze(1)
    x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
    x = (x - x.mean()) / x.std()
    y = torch.tensor(data.target)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    train, test = order[: len(y) * 4 // 5], order[len(y) * 4 // 5:]
    return x[train].to(device), y[train].to(device), x[test].to(device), y[test].to(device)


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_epoch(model, opt, x, y, order, batch_size, device):
    """One pass over the training set in the given order; returns (mean loss, seconds)."""
    model.train()
    synchronize(device)
    start = time.perf_counter()
    total = 0.0
    for i in range(0, len(order), batch_size):
        idx = order[i:i + batch_size]
        opt.zero_grad()
        loss = F.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    synchronize(device)
    return total / len(order), time.perf_counter() - start


def max_param_diff(a, b):
    return max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters()))


@torch.no_grad()
def accuracy(model, x, y):
    model.eval()
    return (model(x).argmax(1) == y).float().mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)

    x_train, y_train, x_test, y_test = digits(device)
    torch.manual_seed(0)
    reference = lenet5().to(device)
    converted = torchconv.convert(reference)  # a copy, same initial weights, torchconv layers
    models = {"torch.nn": reference, "torchconv": converted}
    optimizers = {name: torch.optim.Adam(m.parameters(), lr=args.lr) for name, m in models.items()}
    print(f"LeNet-5 on sklearn digits: {len(y_train)} training / {len(y_test)} test images, 32x32, "
          f"device {device}, {torch.get_num_threads()} CPU threads")
    print(f"{'epoch':>5}  {'loss torch.nn':>13}  {'loss torchconv':>14}  {'max |dparam|':>12}  {'s torch.nn':>10}  "
          f"{'s torchconv':>11}")

    shuffle = torch.Generator().manual_seed(1)
    times = {name: [] for name in models}
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(y_train), generator=shuffle).to(device)  # the same batches for both
        losses = {}
        for name, model in models.items():
            losses[name], seconds = train_epoch(model, optimizers[name], x_train, y_train, order, args.batch_size,
                                                device)
            times[name].append(seconds)
        print(f"{epoch:>5}  {losses['torch.nn']:>13.6f}  {losses['torchconv']:>14.6f}  "
              f"{max_param_diff(reference, converted):>12.3g}  {times['torch.nn'][-1]:>10.3f}  "
              f"{times['torchconv'][-1]:>11.3f}")

    acc = {name: accuracy(m, x_test, y_test) for name, m in models.items()}
    print(f"test accuracy: torch.nn {acc['torch.nn']:.2%}, torchconv {acc['torchconv']:.2%}")
    print(f"largest parameter difference after training: {max_param_diff(reference, converted):.3g}")
    print("time per epoch (median): " + ", ".join(f"{name} {statistics.median(t):.3f} s" for name, t in times.items()))
    if acc["torchconv"] < 0.95:
        raise SystemExit(f"torchconv test accuracy {acc['torchconv']:.2%} is below 95%")


if __name__ == "__main__":
    main()
