"""Train a two-layer network on the 8x8 handwritten digits, with nothing but tensors.

    python -m minigrad.examples.tensors_only [--epochs 20] [--hidden 128] [--lr 0.1] [--seed 0]

The data is scikit-learn's bundled copy of the UCI digits (1,797 images of 8x8 pixels,
no download).  The model, the loss and the optimizer are written out here with
minigrad's tensor ops, so every line of the training step is visible:

    h      = relu(x W1 + b1)                     forward pass, layer by layer
    p      = log_softmax(h W2 + b2)
    L      = -mean_i p[i, y_i]                   cross-entropy (negative log-likelihood)
    L.backward()                                 dL/dW for every W, by the chain rule
    v <- mu v + g;  W <- W - lr v                SGD with momentum (PyTorch's form)
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import minigrad


def load_digits(seed: int):
    """The Digits split as (N, 64) float32 images in [0, 1] and int64 labels (NumPy arrays)."""
    from minigrad.data.datasets import Digits

    train, test = Digits(train=True, seed=seed), Digits(train=False, seed=seed)
    return (train.data.numpy().reshape(-1, 64), train.targets.numpy(),
            test.data.numpy().reshape(-1, 64), test.targets.numpy())


def init_params(sizes, generator):
    """He-uniform weights (as PyTorch's Linear default, up to the gain) and zero biases."""
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = math.sqrt(6.0 / n_in)
        w = (minigrad.rand(n_in, n_out, generator=generator) * 2 - 1) * bound
        params += [w.requires_grad_(), minigrad.zeros(n_out, requires_grad=True)]
    return params


def forward(params, x):
    w1, b1, w2, b2 = params
    h = (x @ w1 + b1).relu()
    return (h @ w2 + b2).log_softmax(dim=1)


def nll_loss(log_probs, targets):
    return -log_probs[minigrad.arange(len(targets)), targets].mean()


def accuracy(params, x, y) -> float:
    with minigrad.no_grad():
        predicted = forward(params, x).argmax(dim=1)
    return float((predicted == y).numpy().mean())


def train(epochs=20, hidden=128, lr=0.1, momentum=0.9, batch_size=64, seed=0, quiet=False):
    """Train and return (test accuracy before, test accuracy after, final loss)."""
    generator = minigrad.Generator().manual_seed(seed)
    x_train, y_train, x_test, y_test = load_digits(seed)
    x_test_t, y_test_t = minigrad.from_numpy(x_test), minigrad.from_numpy(y_test)
    params = init_params([64, hidden, 10], generator)
    velocity = [minigrad.zeros_like(p) for p in params]
    say = (lambda *a: None) if quiet else print

    before = accuracy(params, x_test_t, y_test_t)
    say(f"digits: {len(x_train)} train / {len(x_test)} test images; MLP 64-{hidden}-10; "
        f"test accuracy before training: {before:.1%}")
    loss_value = float("nan")
    for epoch in range(1, epochs + 1):
        start, losses = time.perf_counter(), []
        order = generator.numpy.permutation(len(x_train))
        for i in range(0, len(order), batch_size):
            batch = order[i : i + batch_size]
            x, y = minigrad.from_numpy(x_train[batch]), minigrad.from_numpy(y_train[batch])
            loss = nll_loss(forward(params, x), y)
            for p in params:
                p.grad = None
            loss.backward()
            with minigrad.no_grad():
                for p, v in zip(params, velocity):
                    v.mul_(momentum).add_(p.grad)
                    p.sub_(v * lr)
            losses.append(loss.item())
        loss_value = float(np.mean(losses))
        test_acc = accuracy(params, x_test_t, y_test_t)
        say(f"epoch {epoch:2d}  loss {loss_value:.4f}  test accuracy {test_acc:.1%}  "
            f"({time.perf_counter() - start:.2f} s)")
    after = accuracy(params, x_test_t, y_test_t)
    say(f"test accuracy: {before:.1%} before training -> {after:.1%} after {epochs} epochs")
    return before, after, loss_value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    train(args.epochs, args.hidden, args.lr, args.momentum, args.batch_size, args.seed)


if __name__ == "__main__":
    main()
