#!/usr/bin/env python3
"""The Python view: gpusum.sum against numpy.sum, the built-in sum and
math.fsum on the same data, in one run, and gpusum.sum(range(10**9))
against the gpusum command on the same job; then a sweep over sizes (10 to
1e8 elements) of int64 and float64 against numpy.sum, math.fsum and xsum
(Neal's exact superaccumulator, PyPI xsum, when installed). Median of
--repeat runs each; small calls are timed in loops.

Usage (after pip install . in a venv with numpy, and xsum for its rows):
    python bench/python_bench.py [--elements N] [--repeat R] [--json FILE]
"""

import argparse
import functools
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

import gpusum
import numpy as np


def median_seconds(f, repeat):
    f()  # warm: page faults, worker start, caches
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def per_call_seconds(f, elements, repeat):
    """Median seconds of one call, timed in loops of about 1e6 elements."""
    loops = max(1, 10**6 // max(elements, 1))
    f()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(loops):
            f()
        times.append((time.perf_counter() - t) / loops)
    return statistics.median(times)


def xsum_of(xsum, values):
    """The exact sum by xsum's large superaccumulator."""
    acc = xsum.xsum_large_accumulator()
    xsum.xsum_add(acc, values)
    return xsum.xsum_round(acc)


def sweep(sizes, repeat):
    """gpusum.sum per size against its peers: one row per (data, size, tool)."""
    try:
        import xsum
    except ImportError:
        xsum = None
    rng = np.random.default_rng(2)
    rows = []
    for n in sizes:
        ints = rng.integers(-(2**40), 2**40, n, dtype=np.int64)
        reals = rng.standard_normal(n)
        tools = [
            ("int64", "gpusum.sum", functools.partial(gpusum.sum, ints)),
            ("int64", "numpy.sum", ints.sum),
            ("float64", "gpusum.sum", functools.partial(gpusum.sum, reals)),
            ("float64", "numpy.sum", reals.sum),
        ]
        if n <= 10**7:
            tools.append(("float64", "math.fsum", functools.partial(math.fsum, reals)))
        if xsum is not None:
            assert xsum_of(xsum, reals) == gpusum.sum(reals)
            tools.append(
                ("float64", "xsum (large accumulator)", functools.partial(xsum_of, xsum, reals))
            )
        for data, tool, f in tools:
            seconds = per_call_seconds(f, n, repeat)
            rows.append({"data": data, "elements": n, "tool": tool, "seconds": seconds})
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--elements", type=int, default=10**8)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--json")
    args = p.parse_args()
    n, repeat = args.elements, args.repeat
    rng = np.random.default_rng(1)
    ints = rng.integers(-(2**40), 2**40, n, dtype=np.int64)
    floats = rng.standard_normal(n)
    small = max(n // 100, 1)  # the built-in sum and fsum are timed on a slice, per element
    rows = []

    def row(data, tool, seconds, elements):
        rows.append(
            {
                "data": data,
                "tool": tool,
                "seconds": seconds,
                "elements": elements,
                "elements_per_second": elements / seconds,
            }
        )

    row("int64 array", "gpusum.sum", median_seconds(lambda: gpusum.sum(ints), repeat), n)
    passes = [gpusum.run(ints).seconds for _ in range(repeat)]
    row(
        "int64 array",
        "gpusum: its sum pass alone (no check)",
        statistics.median(p["total"] for p in passes),
        n,
    )
    row(
        "int64 array", "numpy.sum (wraps past int64)", median_seconds(lambda: ints.sum(), repeat), n
    )
    ints_list = ints[:small].tolist()
    row(
        "int64 array",
        "built-in sum (of a list)",
        median_seconds(lambda: sum(ints_list), repeat),
        small,
    )
    gaps = ints[::2]
    row("int64 a[::2]", "gpusum.sum", median_seconds(lambda: gpusum.sum(gaps), repeat), gaps.size)
    row("int64 a[::2]", "numpy.sum", median_seconds(lambda: gaps.sum(), repeat), gaps.size)
    swapped = ints.astype(">i8")
    row("int64 big-endian", "gpusum.sum", median_seconds(lambda: gpusum.sum(swapped), repeat), n)
    row("int64 big-endian", "numpy.sum", median_seconds(lambda: swapped.sum(), repeat), n)
    swapped = None  # the copy freed before the next one
    halves = floats.astype(np.float16)
    row("float16 array", "gpusum.sum", median_seconds(lambda: gpusum.sum(halves), repeat), n)
    row(
        "float16 array",
        "numpy.sum (float16 answer, rounded)",
        median_seconds(lambda: halves.sum(), repeat),
        n,
    )
    halves = None
    row("float64 array", "gpusum.sum", median_seconds(lambda: gpusum.sum(floats), repeat), n)
    row(
        "float64 array",
        "numpy.sum (pairwise, rounded)",
        median_seconds(lambda: floats.sum(), repeat),
        n,
    )
    floats_list = floats[:small].tolist()
    row(
        "float64 array",
        "math.fsum (of a list)",
        median_seconds(lambda: math.fsum(floats_list), repeat),
        small,
    )
    row(
        "range(10**9)",
        "gpusum.sum",
        median_seconds(lambda: gpusum.sum(range(10**9)), repeat),
        10**9,
    )
    command = shutil.which("gpusum", path=os.path.dirname(sys.executable))
    cli = median_seconds(
        lambda: subprocess.run([command, "--sum-only"], check=True, capture_output=True), repeat
    )
    row("range(10**9)", "gpusum command (whole process)", cli, 10**9)
    checked = gpusum.run(ints)
    ints = floats = ints_list = floats_list = gaps = None  # memory for the sweep
    sizes = [10, 10**3, 10**5, 10**7, 10**8]
    sweep_rows = sweep([s for s in sizes if s <= n], repeat)
    result = {
        "machine": platform.node(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "gpusum": gpusum.__version__,
        "elements": n,
        "repeat": repeat,
        "rows": rows,
        "sweep": sweep_rows,
        "gpusum_int64_phases": checked.seconds,
        "gpusum_int64_backend": checked.backend,
    }
    for r in rows:
        print(
            f"{r['data']:14} {r['tool']:34} {r['seconds'] * 1e3:10.2f} ms "
            f"{r['elements_per_second'] / 1e9:8.3f} G el/s"
        )
    print(f"{'data':8} {'elements':>10} {'tool':26} {'per call':>12} {'vs gpusum.sum':>14}")
    for r in sweep_rows:
        base = next(
            s["seconds"]
            for s in sweep_rows
            if s["data"] == r["data"]
            and s["elements"] == r["elements"]
            and s["tool"] == "gpusum.sum"
        )
        print(
            f"{r['data']:8} {r['elements']:>10} {r['tool']:26} {r['seconds'] * 1e6:9.2f} us "
            f"{r['seconds'] / base:13.2f}x"
        )
    print(
        "gpusum.sum on the int64 array, phases:",
        {k: round(v * 1e3, 2) for k, v in checked.seconds.items()},
        "ms",
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
