#!/usr/bin/env bash
# The benchmark in one command: builds what it needs, measures gpusum against
# its peers on this machine, writes bench/results/<machine>.json and .png.
#   bench/run.sh            full run (a few minutes)
#   bench/run.sh --quick    every piece at tiny sizes, to check the pipeline;
#                           writes under build/bench-quick/ instead
set -euo pipefail
cd "$(dirname "$0")/.."
quick=${1:-}
scripts/install-deps.sh libtbb-dev
cmake -S . -B build -G Ninja >/dev/null
cmake --build build
# NumPy and matplotlib from PyPI, in a virtual environment of the benchmark's own.
[ -x bench/.venv/bin/python ] || python3 -m venv bench/.venv
bench/.venv/bin/python -m pip install -q --disable-pip-version-check numpy matplotlib
tag=$(grep -m1 "model name" /proc/cpuinfo | sed 's/.*: //; s/[^A-Za-z0-9]\+/-/g; s/-$//' | tr 'A-Z' 'a-z')-$(nproc)cpu
if [ "$quick" = "--quick" ]; then
  out=build/bench-quick/$tag
else
  out=bench/results/$tag
fi
mkdir -p "$(dirname "$out")"
bench/.venv/bin/python bench/bench.py --build build --out "$out.json" $quick
bench/.venv/bin/python bench/plot.py "$out.json" "$out.png"
echo "wrote $out.json and $out.png"
