// The CUDA side, as seen from host code: no CUDA header is needed to use it,
// and a build without CUDA provides the same functions, reporting why.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gpusum/backend.hpp"
#include "verify/array_check.hpp"

namespace gpusum {

struct GpuInventory {
    std::vector<std::string> devices;   // "NVIDIA H100 80GB HBM3, 132 SMs, 80 GiB" per index
    std::string problem;                // why there is none: no driver, no device, ...
    std::vector<std::string> unusable;  // per index: why that device cannot be used, or ""
};

// What this process can use. Cheap after the first call.
GpuInventory gpu_inventory();

struct CudaOptions {
    // Extra device memory each run allocates before its own buffers. A test
    // sets it beyond the card's memory to force the out-of-memory fallback.
    std::size_t extra_allocation_bytes = 0;
};

struct GpuBackendInfo {
    const char* name;
    const char* summary;
};

inline constexpr GpuBackendInfo kGpuBackends[] = {
    {"cuda", "tree-reduction kernel over chunked ranges on the GPU"},
    {"cub", "cub::DeviceReduce::Sum over a counting iterator (NVIDIA's peer)"},
    {"thrust", "thrust::transform_reduce over a counting iterator (NVIDIA's peer)"},
};

// cuda (our tree reduction), cub and thrust, in the order of kGpuBackends.
BackendList make_cuda_backends(CudaOptions options = {});

// The float check of such an array: copied back a piece at a time (64 MiB)
// and summed by the CPU's exact check (FloatCheck) on `workers` threads.
double check_device_floats(const void* data, DType dtype, std::uint64_t count, int device,
                           unsigned workers);

// Sums `count` elements of `dtype` that already live in the memory of CUDA
// device `device` (cudaMalloc'd or managed; aligned to the element size;
// within one allocation), where they lie, with the GPU backend `backend`
// ("cuda": every dtype; "cub": integers). Exact, like every sum: integers in
// result.sum, floats in result.real; unchecked here (gpusum::sum(DeviceArray)
// checks). Work queued on the legacy default stream is waited for first (a
// DLPack producer orders its writes there); the caller's current device is
// left as it was. Details give the kernel time and GB/s against the
// device's memory peak.
// Throws InputError for a pointer, dtype or name it cannot sum, BackendError
// when the device or CUDA fails (or the build has no CUDA).
Result sum_device_array(const void* data, DType dtype, std::uint64_t count, int device = 0,
                        std::string_view backend = "cuda");

}  // namespace gpusum
