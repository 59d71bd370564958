"""One optimizer ``step()`` over a 784-128-10 MLP's parameters against the same update in NumPy.

    python benchmarks/optim_step.py [--repeats 50] [--number 20]

The parameters are the four float32 arrays of ``Linear(784, 128)`` and ``Linear(128, 10)``
(stored as PyTorch does: 128x784, 128, 10x128, 10; 101,770 numbers) with
gradients filled.  For each optimizer we time ``opt.step()`` and, side by side in the same
run, the same formula written directly as in-place NumPy on the same arrays (state buffers
allocated once, outside the timing).  Each repeat times ``number`` calls; the table gives
the median over repeats of the time per call in microseconds, and the ratio.
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import time

import numpy as np

import minigrad
from minigrad import nn, optim

SHAPES = [(128, 784), (128,), (10, 128), (10,)]


def numpy_update(name: str, params, grads, hyper: dict):
    """A closure running one update of ``params`` in place, the formula written in NumPy."""
    lr = hyper["lr"]
    bufs = [np.zeros_like(p) for p in params]
    bufs2 = [np.zeros_like(p) for p in params]
    t = [0]

    if name == "SGD":
        def update():
            for p, g in zip(params, grads):
                p -= lr * g
    elif name == "SGD(momentum)":
        momentum = hyper["momentum"]

        def update():
            for p, g, b in zip(params, grads, bufs):
                b *= momentum
                b += g
                p -= lr * b
    elif name == "RMSprop":
        alpha, eps = hyper["alpha"], hyper["eps"]

        def update():
            for p, g, v in zip(params, grads, bufs):
                v *= alpha
                v += (1 - alpha) * g * g
                p -= lr * g / (np.sqrt(v) + eps)
    elif name in ("Adam", "AdamW"):
        (beta1, beta2), eps, wd = hyper["betas"], hyper["eps"], hyper.get("weight_decay", 0)

        def update():
            t[0] += 1
            step_size = lr / (1 - beta1 ** t[0])
            bc2 = math.sqrt(1 - beta2 ** t[0])
            for p, g, m, v in zip(params, grads, bufs, bufs2):
                if wd:
                    p *= 1 - lr * wd
                m *= beta1
                m += (1 - beta1) * g
                v *= beta2
                v += (1 - beta2) * g * g
                p -= step_size * m / (np.sqrt(v) / bc2 + eps)
    elif name == "Adagrad":
        eps = hyper["eps"]

        def update():
            for p, g, s in zip(params, grads, bufs):
                s += g * g
                p -= lr * g / (np.sqrt(s) + eps)
    else:
        raise ValueError(name)
    return update


CASES = [
    ("SGD", optim.SGD, {"lr": 1e-3}),
    ("SGD(momentum)", optim.SGD, {"lr": 1e-3, "momentum": 0.9}),
    ("RMSprop", optim.RMSprop, {"lr": 1e-3, "alpha": 0.99, "eps": 1e-8}),
    ("Adam", optim.Adam, {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8}),
    ("AdamW", optim.AdamW, {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                            "weight_decay": 1e-2}),
    ("Adagrad", optim.Adagrad, {"lr": 1e-2, "eps": 1e-10}),
]


def median_us(fn, repeats: int, number: int) -> float:
    for _ in range(number):  # warm-up
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--number", type=int, default=20)
    args = parser.parse_args()

    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    params = list(model.parameters())
    assert [tuple(p.shape) for p in params] == SHAPES
    rng = np.random.default_rng(0)
    for p in params:
        p.grad = minigrad.tensor(rng.standard_normal(p.shape).astype(np.float32) * 1e-2)
    arrays = [p.detach().numpy().copy() for p in params]
    grads = [p.grad.numpy().copy() for p in params]

    print(f"optimizer step over a 784-128-10 MLP ({sum(a.size for a in arrays)} float32 "
          f"parameters), median of {args.repeats} repeats x {args.number} calls")
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"{platform.machine()}")
    print(f"{'optimizer':<15}{'minigrad step() us':>20}{'NumPy in-place us':>20}{'ratio':>8}")
    for name, cls, hyper in CASES:
        opt = cls(params, **hyper)
        ours = median_us(opt.step, args.repeats, args.number)
        baseline = median_us(numpy_update(name, arrays, grads, hyper), args.repeats,
                             args.number)
        print(f"{name:<15}{ours:>20.1f}{baseline:>20.1f}{ours / baseline:>8.2f}")


if __name__ == "__main__":
    main()
