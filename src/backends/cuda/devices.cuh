// The CUDA devices as host code sees them: opening one, its memory peak and
// description in reports, the allocation a pointer lies in, and keeping the
// caller's current device (device_guard.hpp) with the CUDA runtime's calls.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <optional>

#include "backends/cuda/device_guard.hpp"
#include "gpusum/backend.hpp"

namespace gpusum::kernels {

// The CUDA runtime's current device of the calling thread.
struct CudaCurrentDevice {
    static bool get(int& device) { return cudaGetDevice(&device) == cudaSuccess; }
    static void set(int device) { cudaSetDevice(device); }
};
using DeviceKept = CurrentDeviceKept<CudaCurrentDevice>;

// Makes `device` current and its context exist; its properties.
cudaDeviceProp open_device(int device);

// Bytes per second the device's memory delivers at most (clock x bus width x 2).
double hbm_peak_bytes_per_s(int device);

// The device's name, SMs and clock into the result's details.
void describe_device(const cudaDeviceProp& prop, int device, Result& result);

// The bytes of the allocation that holds `p` from p on (the driver's
// cuMemGetAddressRange, reached through the runtime so that no libcuda link
// is needed); nothing when the driver cannot tell.
std::optional<std::uint64_t> bytes_in_allocation(const void* p);

}  // namespace gpusum::kernels
