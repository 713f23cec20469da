#!/usr/bin/env python3
"""gpusum against its peers, on this machine, in one run.

Runs, side by side: the seed's two Python programs (bench/peers/seed_*.py),
NumPy, the native C++ baselines (OpenMP reduction, std::reduce par_unseq),
every gpusum backend available (range and array mode), and the machine's
bounds (integer-add ALU rate, memory read bandwidth). Writes one JSON file
with every measurement and prints the headline ratios.

Usage: bench.py --build DIR --out FILE [--quick]
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_json_lines(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip().startswith("{")]


def run_json(cmd):
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def stats(times):
    s = sorted(times)
    return {"min": s[0], "median": s[len(s) // 2], "max": s[-1]}


def row(name, kind, mode, n, repetitions, seconds, **extra):
    r = {
        "name": name,
        "kind": kind,
        "mode": mode,
        "n": n,
        "repetitions": repetitions,
        "seconds": seconds,
        "elements_per_second": n / seconds["median"] if seconds["median"] else None,
    }
    r.update(extra)
    return r


def python_seconds(script, n, *args):
    out = subprocess.run(
        [sys.executable, os.path.join(HERE, "peers", script), str(n), *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    fields = dict(kv.split("=") for kv in out.split())
    assert int(fields["sum"]) == n * (n - 1) // 2, out
    return float(fields["seconds"])


NUMPY_SNIPPET = r"""
import json, sys, time
import numpy as np
mode, n, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
times = []
arr = np.arange(n, dtype=np.int64) if mode == "array" else None
for _ in range(repeat):
    t0 = time.perf_counter()
    s = int(arr.sum()) if mode == "array" else int(np.arange(n, dtype=np.int64).sum())
    times.append(time.perf_counter() - t0)
    assert s == n * (n - 1) // 2
print(json.dumps({"times": times, "numpy": np.__version__}))
"""


def machine(build):
    info = {"platform": platform.platform(), "cores": os.cpu_count()}
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            cache = dict(
                line.strip().split("=", 1)
                for line in f
                if "=" in line and not line.startswith(("#", "//"))
            )
        build_type = cache.get("CMAKE_BUILD_TYPE:STRING", "")
        info["build_type"] = build_type
        info["flags"] = (
            cache.get("CMAKE_CXX_FLAGS:STRING", "")
            + " "
            + cache.get(f"CMAKE_CXX_FLAGS_{build_type.upper()}:STRING", "")
        ).strip()
    except OSError:
        pass
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        info["memory_kib"] = int(f.readline().split()[1])
    try:
        info["gpu"] = (
            subprocess.run(
                ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.CalledProcessError):
        info["gpu"] = None
    info["compiler"] = subprocess.run(
        ["c++", "--version"], capture_output=True, text=True
    ).stdout.splitlines()[0]
    info["commit"] = (
        subprocess.run(
            ["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        or None
    )
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", required=True)
    ap.add_argument(
        "--quick", action="store_true", help="tiny sizes, one repetition: checks the pipeline"
    )
    opts = ap.parse_args()
    exe = lambda name: os.path.join(opts.build, name)  # noqa: E731

    if opts.quick:
        sizes, array_sizes, repeat = [10**5, 10**6], [10**5, 10**6], 1
        pool_sizes, python_serial_n, probe_elements = [10**5], 10**5, 10**6
    else:
        sizes, array_sizes, repeat = (
            [10**6, 10**7, 10**8, 10**9],
            [10**6, 10**7, 10**8, 5 * 10**8],
            11,
        )
        pool_sizes, python_serial_n, probe_elements = [10**7, 10**8, 10**9], 10**7, 2**28

    result = {
        "benchmark": "gpusum vs peers",
        "quick": opts.quick,
        "machine": machine(opts.build),
        "rows": [],
    }
    rows = result["rows"]
    log = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731

    log("bounds ...")
    result["bounds"] = run_json(
        [exe("gpusum_bounds"), "--elements", str(probe_elements), "--repeat", str(max(repeat, 3))]
    )

    for mode, ns in (("range", sizes), ("array", array_sizes)):
        for n in ns:
            log(f"gpusum {mode} n={n} ...")
            args = [exe("gpusum"), "--compare", "--json", "--repeat", str(repeat), "--stop", str(n)]
            if mode == "array":
                args += ["--mode", "array"]
            c = run_json(args)
            for r in c["runs"]:
                assert r["verified"], r
                rows.append(
                    row(
                        "gpusum " + r["backend"],
                        "gpusum",
                        mode,
                        n,
                        repeat,
                        {k: r["repeat"][k] for k in ("min", "median", "max")},
                        compute_seconds=r["seconds"]["compute"],
                        workers=r["workers"],
                    )
                )
            if os.path.exists(exe("gpusum_native_peers")):
                for p in run_json_lines([exe("gpusum_native_peers"), mode, str(n), str(repeat)]):
                    rows.append(
                        row(
                            p["peer"],
                            "native",
                            mode,
                            n,
                            repeat,
                            {k: p[k] for k in ("min", "median", "max")},
                        )
                    )
            log(f"numpy {mode} n={n} ...")
            out = json.loads(
                subprocess.run(
                    [sys.executable, "-c", NUMPY_SNIPPET, mode, str(n), str(repeat)],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            )
            rows.append(
                row("numpy", "numpy", mode, n, repeat, stats(out["times"]), numpy=out["numpy"])
            )

    log("seed programs ...")
    t = python_seconds("seed_serial.py", python_serial_n)
    for n in sizes:
        scaled = n != python_serial_n
        rows.append(
            row(
                "python sum(range)",
                "seed",
                "range",
                n,
                1,
                stats([t * n / python_serial_n]),
                measured_n=python_serial_n,
                scaled=scaled,
            )
        )
    for n in pool_sizes:
        t = python_seconds("seed_pool.py", n, "100", "20")
        rows.append(
            row(
                "python ProcessPoolExecutor",
                "seed",
                "range",
                n,
                1,
                stats([t]),
                measured_n=n,
                scaled=False,
            )
        )

    # NumPy's int64 sum wraps silently; gpusum stays exact on the same data.
    log("overflow case ...")
    code = (
        "import numpy as np, sys; a = np.full(4, 2**62, dtype=np.int64); np.save(sys.argv[1], a); "
        "print(int(a.sum()))"
    )
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "overflow.npy")
        numpy_sum = subprocess.run(
            [sys.executable, "-c", code, path], check=True, capture_output=True, text=True
        ).stdout.strip()
        exact = run_json([exe("gpusum"), "--input", path, "--json"])
    result["overflow_case"] = {
        "data": "np.full(4, 2**62, dtype=np.int64)",
        "true_sum": str(2**64),
        "numpy_sum": numpy_sum,
        "gpusum_sum": exact["sum"],
        "gpusum_verified": exact["verified"],
    }

    os.makedirs(os.path.dirname(os.path.abspath(opts.out)), exist_ok=True)
    with open(opts.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    log(f"wrote {opts.out}")
    print_headlines(result)


def best(rows, mode, n, kind=None, name=None):
    cands = [
        r
        for r in rows
        if r["mode"] == mode
        and r["n"] == n
        and (kind is None or r["kind"] == kind)
        and (name is None or r["name"] == name)
    ]
    return min(cands, key=lambda r: r["seconds"]["median"]) if cands else None


def print_headlines(result):
    rows = result["rows"]
    n = max(r["n"] for r in rows if r["mode"] == "range" and r["kind"] == "gpusum")
    na = max(r["n"] for r in rows if r["mode"] == "array" and r["kind"] == "gpusum")
    g, ga = best(rows, "range", n, "gpusum"), best(rows, "array", na, "gpusum")
    b = result["bounds"]
    lines = [
        f"range(0, {n}): best gpusum backend {g['name']} {g['seconds']['median'] * 1e3:.2f} ms"
    ]
    for name in (
        "python ProcessPoolExecutor",
        "python sum(range)",
        "numpy",
        "openmp",
        "std_reduce_par_unseq",
    ):
        p = best(rows, "range", n, name=name)
        if p:
            note = f" (scaled from n={p['measured_n']})" if p.get("scaled") else ""
            lines.append(
                f"  vs {name}: {p['seconds']['median'] / g['seconds']['median']:.1f}x faster{note}"
            )
    lines.append(
        "  fraction of the ALU bound: "
        f"{g['elements_per_second'] / b['range_bound_elements_per_second']:.0%}"
    )
    lines.append(
        f"array of {na} int64: best gpusum backend {ga['name']} "
        f"{ga['seconds']['median'] * 1e3:.2f} ms"
    )
    for name in ("numpy", "openmp", "std_reduce_par_unseq"):
        p = best(rows, "array", na, name=name)
        if p:
            lines.append(f"  vs {name}: {p['seconds']['median'] / ga['seconds']['median']:.2f}x")
    lines.append(
        f"  fraction of the read bandwidth: "
        f"{ga['elements_per_second'] / b['array_bound_elements_per_second']:.0%}"
    )
    o = result["overflow_case"]
    lines.append(
        f"overflow case {o['data']}: numpy {o['numpy_sum']}, "
        f"gpusum {o['gpusum_sum']} (true {o['true_sum']})"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
