// The array of --mode array made where it is summed: element i of the series
// written to out[i] by the device itself, so a device-resident sum reads
// what the GPU's memory holds and nothing crosses PCIe.
#pragma once

#include <cstdint>

#include "device_lines.hpp"
#include "gpusum/series.hpp"

namespace GPUSUM_KERNELS {

// Static: one kernel per translation unit that includes it (no ODR clash).
static __global__ void fill_series(std::int64_t* out, Progression series) {
    const std::uint64_t stride = std::uint64_t{gridDim.x} * blockDim.x;
    for (std::uint64_t i = std::uint64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < series.count;
         i += stride)
        out[i] = series.at(i);
}

}  // namespace GPUSUM_KERNELS
