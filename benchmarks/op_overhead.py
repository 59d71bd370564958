"""Per-op overhead of the autograd core: forward + backward of ``x * 1.0001`` on 16 elements.

    python benchmarks/op_overhead.py [--repeats 30] [--number 2000] [--frameworks minigrad,torch]

The arithmetic on 16 elements costs a few hundred nanoseconds, so the time measured is
almost all framework overhead: building the graph node, wrapping arrays, and running the
engine.  Each repeat times ``number`` steps of ``x.grad = None; (x * 1.0001).sum().backward()``
and also ``x * 1.0001`` alone; reported are the median and the spread (min..max) over
repeats, in microseconds per step.  PyTorch is timed side by side when it is installed,
with the same thread count.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import statistics
import time


def measure(module_name: str, repeats: int, number: int) -> dict:
    fw = importlib.import_module(module_name)
    if module_name == "torch":
        fw.set_num_threads(1)
    x = fw.ones(16, requires_grad=True)

    def step():
        x.grad = None
        (x * 1.0001).sum().backward()

    def forward_only():
        x * 1.0001

    results = {}
    for name, fn in (("forward+backward", step), ("forward", forward_only)):
        for _ in range(number // 10):  # warm-up
            fn()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            times.append((time.perf_counter() - start) / number * 1e6)
        results[name] = {
            "median_us": statistics.median(times),
            "min_us": min(times),
            "max_us": max(times),
        }
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--frameworks", default="minigrad,torch")
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args()

    report = {"machine": platform.platform(), "python": platform.python_version(), "results": {}}
    for name in args.frameworks.split(","):
        try:
            report["results"][name] = measure(name, args.repeats, args.number)
        except ImportError:
            print(f"{name}: not installed, skipped")
    base = report["results"].get("torch", {}).get("forward+backward", {}).get("median_us")
    for name, result in report["results"].items():
        for what, r in result.items():
            ratio = ""
            if base and what == "forward+backward":
                ratio = f"  ({r['median_us'] / base:.2f}x torch)"
            print(f"{name:9s} {what:17s} median {r['median_us']:7.2f} us  "
                  f"[{r['min_us']:.2f} .. {r['max_us']:.2f}]{ratio}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
