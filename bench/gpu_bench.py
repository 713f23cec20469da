#!/usr/bin/env python3
"""GPU benchmark: each result against the bound it is up against.

- Ranges: cuda (ours), cub and thrust on range(0, N) for N = 2^20 .. 2^34,
  `gpusum --backend B --stop N --repeat R --json`: the device time of the
  reduction (`seconds.compute`, CUDA events), elements/s, and that rate as a
  share of the integer-pipe bound (SMs x clock x 64 lanes / 2 operations per
  element: the floor of kernels/tree_plan.hpp's loop); the in-process total
  and one whole command's wall time too. The CPU `threads` backend runs
  beside it, so the GPU/CPU crossover of this machine is in the same file.
- Arrays in device memory, every dtype, cuda and cub: GB/s and the share of
  the memory peak (build/gpusum_device_bandwidth), with pinned H2D.
- Host arrays streamed (`--compare --mode array`): end-to-end GB/s against
  that pinned H2D rate.

Usage: bench/gpu_bench.py --exe build/gpusum --out bench/results/gpu-NAME.json
"""

import argparse
import json
import pathlib
import platform
import subprocess
import time

INT32_LANES_PER_SM = 64  # sm_70 .. sm_90: 4 partitions x 16 INT32 lanes
OPS_PER_ELEMENT = 2  # one 64-bit three-input add (IADD3 + IADD3.X)


def run(exe, args):
    t0 = time.perf_counter()
    proc = subprocess.run([exe, *args, "--json"], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(
            f"{exe} {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}"
        )
    return json.loads(proc.stdout), wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exe", default="build/gpusum")
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--min-exp", type=int, default=20)
    ap.add_argument("--max-exp", type=int, default=34)
    opts = ap.parse_args()

    rows = []
    device = None
    for exp in range(opts.min_exp, opts.max_exp + 1, 2):
        n = 2**exp
        for backend in ("cuda", "cub", "thrust", "threads"):
            rep, _ = run(
                opts.exe, ["--backend", backend, "--stop", str(n), "--repeat", str(opts.repeat)]
            )
            once, wall = run(opts.exe, ["--backend", backend, "--stop", str(n)])
            assert rep["verified"] and once["verified"], (backend, n)
            device = device or rep["details"].get("device")
            rate = n / rep["seconds"]["compute"]
            bound = None
            if backend != "threads" and "sms" in rep["details"]:
                bound = (
                    int(rep["details"]["sms"])
                    * int(rep["details"]["clock_mhz"])
                    * 1e6
                    * INT32_LANES_PER_SM
                    / OPS_PER_ELEMENT
                )
            rows.append(
                {
                    "backend": backend,
                    "n": n,
                    "repetitions": opts.repeat,
                    "compute_seconds": rep["seconds"]["compute"],
                    "total_seconds": {k: rep["repeat"][k] for k in ("min", "median", "max")},
                    "elements_per_second_compute": rate,
                    "integer_pipe_bound": bound,
                    "of_integer_pipe_bound": rate / bound if bound else None,
                    "end_to_end_seconds": wall,
                    "workers": rep["workers"],
                    "details": rep["details"],
                }
            )
            print(
                f"{backend:8s} 2^{exp:<3d} compute {rep['seconds']['compute'] * 1e3:10.4f} ms"
                f"  {rate:10.3e} el/s"
                + (f" ({100 * rate / bound:5.1f}% of int bound)" if bound else "")
                + f"  total(median) {rep['repeat']['median'] * 1e3:9.3f} ms"
                f"  end-to-end {wall * 1e3:8.1f} ms",
                flush=True,
            )
    device_arrays = None
    probe = pathlib.Path(opts.exe).with_name("gpusum_device_bandwidth")
    if probe.exists():
        proc = subprocess.run(
            [str(probe), "--repeat", str(opts.repeat)], capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise SystemExit(f"{probe} failed ({proc.returncode}): {proc.stderr.strip()}")
        device_arrays = json.loads(proc.stdout)
        for r in device_arrays["rows"]:
            print(
                f"device array {r['backend']:5s} {r['dtype']:8s} {r['gb_per_s']:8.1f} GB/s"
                f"  {100 * r['of_memory_peak']:5.1f}% of {device_arrays['memory_peak_gb_per_s']}"
                " GB/s",
                flush=True,
            )
    streamed = []
    compare, _ = run(opts.exe, ["--compare", "--mode", "array", "--stop", "2e9", "--repeat", "3"])
    for r in compare["runs"]:
        if r["backend"] in ("cuda", "cub"):
            assert r["verified"], r["backend"]
            streamed.append(
                {
                    "backend": r["backend"],
                    "details": r["details"],
                    "of_pinned_h2d": (
                        r["bytes_per_second"] / 1e9 / device_arrays["pinned_h2d_gb_per_s"]
                    )
                    if device_arrays
                    else None,
                }
            )
            print(
                f"streamed     {r['backend']:5s} {r['bytes_per_second'] / 1e9:8.1f} GB/s end to end"
                f" (h2d {r['details'].get('h2d_gb_per_s')} GB/s)",
                flush=True,
            )
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    result = {
        "benchmark": "gpu range sum",
        "device": device,
        "host": platform.node(),
        "cpu_cores": __import__("os").cpu_count(),
        "commit": commit or None,
        "command": f"bench/gpu_bench.py --exe {opts.exe} --repeat {opts.repeat}",
        "rows": rows,
        "device_arrays": device_arrays,
        "streamed_host_arrays": streamed,
    }
    with open(opts.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
