"""Train a model on a real dataset: minigrad's main demo.

    python -m minigrad.examples.train [--dataset digits] [--model cnn] [--epochs 15]
        [--batch-size 64] [--lr 2e-3] [--optimizer adam] [--device cpu] [--seed 0]
        [--out runs/digits-cnn] [--resume runs/digits-cnn/checkpoint.mg]

The default trains a small CNN on the 8x8 handwritten digits that ship with scikit-learn
(no download).  MNIST, Fashion-MNIST and CIFAR-10 are read from ``$MINIGRAD_DATA`` (or
``~/.cache/minigrad``) and downloaded there when missing.  Each epoch shows a progress bar
with the running loss and accuracy and prints the test accuracy; at the end the checkpoint
(model, optimizer, history) and a PNG of the training curves (with matplotlib) are written
to ``--out``.  The same seed gives the same numbers.

The training step is the PyTorch loop, written with minigrad:

    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import optim

DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10")
MODELS = ("cnn", "mlp", "lstm")
OPTIMIZERS = {"adam": optim.Adam, "adamw": optim.AdamW, "sgd": optim.SGD,
              "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad}


# -- data --------------------------------------------------------------------------------------
def load_data(name: str, seed: int):
    """Train and test sets as ``TensorDataset``s of (N, C, H, W) float32 images and labels."""
    from minigrad.data import TensorDataset, datasets

    if name == "digits":
        splits = [datasets.Digits(train=train, seed=seed) for train in (True, False)]
        return [TensorDataset(s.data.unsqueeze(1), s.targets) for s in splits]
    cls = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST,
           "cifar10": datasets.CIFAR10}[name]
    out = []
    for train in (True, False):
        raw = cls(root=None, train=train, download=True)
        images = minigrad.tensor(raw.data).float() / 255.0
        images = images.unsqueeze(1) if images.ndim == 3 else images.permute(0, 3, 1, 2)
        out.append(TensorDataset(images, minigrad.tensor(raw.targets)))
    return out


# -- models ------------------------------------------------------------------------------------
class LSTMClassifier(nn.Module):
    """Reads an image row by row: each row of pixels (all channels) is one time step."""

    def __init__(self, channels: int, height: int, width: int, hidden: int = 64):
        super().__init__()
        self.lstm = nn.LSTM(channels * width, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x):
        n, c, h, w = x.shape
        rows = x.permute(0, 2, 1, 3).reshape(n, h, c * w)
        _, (h_n, _) = self.lstm(rows)
        return self.head(h_n[-1])


def build_model(kind: str, channels: int, height: int, width: int) -> nn.Module:
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(channels * height * width, 128), nn.ReLU(),
                             nn.Linear(128, 10))
    if kind == "cnn":
        return nn.Sequential(
            nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * (height // 4) * (width // 4), 128), nn.ReLU(),
            nn.Dropout(0.25), nn.Linear(128, 10),
        )
    return LSTMClassifier(channels, height, width)


# -- training ----------------------------------------------------------------------------------
def evaluate(model, loader, device) -> float:
    model.eval()
    correct = total = 0
    with minigrad.no_grad():
        for x, y in loader:
            predicted = model(x.to(device)).argmax(dim=1)
            correct += (predicted == y.to(device)).sum().item()
            total += len(y)
    return correct / total


def train_epoch(model, loader, optimizer, device, progress):
    model.train()
    seen = correct = 0
    loss_sum = 0.0
    for x, y in progress(loader):
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(y)
        correct += (logits.argmax(dim=1) == y).sum().item()
        seen += len(y)
        progress.show(loss=loss_sum / seen, accuracy=correct / seen)
    return loss_sum / seen, correct / seen


class Progress:
    """A tqdm bar over one epoch's batches (silent when ``quiet``)."""

    def __init__(self, quiet: bool):
        self.quiet, self.bar = quiet, None

    def epoch(self, epoch: int, epochs: int):
        self.description = f"epoch {epoch}/{epochs}"
        return self

    def __call__(self, loader):
        if self.quiet:
            return loader
        from tqdm import tqdm

        self.bar = tqdm(loader, desc=self.description, leave=False, unit="batch")
        return self.bar

    def show(self, **values):
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in values.items()})


def save_plot(history: dict, path: str, say) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        say("matplotlib is not installed: no plot (pip install 'minigrad[examples]')")
        return
    epochs = range(1, len(history["loss"]) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(epochs, history["loss"], marker="o")
    left.set(xlabel="epoch", ylabel="training loss", title="loss")
    right.plot(epochs, history["train_accuracy"], marker="o", label="train")
    right.plot(epochs, history["test_accuracy"], marker="o", label="test")
    right.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    say(f"training curves: {path}")


def train(dataset="digits", model="cnn", epochs=15, batch_size=64, lr=2e-3, optimizer="adam",
          device="cpu", seed=0, out=None, resume=None, quiet=False):
    """Train and return the history dict (loss, train_accuracy, test_accuracy per epoch)."""
    from minigrad.data import DataLoader

    say = (lambda *a: None) if quiet else print
    minigrad.manual_seed(seed)
    train_set, test_set = load_data(dataset, seed)
    channels, height, width = train_set[0][0].shape
    net = build_model(model, channels, height, width).to(device)
    opt = OPTIMIZERS[optimizer](net.parameters(), lr=lr)
    history = {"loss": [], "train_accuracy": [], "test_accuracy": []}
    if resume:
        checkpoint = minigrad.load(resume)
        net.load_state_dict(checkpoint["model"])
        opt.load_state_dict(checkpoint["optimizer"])
        history = {k: list(v) for k, v in checkpoint["history"].items()}
        say(f"resumed from {resume} after {len(history['loss'])} epochs")

    test_loader = DataLoader(test_set, batch_size=256)
    n_params = sum(p.numel() for p in net.parameters())
    say(f"{dataset}: {len(train_set)} train / {len(test_set)} test images "
        f"({channels}x{height}x{width}); {model} with {n_params:,} parameters; {optimizer} "
        f"lr={lr}; device {device}")
    progress = Progress(quiet)
    start = time.perf_counter()
    for epoch in range(len(history["loss"]) + 1, epochs + 1):
        tick = time.perf_counter()
        # Seeded per epoch (shuffling and dropout), so a resumed run repeats an uninterrupted one.
        minigrad.manual_seed(seed * 10_000 + epoch)
        generator = minigrad.Generator().manual_seed(seed * 10_000 + epoch)
        train_loader = DataLoader(train_set, batch_size, shuffle=True, generator=generator)
        loss, train_acc = train_epoch(net, train_loader, opt, device, progress.epoch(epoch, epochs))
        test_acc = evaluate(net, test_loader, device)
        for key, value in zip(history, (loss, train_acc, test_acc)):
            history[key].append(value)
        say(f"epoch {epoch:2d}/{epochs}  loss {loss:.4f}  train accuracy {train_acc:.2%}  "
            f"test accuracy {test_acc:.2%}  ({time.perf_counter() - tick:.1f} s)")
    if history["test_accuracy"]:
        say(f"final test accuracy {history['test_accuracy'][-1]:.2%} "
            f"({time.perf_counter() - start:.1f} s of training)")
    if out:
        os.makedirs(out, exist_ok=True)
        path = os.path.join(out, "checkpoint.mg")
        minigrad.save({"model": net.state_dict(), "optimizer": opt.state_dict(),
                       "history": history}, path)
        with open(os.path.join(out, "history.json"), "w") as f:
            json.dump(history, f, indent=1)
        say(f"checkpoint: {path}")
        save_plot(history, os.path.join(out, "training.png"), say)
    return history


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=DATASETS, default="digits")
    parser.add_argument("--model", choices=MODELS, default="cnn")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="folder for the checkpoint and the plot")
    parser.add_argument("--resume", default=None, help="a checkpoint written by --out")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if not math.isfinite(args.lr) or args.lr <= 0:
        parser.error(f"--lr must be a positive number, got {args.lr}")
    train(args.dataset, args.model, args.epochs, args.batch_size, args.lr, args.optimizer,
          args.device, args.seed, args.out, args.resume, args.quiet)


if __name__ == "__main__":
    main()
