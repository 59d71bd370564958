"""Epoch time of the documents' PyTorch MNIST network on 60,000 random 28x28 images.

    python benchmarks/mnist_epoch.py [--batches 938] [--frameworks minigrad,torch]

The network is the seed document's (conv 1->32 3x3, ReLU, conv 32->64 3x3, ReLU, max-pool 2,
dropout 0.25, flatten 9216, fc 128, ReLU, dropout 0.5, fc 10, log_softmax, NLL), trained with
SGD (lr 0.01, momentum 0.5) at batch 64 through a DataLoader over a TensorDataset.  The same
model code runs on minigrad and, when installed, on PyTorch (same thread count).  A full
epoch is 938 batches; ``--batches N`` times the first N and reports the per-batch median
and spread and N-batch wall time, plus the epoch time those imply (labelled as such).
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time


def run(name: str, batches: int, seed: int = 0) -> dict:
    fw = importlib.import_module(name)
    nn = importlib.import_module(f"{name}.nn")
    F = importlib.import_module(f"{name}.nn.functional")  # noqa: N806
    optim = importlib.import_module(f"{name}.optim")
    data = importlib.import_module(f"{name}.utils.data")
    fw.manual_seed(seed)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = fw.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = self.dropout2(x)
            return F.log_softmax(self.fc2(x), dim=1)

    images = fw.rand(60_000, 1, 28, 28)
    labels = fw.randint(0, 10, (60_000,))
    loader = data.DataLoader(data.TensorDataset(images, labels), batch_size=64, shuffle=True)
    model = Net()
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    model.train()
    times = []
    start = time.perf_counter()
    for i, (x, y) in enumerate(loader):
        if i == batches:
            break
        tick = time.perf_counter()
        optimizer.zero_grad()
        loss = F.nll_loss(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()
        times.append(time.perf_counter() - tick)
    wall = time.perf_counter() - start
    return {"batches": len(times), "wall_s": wall, "median_ms": statistics.median(times) * 1e3,
            "min_ms": min(times) * 1e3, "max_ms": max(times) * 1e3,
            "epoch_s_implied": wall / len(times) * 938}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=938)
    parser.add_argument("--frameworks", default="minigrad,torch")
    args = parser.parse_args()
    for name in args.frameworks.split(","):
        try:
            r = run(name, args.batches)
        except ImportError:
            print(f"{name}: not installed, skipped")
            continue
        print(f"{name:9s} {r['batches']} batches in {r['wall_s']:.1f} s; per batch median "
              f"{r['median_ms']:.1f} ms [{r['min_ms']:.1f} .. {r['max_ms']:.1f}]; "
              f"a 938-batch epoch at this rate: {r['epoch_s_implied']:.0f} s")


if __name__ == "__main__":
    main()
