# macOS (Apple Silicon or Intel) from Linux, with zig's bundled clang, macOS
# headers, libc++ and Mach-O linker (PyPI: pip install ziglang, then put the
# folder holding its `zig` on PATH):
#   cmake -S . -B build-macos -G Ninja --toolchain cmake/toolchains/zig-macos.cmake \
#     -DGPUSUM_MACOS_ARCH=aarch64      # or x86_64
# The binaries link but cannot run here: each test program is one ctest
# entry, to be run on a Mac.
set(CMAKE_SYSTEM_NAME Darwin)
if(NOT GPUSUM_MACOS_ARCH)
  set(GPUSUM_MACOS_ARCH aarch64)
endif()
set(GPUSUM_MACOS_ARCH "${GPUSUM_MACOS_ARCH}" CACHE STRING "aarch64 (Apple Silicon) or x86_64")
set(CMAKE_SYSTEM_PROCESSOR ${GPUSUM_MACOS_ARCH})
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES GPUSUM_MACOS_ARCH)
find_program(GPUSUM_ZIG zig REQUIRED)
set(CMAKE_C_COMPILER "${GPUSUM_ZIG}" cc -target ${GPUSUM_MACOS_ARCH}-macos)
set(CMAKE_CXX_COMPILER "${GPUSUM_ZIG}" c++ -target ${GPUSUM_MACOS_ARCH}-macos)
# Archives with a Mach-O symbol index, by zig's own ar and ranlib.
set(CMAKE_AR "${CMAKE_CURRENT_LIST_DIR}/zig-ar")
set(CMAKE_RANLIB "${CMAKE_CURRENT_LIST_DIR}/zig-ranlib")
include("${CMAKE_CURRENT_LIST_DIR}/header-deps.cmake")
