#!/usr/bin/env bash
# Installs what gpusum builds and tests with, if any is missing, plus any extra
# package names given as arguments (CI's fuzzing adds clang). Debian and
# Ubuntu: apt. macOS: Homebrew (with Xcode's command line tools for the
# compiler). Windows: MSYS2's pacman, in its UCRT64 (or MINGW64) shell. The
# CUDA toolkit is optional and not installed here: without nvcc the build is
# CPU-only.
set -euo pipefail
case "$(uname -s)" in
  Darwin)
    command -v brew >/dev/null || {
      echo "install-deps: Homebrew is needed (https://brew.sh), or install cmake, ninja," \
        "doctest, CLI11 and nlohmann-json another way" >&2
      exit 1
    }
    for p in cmake ninja doctest cli11 nlohmann-json "$@"; do
      brew list --formula "$p" >/dev/null 2>&1 || brew install "$p"
    done
    exit 0
    ;;
  Linux)
    command -v dpkg-query >/dev/null || {
      echo "install-deps: this script knows apt only; install cmake, ninja, a C++20" \
        "compiler (GCC 12 or clang 14 or newer), doctest, CLI11 and nlohmann-json" \
        "with this system's package manager" >&2
      exit 1
    }
    ;;
  MINGW* | MSYS* | UCRT*)
    command -v pacman >/dev/null || {
      echo "install-deps: on Windows this script needs MSYS2 (https://www.msys2.org); or install" \
        "a MinGW GCC, cmake, ninja, doctest, CLI11 and nlohmann-json another way" >&2
      exit 1
    }
    prefix="${MINGW_PACKAGE_PREFIX:-mingw-w64-ucrt-x86_64}"
    for p in gcc cmake ninja cli11 nlohmann-json doctest zlib "$@"; do
      pacman -Q "$prefix-$p" >/dev/null 2>&1 || pacman -S --needed --noconfirm "$prefix-$p"
    done
    exit 0
    ;;
  *)
    echo "install-deps: gpusum builds on Linux, macOS and Windows (MSYS2)" >&2
    exit 1
    ;;
esac
packages=(cmake ninja-build g++ doctest-dev libcli11-dev nlohmann-json3-dev zlib1g-dev "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
