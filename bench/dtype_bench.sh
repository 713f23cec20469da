#!/usr/bin/env bash
# Every dtype's verified answer against the machine's read bandwidth, in one
# run: for each type, gpusum's sum pass alone, its independent check, and the
# verified answer (bytes over the run plus the check: what a caller waits
# for), beside the plain read probe over the same bytes, alternating, median
# of the repetitions. Prints one table; writes
# bench/results/<machine>-dtypes.json.
#   bench/dtype_bench.sh [BYTES_AS_INT64 [REPEAT]]   default 2^28 (2 GiB), 5
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-268435456}
repeat=${2:-5}
cmake --preset default >/dev/null
cmake --build --preset default --target gpusum_array_bandwidth >/dev/null
tag=$(grep -m1 "model name" /proc/cpuinfo | sed 's/.*: //; s/[^A-Za-z0-9]\+/-/g; s/-$//' | tr 'A-Z' 'a-z')-$(nproc)cpu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
types=(int8 bool uint8 int16 int32 int64 float16 float32 float64 float64-wide)
for t in "${types[@]}"; do
  build/gpusum_array_bandwidth --elements "$n" --repeat "$repeat" --data "$t" \
    --json "$tmp/$t.json" >/dev/null
done
python3 - "$tmp" "bench/results/$tag-dtypes.json" "${types[@]}" <<'PY'
import json, sys
tmp, out, types = sys.argv[1], sys.argv[2], sys.argv[3:]
runs = [json.load(open(f"{tmp}/{t}.json")) for t in types]
print(f"{runs[0]['bytes'] / 2**30:.0f} GiB per type, {runs[0]['workers']} workers, "
      f"{runs[0]['cpu_simd']}, median of {runs[0]['repeat']}")
print(f"  {'dtype':13} {'sum pass':>10} {'check':>8} {'verified':>10} {'probe':>10} {'verified/probe':>15}")
for r in runs:
    print(f"  {r['data']:13} {r['gpusum_gb_per_s']:6.1f} GB/s {r['check_seconds']:6.3f} s "
          f"{r['verified_gb_per_s']:6.1f} GB/s {r['probe_gb_per_s']:6.1f} GB/s "
          f"{100 * r['verified_ratio']:14.0f}%")
json.dump({"benchmark": "verified array sums per dtype", "runs": runs}, open(out, "w"), indent=1)
print(f"wrote {out}")
PY
