# Windows x86-64 from a Debian machine, with mingw-w64's GCC (posix threads)
# and the runtime linked in statically, so gpusum.exe needs no DLL beside it:
#   apt install g++-mingw-w64-x86-64 wine64
#   cmake --preset windows     (or --toolchain cmake/toolchains/mingw-w64.cmake)
# Tests and test discovery run under wine.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
find_program(GPUSUM_WINE NAMES wine64 wine PATHS /usr/lib/wine NO_CACHE)
if(GPUSUM_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${GPUSUM_WINE}")
endif()
include("${CMAKE_CURRENT_LIST_DIR}/header-deps.cmake")
