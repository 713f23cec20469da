# Included by the cross toolchains: the header-only dependencies (CLI11,
# nlohmann-json, doctest) come from the build machine's packages, copied into
# the build folder so the target's compiler finds them there and never sees
# the build machine's own /usr/include. Packages are looked for only there.
get_property(gpusum_in_try_compile GLOBAL PROPERTY IN_TRY_COMPILE)
if(NOT gpusum_in_try_compile)
  set(gpusum_header_deps "${CMAKE_BINARY_DIR}/header-deps")
  foreach(dir include/CLI include/nlohmann include/doctest
              share/cmake/CLI11 share/cmake/nlohmann_json lib/cmake/doctest)
    if(NOT EXISTS "/usr/${dir}")
      message(FATAL_ERROR "/usr/${dir} is missing: run scripts/install-deps.sh")
    endif()
    if(NOT EXISTS "${gpusum_header_deps}/usr/${dir}")
      get_filename_component(parent "${gpusum_header_deps}/usr/${dir}" DIRECTORY)
      file(COPY "/usr/${dir}" DESTINATION "${parent}")
    endif()
  endforeach()
  # Debian's doctest package names its prefix outright instead of finding it
  # from where the file lies: point it at the copy.
  set(targets "${gpusum_header_deps}/usr/lib/cmake/doctest/doctestTargets.cmake")
  file(READ "${targets}" text)
  string(REPLACE "set(_IMPORT_PREFIX \"/usr\")" "set(_IMPORT_PREFIX \"${gpusum_header_deps}/usr\")"
         text "${text}")
  file(WRITE "${targets}" "${text}")
  list(APPEND CMAKE_FIND_ROOT_PATH "${gpusum_header_deps}")
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# A cross build never uses the build machine's CUDA toolkit.
set(GPUSUM_CUDA OFF CACHE STRING "Build the CUDA backends: AUTO, ON or OFF")
