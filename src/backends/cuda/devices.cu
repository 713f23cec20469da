// Devices: what this process can use (gpu_inventory), and the per-device
// facts the backends report.
#include <cuda.h>

#include <string>

#include "backends/cuda/cuda_backends.hpp"
#include "backends/cuda/cuda_support.cuh"
#include "backends/cuda/devices.cuh"

namespace gpusum {

namespace kernels {

cudaDeviceProp open_device(int device) {
    check(cudaSetDevice(device), "cudaSetDevice");
    check(cudaFree(nullptr), "creating the CUDA context");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    return prop;
}

double hbm_peak_bytes_per_s(int device) {
    int memory_khz = 0, bus_bits = 0;
    check(cudaDeviceGetAttribute(&memory_khz, cudaDevAttrMemoryClockRate, device),
          "cudaDeviceGetAttribute");
    check(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device),
          "cudaDeviceGetAttribute");
    return 2.0 * memory_khz * 1e3 * bus_bits / 8;  // double data rate
}

void describe_device(const cudaDeviceProp& prop, int device, Result& result) {
    int clock_khz = 0;
    check(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device),
          "cudaDeviceGetAttribute");
    result.details.emplace_back("device", std::to_string(device) + ": " + prop.name);
    result.details.emplace_back("sms", std::to_string(prop.multiProcessorCount));
    result.details.emplace_back("clock_mhz", std::to_string(clock_khz / 1000));
}

// Through the runtime's entry point query, so that no libcuda link is needed.
std::optional<std::uint64_t> bytes_in_allocation(const void* p) {
    using Range = CUresult(CUDAAPI*)(CUdeviceptr*, size_t*, CUdeviceptr);
    static const Range range = [] {
        void* fn = nullptr;
        cudaDriverEntryPointQueryResult found{};
        if (cudaGetDriverEntryPointByVersion("cuMemGetAddressRange", &fn, 12000, cudaEnableDefault,
                                             &found) != cudaSuccess ||
            found != cudaDriverEntryPointSuccess) {
            cudaGetLastError();
            return static_cast<Range>(nullptr);
        }
        return reinterpret_cast<Range>(fn);
    }();
    if (range == nullptr) return std::nullopt;
    CUdeviceptr base = 0;
    size_t size = 0;
    const auto address = reinterpret_cast<CUdeviceptr>(p);
    if (range(&base, &size, address) != CUDA_SUCCESS) return std::nullopt;
    return base + size - address;
}

}  // namespace kernels

namespace {

// Why device `d` cannot take our work, or "": prohibited by its compute mode,
// or in exclusive-process mode with another process holding it (only a
// context of our own tells).
std::string why_unusable(int d) {
    int mode = cudaComputeModeDefault;
    if (cudaDeviceGetAttribute(&mode, cudaDevAttrComputeMode, d) != cudaSuccess) {
        cudaGetLastError();
        return "its compute mode cannot be read";
    }
    if (mode == cudaComputeModeProhibited) return "its compute mode is Prohibited (nvidia-smi -c)";
    if (mode != cudaComputeModeExclusiveProcess) return {};
    if (cudaSetDevice(d) == cudaSuccess && cudaFree(nullptr) == cudaSuccess) return {};
    cudaGetLastError();
    return "it is in exclusive-process mode and another process holds it";
}

}  // namespace

GpuInventory gpu_inventory() {
    static const GpuInventory inventory = [] {
        GpuInventory inv;
        int count = 0;
        const cudaError_t status = cudaGetDeviceCount(&count);
        if (status == cudaErrorInsufficientDriver) {
            inv.problem =
                "no CUDA driver, or one older than this build needs (cudaErrorInsufficientDriver)";
        } else if (status == cudaErrorNoDevice || (status == cudaSuccess && count == 0)) {
            inv.problem = "no CUDA device found";
        } else if (status != cudaSuccess) {
            inv.problem = std::string("CUDA unusable: ") + cudaGetErrorName(status);
        }
        cudaGetLastError();
        const kernels::DeviceKept kept;
        for (int d = 0; d < count && status == cudaSuccess; ++d) {
            cudaDeviceProp prop{};
            if (cudaGetDeviceProperties(&prop, d) != cudaSuccess) {
                inv.devices.emplace_back("unknown");
                inv.unusable.emplace_back("cudaGetDeviceProperties failed");
                cudaGetLastError();
                continue;
            }
            inv.devices.push_back(std::string(prop.name) + ", " +
                                  std::to_string(prop.multiProcessorCount) + " SMs, " +
                                  std::to_string(prop.totalGlobalMem >> 30) + " GiB");
            inv.unusable.push_back(why_unusable(d));
        }
        return inv;
    }();
    return inventory;
}

}  // namespace gpusum
