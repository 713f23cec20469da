#!/usr/bin/env bash
# On a machine with a CUDA device: the GPU tests, the CPU tests against the
# same binaries, side-by-side comparisons and the GPU benchmark, in one go.
# Usage: bench/gpu_check.sh BUILD_DIR OUT_DIR
set -uo pipefail
bin=${1:-build}
out=${2:-bench/results}
mkdir -p "$out"
status=0
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee "$out/gpu-info.txt"
nproc | sed 's/^/cpu cores: /' | tee -a "$out/gpu-info.txt"
grep -m1 "model name" /proc/cpuinfo | tee -a "$out/gpu-info.txt"
{
  "$bin/tests/gpu_tests" || status=1
  "$bin/tests/unit_tests" || status=1
  GPUSUM_EXE="$bin/gpusum" "$bin/tests/cli_tests" || status=1
} > >(tee "$out/gpu-tests.log") 2>&1  # not a pipe: `status` must survive the braces
{
  "$bin/gpusum" --backend cuda
  "$bin/gpusum" --compare --stop 1e9 --repeat 5
  "$bin/gpusum" --compare --stop 1e10 --repeat 3
  "$bin/gpusum" --backend cuda --start -9223372036854775808 --stop 9223372036854775807 --step 16777216
  "$bin/gpusum" --backend cuda --devices all --stop 1e11 --chunks 4096
} > >(tee "$out/gpu-compare.txt") 2>&1
python3 bench/gpu_bench.py --exe "$bin/gpusum" --out "$out/gpu-bench.json" || status=1
if command -v cuobjdump >/dev/null; then
  cuobjdump -sass "$bin/gpusum" | awk '/Function : .*tree_reduce/{p=1} p{print} /\.\.\.\.\.\.\.\.\.\./{if(p)exit}' > "$out/tree_reduce.sass"
fi
exit $status
