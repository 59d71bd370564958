"""``Conv2d(32, 64, 3)`` on a (64, 32, 26, 26) float32 input: forward, forward+backward, and
where the time goes (im2col, GEMM, col2im).

    python benchmarks/conv2d.py [--repeats 10] [--warmup 2] [--batch 64] [--out results.json]

Each measurement runs ``warmup`` untimed calls, then ``repeats`` timed ones; reported are the
median and the spread (min..max) in milliseconds.  The split times the backend primitives
alone on the same shapes as the layer uses them: ``im2col`` of the input, the forward GEMM
``W (64, 288) @ cols (288, N*576)``, the two backward GEMMs (weight gradient
``(cols @ G^T)^T``, G (64, N*576) and input-gradient columns ``W^T @ G``) and ``col2im`` of those
columns.  What the layer costs beyond their sum is layout copies (NCHW <-> GEMM order),
the bias and the autograd bookkeeping.  PyTorch is timed side by side when it is installed.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import numpy as np


def timed(fn, repeats: int, warmup: int) -> dict:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return {"median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times)}


def measure_minigrad(batch: int, repeats: int, warmup: int) -> dict:
    import minigrad as mg
    from minigrad import nn
    from minigrad.backend import cpu

    mg.manual_seed(0)
    conv = nn.Conv2d(32, 64, 3)
    x_data = np.random.default_rng(0).standard_normal((batch, 32, 26, 26)).astype(np.float32)
    x = mg.tensor(x_data, requires_grad=True)  # a layer inside a network: input grad needed

    def forward():
        conv(x)

    def inference():
        with mg.no_grad():
            conv(x)

    def forward_backward():
        x.grad = None
        conv.zero_grad()
        conv(x).sum().backward()

    results = {
        "forward (inference, no_grad)": timed(inference, repeats, warmup),
        "forward (training)": timed(forward, repeats, warmup),
        "forward+backward": timed(forward_backward, repeats, warmup),
    }

    k, s, p, r = (3, 3), (1, 1), ((0, 0), (0, 0)), (1, 1)
    w = conv.weight.detach().numpy().reshape(64, -1)
    cols = cpu.im2col(x_data, k, s, p, r)
    y = w @ cols
    g = np.ones_like(y)
    grad_cols = w.T @ g
    results["im2col"] = timed(lambda: cpu.im2col(x_data, k, s, p, r), repeats, warmup)
    results["GEMM forward"] = timed(lambda: w @ cols, repeats, warmup)
    results["GEMM weight grad"] = timed(lambda: (cols @ g.T).T, repeats, warmup)
    results["GEMM input grad"] = timed(lambda: w.T @ g, repeats, warmup)
    results["col2im"] = timed(lambda: cpu.col2im(grad_cols, x_data.shape, k, s, p, r),
                              repeats, warmup)
    return results


def measure_torch(batch: int, repeats: int, warmup: int) -> dict | None:
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(32, 64, 3)
    x = torch.randn(batch, 32, 26, 26, requires_grad=True)

    def inference():
        with torch.no_grad():
            conv(x)

    def forward_backward():
        x.grad = None
        conv.zero_grad()
        conv(x).sum().backward()

    return {
        "forward (inference, no_grad)": timed(inference, repeats, warmup),
        "forward (training)": timed(lambda: conv(x), repeats, warmup),
        "forward+backward": timed(forward_backward, repeats, warmup),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args()

    ours = measure_minigrad(args.batch, args.repeats, args.warmup)
    theirs = measure_torch(args.batch, args.repeats, args.warmup)
    machine = platform.processor() or platform.machine()
    print(f"Conv2d(32, 64, 3) on ({args.batch}, 32, 26, 26) float32; {args.repeats} repeats "
          f"after {args.warmup} warm-up; {machine}, NumPy {np.__version__}")
    header = f"{'':32} {'minigrad median':>16} {'(min..max)':>18}"
    if theirs:
        header += f" {'torch median':>13}"
    print(header)
    for name, t in ours.items():
        spread = f"({t['min_ms']:.2f}..{t['max_ms']:.2f})"
        line = f"{name:32} {t['median_ms']:13.2f} ms {spread:>18}"
        if theirs and name in theirs:
            line += f" {theirs[name]['median_ms']:10.2f} ms"
        print(line)
    fwd_parts = ours["im2col"]["median_ms"] + ours["GEMM forward"]["median_ms"]
    bwd_parts = (ours["GEMM weight grad"]["median_ms"] + ours["GEMM input grad"]["median_ms"]
                 + ours["col2im"]["median_ms"])
    total = ours["forward+backward"]["median_ms"]
    gemms = sum(ours[name]["median_ms"]
                for name in ("GEMM forward", "GEMM weight grad", "GEMM input grad"))
    print(f"split of forward+backward ({total:.1f} ms): im2col "
          f"{ours['im2col']['median_ms']:.1f}, GEMMs {gemms:.1f}, "
          f"col2im {ours['col2im']['median_ms']:.1f}, other (layout copies, bias, autograd) "
          f"{total - fwd_parts - bwd_parts:.1f} ms")
    if theirs is None:
        print("(PyTorch is not installed: no side-by-side column)")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"minigrad": ours, "torch": theirs, "batch": args.batch}, f, indent=2)


if __name__ == "__main__":
    main()
