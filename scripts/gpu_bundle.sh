#!/usr/bin/env bash
# The folder a GPU machine needs, made on a machine without a GPU: Hopper
# machine code (sm_90), the static CUDA runtime, only the programs that run
# there (gpusum, tests/gpu_tests, gpusum_device_bandwidth), and the wheels
# (nanobind, scikit-build-core and what they need) and header-only packages
# (CLI11, nlohmann-json) that let the GPU machine build the Python module
# offline for its own Python. Under 64 MiB, so it
# can be carried; then, there: bench/gpu_check.sh BUNDLE OUT_DIR.
#
# Usage: scripts/gpu_bundle.sh [BUNDLE_DIR]   (default build-gpu)
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=${1:-build-gpu}
cmake --preset cuda >/dev/null
cmake --build --preset cuda --target gpusum_cli gpu_tests gpusum_device_bandwidth
rm -rf "$bundle" && mkdir -p "$bundle/tests"
cp build-cuda/gpusum build-cuda/gpusum_device_bandwidth "$bundle/"
cp build-cuda/tests/gpu_tests "$bundle/tests/"
strip "$bundle/gpusum" "$bundle/gpusum_device_bandwidth" "$bundle/tests/gpu_tests"
python3 -m pip download -q --only-binary :all: -d "$bundle/wheels" nanobind scikit-build-core
# The header-only packages the library builds with (CLI11, nlohmann-json),
# which a GPU machine's image lacks: found there through CMAKE_PREFIX_PATH.
for dir in include/CLI include/nlohmann share/cmake/CLI11 share/cmake/nlohmann_json; do
  mkdir -p "$bundle/deps/usr/$(dirname "$dir")"
  cp -r "/usr/$dir" "$bundle/deps/usr/$dir"
done
size=$(du -sm "$bundle" | cut -f1)
echo "gpu_bundle: $bundle, ${size} MiB:"
(cd "$bundle" && find . -type f -printf '  %p %s bytes\n' | sort)
if [ "$size" -ge 64 ]; then
  echo "gpu_bundle: over 64 MiB, too large to carry" >&2
  exit 1
fi
