#!/usr/bin/env bash
# The first GPU run, in five minutes: what a GPU can settle, most valuable
# first, each step under its own time limit, the summary table rewritten
# after every step (OUT_DIR/summary.txt), so a run cut short still reports
# what it reached. No CPU-only suite runs here: CI runs those.
#
#   bench/gpu_check.sh BUILD_DIR OUT_DIR            on a GPU machine
#   bench/gpu_check.sh BUILD_DIR OUT_DIR --dry-run  anywhere: every step's plan
#     runs, and each GPU step must report "skipped: no GPU" (CI does this)
#
# BUILD_DIR is the folder scripts/gpu_bundle.sh makes (sm_90, tests on, only
# what runs on the GPU machine, with the wheels to build the Python module
# offline). The modelled time of each step on an H100 is the third field
# of its line below (docs/gpu-verification.md, "The first GPU run").
set -uo pipefail
bin=${1:?usage: bench/gpu_check.sh BUILD_DIR OUT_DIR [--dry-run]}
out=${2:?usage: bench/gpu_check.sh BUILD_DIR OUT_DIR [--dry-run]}
dry=false
[ "${3:-}" = "--dry-run" ] && dry=true
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
bin=$(cd "$bin" && pwd)
exec > >(tee "$out/gpu-check.log") 2>&1
suites="$out/suites.txt"
: >"$suites"
started=$SECONDS
python=${PYTHON:-python3}  # needs numpy

summary() { "$python" "$here/bench/gpu_summary.py" "$out" >"$out/summary.txt" 2>&1; }

# step NAME LIMIT_S MODEL_S COMMAND...: runs COMMAND under its limit and
# records one of passed, FAILED, timed-out, skipped (no GPU: exit 77 from
# a test program, exit 3 from gpusum during a dry run; a missing tool).
step() {
  local name=$1 limit=$2 model=$3
  shift 3
  local t0=$SECONDS status
  echo "== $name (limit ${limit} s, model ${model} s)"
  timeout --kill-after=5 "$limit" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  if [ $rc -eq 0 ]; then
    status=passed
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    status=timed-out
  elif [ $rc -eq 77 ] || { $dry && [ $rc -eq 3 ]; }; then
    status=skipped
  else
    status=FAILED
  fi
  tail -n 3 "$out/$name.log"
  echo "$name $status $rc $((SECONDS - t0)) $model" >>"$suites"
  summary
}

# skip NAME MODEL_S WHY: a step that cannot run here, said in the table.
skip() {
  echo "== $1: skipped, $3"
  echo "$1 skipped - 0 $2 $3" >>"$suites"
  summary
}

# --- preflight: a GPU, a driver new enough for this build, or stop now ------
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.memory \
    --format=csv 2>&1 || echo "nvidia-smi: not found or no device"
  echo "cpu cores: $(nproc)"
  grep -m1 "model name" /proc/cpuinfo
} | tee "$out/gpu-info.txt"
preflight=$("$bin/gpusum" --backend cuda --stop 1000 --sum-only 2>&1)
preflight_rc=$?
echo "preflight: exit $preflight_rc: $preflight" | tee -a "$out/gpu-info.txt"
if [ $preflight_rc -ne 0 ] && ! $dry; then
  # An old driver, no device, a build without CUDA: every step would only be
  # "skipped". Say why and stop, with the device time unspent.
  echo "gpu-check: stopped at the preflight: $preflight"
  echo "preflight FAILED $preflight_rc 0 5" >>"$suites"
  summary
  cat "$out/summary.txt"
  exit 2
fi
if $dry; then
  [ $preflight_rc -eq 0 ] && { echo "gpu-check: --dry-run, but a GPU answered: run it for real"; exit 2; }
  echo "preflight skipped $preflight_rc 0 5 no GPU: a dry run of every step's plan" >>"$suites"
else
  echo "preflight passed 0 0 5" >>"$suites"
fi

# --- 1. the GPU tests: kernels, device memory, DLPack arrays ----------------
step gpu-tests 90 20 "$bin/tests/gpu_tests"

# --- 2. every dtype in device memory, cuda against cub, % of the memory peak -
step device-bandwidth 60 15 sh -c "'$bin/gpusum_device_bandwidth' --repeat 5 >'$out/device-bandwidth.json'"

# --- 3. exact float sums on the device against the CPU's check --------------
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
"$python" - "$data" <<'PY'
import sys
import numpy as np
d, r = sys.argv[1], np.random.default_rng(1)
np.save(f"{d}/normal.npy", r.standard_normal(1 << 25))
np.save(f"{d}/straddling.npy", r.uniform(0, 100, 1 << 25).astype(np.float32))
np.save(f"{d}/wide.npy", r.standard_normal(1 << 24) * np.exp2(r.integers(-300, 300, 1 << 24)))
np.save(f"{d}/single.npy", r.standard_normal(1 << 25).astype(np.float32))
np.save(f"{d}/small.npy", np.exp2(r.integers(-60, 60, 1 << 20)) * r.standard_normal(1 << 20))
np.save(f"{d}/ragged.npy", r.integers(-128, 128, (1 << 20) + 13, dtype=np.int8))
PY
for name in normal straddling wide single; do
  step "float-$name" 45 4 sh -c "'$bin/gpusum' --input '$data/$name.npy' --backend cuda --repeat 3 --json >'$out/float-$name.json'"
done

# --- 4. one ncu pass: pipe use and DRAM throughput of the array kernels -----
if command -v ncu >/dev/null; then
  metrics=sm__inst_executed_pipe_alu.avg.pct_of_peak_sustained_active,sm__inst_executed_pipe_fma.avg.pct_of_peak_sustained_active,sm__inst_executed_pipe_fp64.avg.pct_of_peak_sustained_active,sm__inst_executed_pipe_lsu.avg.pct_of_peak_sustained_active,dram__throughput.avg.pct_of_peak_sustained_elapsed,sm__warps_active.avg.pct_of_peak_sustained_active
  for name in normal single; do
    step "ncu-float-$name" 60 12 ncu --metrics "$metrics" --kernel-name regex:exact_float_reduce \
      --launch-count 2 --csv "$bin/gpusum" --input "$data/$name.npy" --backend cuda
  done
  step ncu-int64-array 60 12 ncu --metrics "$metrics" --kernel-name regex:reduce \
    --launch-count 2 --csv "$bin/gpusum" --backend cuda --mode array --stop 1e9
else
  skip ncu 36 "no ncu here"
fi

# --- 5. compute-sanitizer on the range, array and float kernels -------------
if command -v compute-sanitizer >/dev/null; then
  for tool in memcheck racecheck synccheck; do
    step "sanitizer-range-$tool" 45 8 compute-sanitizer --tool "$tool" --error-exitcode 9 \
      "$bin/gpusum" --backend cuda --start -5 --stop 3e6 --step 3
    step "sanitizer-float-$tool" 45 8 compute-sanitizer --tool "$tool" --error-exitcode 9 \
      "$bin/gpusum" --input "$data/small.npy" --backend cuda
  done
  # 16-byte loads with a head and a tail (the .npy data starts 128 bytes in;
  # the count is odd): no access outside the array.
  step sanitizer-int8-memcheck 45 5 compute-sanitizer --tool memcheck --error-exitcode 9 \
    "$bin/gpusum" --input "$data/ragged.npy" --backend cuda
else
  skip sanitizers 53 "no compute-sanitizer here"
fi

# --- 6. Ctrl-C during a long GPU run: exit 130 within a second --------------
step interrupt 15 5 "$python" - "$bin/gpusum" <<'PY'
import signal, subprocess, sys, time
p = subprocess.Popen([sys.argv[1], "--backend", "cuda", "--stop", "9e18"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
time.sleep(3)
if p.poll() is not None:  # it never ran: no GPU (dry run) or a failure
    err = p.stderr.read().strip()
    print(err)
    sys.exit(3 if p.returncode == 3 else 1)
sent = time.monotonic()
p.send_signal(signal.SIGINT)
rc = p.wait()
took = time.monotonic() - sent
print(f"interrupt: exit {rc} after {took:.3f} s")
sys.exit(0 if rc == 130 and took < 1 else 1)
PY

# --- 7. ranges of 10^12 on every GPU backend (no serial: minutes of CPU) ----
for b in cuda cub thrust; do
  step "range-1e12-$b" 60 4 sh -c "'$bin/gpusum' --backend $b --stop 1e12 --repeat 3 --json >'$out/range-1e12-$b.json'"
done
step range-edges 30 2 sh -c "'$bin/gpusum' --backend cuda --start -9223372036854775808 --stop 9223372036854775807 --step 16777216 --json >'$out/range-edges.json'"

# --- 8. a device array beyond 2^31 elements (24 GB of int64, made there) ----
for b in cuda cub; do
  step "device-array-$b" 60 5 sh -c "'$bin/gpusum' --backend $b --mode array --stop 3e9 --repeat 3 --json >'$out/device-array-$b.json'"
done

# --- 9. every device of the machine at once ---------------------------------
step range-devices 30 3 sh -c "'$bin/gpusum' --backend cuda --devices all --stop 1e12 --chunks 4096 --json >'$out/range-devices.json'"

# --- 10. the Python module built offline, CuPy and PyTorch arrays -----------
if [ -d "$bin/wheels" ]; then
  step python-gpu 150 120 sh -c "
    set -e
    venv='$out/venv'
    '$python' -m venv --system-site-packages \"\$venv\"
    \"\$venv/bin/pip\" install -q --no-index --find-links '$bin/wheels' --no-build-isolation \
      nanobind scikit-build-core
    CMAKE_ARGS='-DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_PREFIX_PATH=$bin/deps/usr' \"\$venv/bin/pip\" install -q --no-index \
      --no-build-isolation '$here'
    cd '$out' && \"\$venv/bin/python\" -m pytest -q -rs '$here/tests/python/test_gpu_arrays.py'
  "
else
  skip python-gpu 120 "no wheels in $bin (scripts/gpu_bundle.sh puts them there)"
fi

summary
cat "$out/summary.txt"
echo "gpu-check: $((SECONDS - started)) s"
grep -q "^GPU CHECK PASSED" "$out/summary.txt"
