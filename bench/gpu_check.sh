#!/usr/bin/env bash
# The one script a GPU session runs: device facts, the GPU tests and the CPU
# suite against the same build, compute-sanitizer on the kernels, exact float
# sums on the device against the CPU's check, Ctrl-C during a GPU run, range
# and array rates of every backend (host arrays streamed, arrays in device
# memory per dtype against the memory peak, pinned H2D), the GPU benchmark,
# and one closing table (bench/gpu_summary.py). Everything goes under
# OUT_DIR. Under 6 minutes on an H100/H200.
#
# Build where the headers are (x86-64, one architecture, static CUDA runtime):
#   cmake --preset cuda && cmake --build --preset cuda
# then on the GPU machine: bench/gpu_check.sh build-cuda OUT_DIR
set -uo pipefail
bin=${1:-build}
out=${2:-bench/results/gpu-check}
mkdir -p "$out"
exec > >(tee "$out/gpu-check.log") 2>&1
suites="$out/suites.txt"
: >"$suites"

# Runs a named step with a time limit; records pass/fail for the summary.
step() {
  local name=$1 limit=$2
  shift 2
  echo "== $name"
  local t0=$SECONDS
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  tail -n 5 "$out/$name.log"
  echo "$name $rc $((SECONDS - t0))" >>"$suites"
}

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.memory \
  --format=csv | tee "$out/gpu-info.txt"
echo "cpu cores: $(nproc)" | tee -a "$out/gpu-info.txt"
grep -m1 "model name" /proc/cpuinfo | tee -a "$out/gpu-info.txt"

step gpu-tests 120 "$bin/tests/gpu_tests"
step unit-tests 120 "$bin/tests/unit_tests"
step cli-tests 180 env GPUSUM_EXE="$bin/gpusum" "$bin/tests/cli_tests"
if command -v compute-sanitizer >/dev/null; then
  for tool in memcheck racecheck synccheck; do
    step "sanitizer-$tool" 60 compute-sanitizer --tool "$tool" --error-exitcode 9 \
      "$bin/gpusum" --backend cuda --start -5 --stop 3e6 --step 3
  done
  step sanitizer-array 60 compute-sanitizer --tool memcheck --error-exitcode 9 \
    "$bin/gpusum" --backend cuda --mode array --stop 1e6
fi
# Exact float sums on the GPU (kernels/float_reduce.cuh): the device's digits,
# rounded, must have the bits of the CPU's independent check (exit 0), for one
# scale (2^25 float64, one 256 MiB piece), every scale, and float32; and the
# float kernel under compute-sanitizer.
data=$(mktemp -d)
if python3 -c "import numpy" 2>/dev/null; then
  python3 - "$data" <<'PY'
import sys, numpy as np
d, r = sys.argv[1], np.random.default_rng(1)
np.save(f"{d}/normal.npy", r.standard_normal(1 << 25))
np.save(f"{d}/wide.npy", r.standard_normal(1 << 24) * np.exp2(r.integers(-300, 300, 1 << 24)))
np.save(f"{d}/single.npy", r.standard_normal(1 << 25).astype(np.float32))
np.save(f"{d}/small.npy", np.exp2(r.integers(-60, 60, 1 << 20)) * r.standard_normal(1 << 20))
np.save(f"{d}/ragged.npy", r.integers(-128, 128, (1 << 20) + 13, dtype=np.int8))
PY
  for name in normal wide single; do
    step "float-$name" 60 "$bin/gpusum" --input "$data/$name.npy" --backend cuda --repeat 3 --json
  done
  if command -v compute-sanitizer >/dev/null; then
    for tool in memcheck racecheck synccheck; do
      step "sanitizer-float-$tool" 60 compute-sanitizer --tool "$tool" --error-exitcode 9 \
        "$bin/gpusum" --input "$data/small.npy" --backend cuda
    done
    # 16-byte loads with a head and a tail (the .npy data starts 128 bytes
    # in; the count is odd): no access outside the array.
    step sanitizer-int8-memcheck 60 compute-sanitizer --tool memcheck --error-exitcode 9 \
      "$bin/gpusum" --input "$data/ragged.npy" --backend cuda
  fi
fi
rm -rf "$data"
# Ctrl-C during a long GPU run: exit 130 within a second.
"$bin/gpusum" --backend cuda --stop 9e18 >"$out/interrupt.log" 2>&1 &
pid=$!
sleep 3
t0=$(date +%s.%N)
kill -INT $pid
wait $pid
rc=$?
python3 -c "import sys; d=float(sys.argv[2])-float(sys.argv[1]); print(f'interrupt: exit {sys.argv[3]} after {d:.3f} s'); sys.exit(0 if sys.argv[3]=='130' and d<1 else 1)" \
  "$t0" "$(date +%s.%N)" "$rc" | tee -a "$out/interrupt.log"
echo "interrupt ${PIPESTATUS[0]} 3" >>"$suites"

# Rates, each backend on the same jobs, as JSON for the summary.
for n in 1e9 1e11 1e12; do
  "$bin/gpusum" --compare --stop "$n" --repeat 5 --json >"$out/range-$n.json" 2>>"$out/rates.log"
done
"$bin/gpusum" --compare --mode array --stop 5e8 --repeat 3 --json >"$out/array-5e8.json" 2>>"$out/rates.log"
for b in cuda cub; do  # the int64 array made and summed in device memory
  "$bin/gpusum" --backend "$b" --mode array --stop 4e9 --repeat 5 --json \
    >"$out/device-array-$b.json" 2>>"$out/rates.log"
done
"$bin/gpusum" --backend cuda --start -9223372036854775808 --stop 9223372036854775807 \
  --step 16777216 --json >"$out/range-edges.json" 2>>"$out/rates.log"
"$bin/gpusum" --backend cuda --devices all --stop 1e11 --chunks 4096 --json \
  >"$out/range-devices.json" 2>>"$out/rates.log"
step gpu-bench 200 python3 bench/gpu_bench.py --exe "$bin/gpusum" --out "$out/gpu-bench.json" --repeat 5
if command -v cuobjdump >/dev/null; then
  cuobjdump -sass "$bin/gpusum" | awk '/Function : .*tree_reduce/{p=1} p{print} /\.\.\.\.\.\.\.\.\.\./{if(p)exit}' \
    >"$out/tree_reduce.sass"
fi
python3 bench/gpu_summary.py "$out"
