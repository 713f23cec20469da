// The CUDA side, as seen from host code: no CUDA header is needed to use it,
// and a build without CUDA provides the same functions, reporting why.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "gpusum/backend.hpp"

namespace gpusum {

struct GpuInventory {
    std::vector<std::string> devices;  // "NVIDIA H100 80GB HBM3, 132 SMs, 1980 MHz" per index
    std::string problem;               // why there is none: no driver, no device, ...
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

}  // namespace gpusum
