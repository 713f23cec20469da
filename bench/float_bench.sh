#!/usr/bin/env bash
# Exact float sums against the machine's read bandwidth and against NumPy's
# (inexact) sum and Python's math.fsum (exact, the reference for the answer),
# side by side on this machine. Prints one table; writes
# bench/results/<machine>-float.json.
#   bench/float_bench.sh [ELEMENTS]     default 2^28 float64 (2 GiB)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-268435456}
cmake -S . -B build-cpu -G Ninja -DGPUSUM_CUDA=OFF >/dev/null
cmake --build build-cpu --target gpusum_array_bandwidth >/dev/null
[ -x bench/.venv/bin/python ] || python3 -m venv bench/.venv
bench/.venv/bin/python -m pip install -q --disable-pip-version-check numpy
tag=$(grep -m1 "model name" /proc/cpuinfo | sed 's/.*: //; s/[^A-Za-z0-9]\+/-/g; s/-$//' | tr 'A-Z' 'a-z')-$(nproc)cpu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for data in int64 float64 float64-wide; do
  build-cpu/gpusum_array_bandwidth --elements "$n" --repeat 7 --data "$data" --json "$tmp/$data.json" >/dev/null
done
bench/.venv/bin/python - "$n" "$tmp" "bench/results/$tag-float.json" <<'PY'
import json, math, statistics, sys, time
import numpy as np
n, tmp, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
runs = {d: json.load(open(f"{tmp}/{d}.json")) for d in ("int64", "float64", "float64-wide")}
x = np.random.default_rng(1).uniform(-1, 1, n)
def timed(f, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter(); f(); times.append(time.perf_counter() - t)
    return statistics.median(times)
numpy_s = timed(lambda: x.sum(), 5)
m = min(n, 1 << 24)  # math.fsum is slow: timed on a slice, scaled per byte
small = x[:m].tolist()
fsum_s = timed(lambda: math.fsum(small), 3) * n / m
gb = n * 8 / 1e9
probe = runs["float64"]["probe_gb_per_s"]
rows = [("read probe (int64, plain adds)", probe, "-"),
        ("gpusum threads, int64 (exact)", runs["int64"]["gpusum_gb_per_s"], "exact"),
        ("gpusum threads, float64 uniform (exact)", runs["float64"]["gpusum_gb_per_s"], "exactly rounded"),
        ("gpusum threads, float64 over 2^+-60 (exact)", runs["float64-wide"]["gpusum_gb_per_s"], "exactly rounded"),
        ("NumPy sum, float64 (one core, pairwise)", gb / numpy_s, "rounding error"),
        (f"math.fsum, float64 (one core; timed on {m} elements)", gb / fsum_s, "exactly rounded")]
print(f"{n} float64 elements ({gb:.2f} GB), {runs['float64']['workers']} workers")
for name, gbs, answer in rows:
    print(f"  {name:55s} {gbs:7.2f} GB/s  {100 * gbs / probe:5.0f}% of the probe  ({answer})")
json.dump({"benchmark": "exact float sums", "elements": n, "runs": runs,
           "numpy_sum_gb_per_s": gb / numpy_s, "math_fsum_gb_per_s": gb / fsum_s,
           "fsum_timed_elements": m}, open(out, "w"), indent=1)
print(f"wrote {out}")
PY
