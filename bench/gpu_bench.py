#!/usr/bin/env python3
"""GPU benchmark: cuda (ours), cub and thrust on range(0, N) for N = 2^20 .. 2^34.

For each backend and N it runs `gpusum --backend B --stop N --repeat R --json`
and records the device time of the reduction (`seconds.compute`, CUDA events),
the in-process total, and the end-to-end wall time of one whole command
(process start and CUDA context creation included). The CPU `threads` backend
runs beside it, so the GPU/CPU crossover of this machine is in the same file.

Usage: bench/gpu_bench.py --exe build/gpusum --out bench/results/gpu-NAME.json
"""
import argparse
import json
import platform
import subprocess
import time


def run(exe, args):
    t0 = time.perf_counter()
    proc = subprocess.run([exe, *args, "--json"], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{exe} {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
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
            rep, _ = run(opts.exe, ["--backend", backend, "--stop", str(n), "--repeat", str(opts.repeat)])
            once, wall = run(opts.exe, ["--backend", backend, "--stop", str(n)])
            assert rep["verified"] and once["verified"], (backend, n)
            device = device or rep["details"].get("device")
            rows.append({
                "backend": backend,
                "n": n,
                "repetitions": opts.repeat,
                "compute_seconds": rep["seconds"]["compute"],
                "total_seconds": {k: rep["repeat"][k] for k in ("min", "median", "max")},
                "elements_per_second_compute": n / rep["seconds"]["compute"],
                "end_to_end_seconds": wall,
                "workers": rep["workers"],
                "details": rep["details"],
            })
            print(f"{backend:8s} 2^{exp:<3d} compute {rep['seconds']['compute']*1e3:10.4f} ms"
                  f"  {n / rep['seconds']['compute']:10.3e} el/s"
                  f"  total(median) {rep['repeat']['median']*1e3:9.3f} ms"
                  f"  end-to-end {wall*1e3:8.1f} ms", flush=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    result = {
        "benchmark": "gpu range sum",
        "device": device,
        "host": platform.node(),
        "cpu_cores": __import__("os").cpu_count(),
        "commit": commit or None,
        "command": f"bench/gpu_bench.py --exe {opts.exe} --repeat {opts.repeat}",
        "rows": rows,
    }
    with open(opts.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
