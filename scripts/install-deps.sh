#!/usr/bin/env bash
# Installs the Debian packages gpusum builds and tests with, if any is missing,
# plus any extra package names given as arguments (CI's fuzzing adds clang).
# The CUDA toolkit is optional and not installed here: without nvcc the build
# is CPU-only.
set -euo pipefail
packages=(cmake ninja-build g++ doctest-dev libcli11-dev nlohmann-json3-dev "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
