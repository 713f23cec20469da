// The GPU's array path against the device's own limits, in one run:
// - pinned host-to-device copies (cudaMemcpy from cudaHostAlloc memory): the
//   best a streamed host array can do;
// - every dtype summed where it lies in device memory by `cuda` (our kernels)
//   and `cub` (integers), through gpusum::sum_device_array, as GB/s and as a
//   share of the device's memory peak (clock x bus width x 2).
// The arrays hold a repeating byte pattern (finite as floats); the sums are
// exact whatever they hold. Usage:
//   gpusum_device_bandwidth [--bytes B] [--repeat R] [--device D]   (JSON on stdout)
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "backends/cuda/cuda_backends.hpp"
#include "gpusum/array.hpp"
#include "input/sources.hpp"

namespace {

void check(cudaError_t status, const char* what) {
    if (status == cudaSuccess) return;
    std::fprintf(stderr, "gpusum_device_bandwidth: %s: %s\n", what, cudaGetErrorString(status));
    std::exit(3);
}

double peak_bytes_per_s(int device) {
    int khz = 0, bits = 0;
    check(cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, device), "attribute");
    check(cudaDeviceGetAttribute(&bits, cudaDevAttrGlobalMemoryBusWidth, device), "attribute");
    return 2.0 * khz * 1e3 * bits / 8;
}

// Best of `repeat` pinned host-to-device copies of `bytes`, in bytes/s.
double pinned_h2d(std::size_t bytes, unsigned repeat, void* device_buffer) {
    void* host = nullptr;
    check(cudaHostAlloc(&host, bytes, cudaHostAllocDefault), "cudaHostAlloc");
    std::fill_n(static_cast<char*>(host), bytes, 1);
    cudaEvent_t start{}, stop{};
    check(cudaEventCreate(&start), "cudaEventCreate");
    check(cudaEventCreate(&stop), "cudaEventCreate");
    double best = 0;
    for (unsigned r = 0; r < repeat; ++r) {
        check(cudaEventRecord(start), "cudaEventRecord");
        check(cudaMemcpyAsync(device_buffer, host, bytes, cudaMemcpyHostToDevice), "copy");
        check(cudaEventRecord(stop), "cudaEventRecord");
        check(cudaEventSynchronize(stop), "cudaEventSynchronize");
        float ms = 0;
        check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
        best = std::max(best, static_cast<double>(bytes) / (ms / 1e3));
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    cudaFreeHost(host);
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t bytes = std::size_t{4} << 30;
    unsigned repeat = 5;
    int device = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--bytes")
            bytes = std::strtoull(argv[i + 1], nullptr, 10);
        else if (flag == "--repeat")
            repeat = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
        else if (flag == "--device")
            device = std::atoi(argv[i + 1]);
        else {
            std::fprintf(stderr, "gpusum_device_bandwidth: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    check(cudaSetDevice(device), "cudaSetDevice");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    void* data = nullptr;
    check(cudaMalloc(&data, bytes), "cudaMalloc");
    check(cudaMemset(data, 0x3c, bytes), "cudaMemset");  // 0x3c3c...: finite floats
    const double peak = peak_bytes_per_s(device);
    const double h2d = pinned_h2d(std::min(bytes, std::size_t{1} << 30), repeat, data);
    std::printf("{\n  \"device\": \"%s\",\n  \"memory_peak_gb_per_s\": %.1f,\n", prop.name,
                peak / 1e9);
    std::printf("  \"pinned_h2d_gb_per_s\": %.2f,\n  \"bytes\": %zu,\n  \"rows\": [", h2d / 1e9,
                bytes);
    const char* separator = "\n";
    for (const gpusum::DType t :
         {gpusum::DType::int8, gpusum::DType::uint8, gpusum::DType::int16, gpusum::DType::uint16,
          gpusum::DType::int32, gpusum::DType::uint32, gpusum::DType::int64, gpusum::DType::uint64,
          gpusum::DType::float32, gpusum::DType::float64}) {
        for (const char* backend : {"cuda", "cub"}) {
            if (gpusum::is_float(t) && std::string(backend) == "cub") continue;
            const std::uint64_t count = bytes / gpusum::dtype_size(t);
            double best = 1e30;
            for (unsigned r = 0; r < repeat; ++r) {
                try {
                    best = std::min(
                        best,
                        gpusum::sum_device_array(data, t, count, device, backend).seconds.compute);
                } catch (const std::exception& e) {
                    std::fprintf(stderr, "gpusum_device_bandwidth: %s %s: %s\n", backend,
                                 std::string(gpusum::dtype_name(t)).c_str(), e.what());
                    return 3;
                }
            }
            const double rate = static_cast<double>(bytes) / best;
            std::printf(
                "%s    {\"backend\": \"%s\", \"dtype\": \"%s\", \"seconds\": %.6g, "
                "\"gb_per_s\": %.1f, \"of_memory_peak\": %.3f}",
                separator, backend, std::string(gpusum::dtype_name(t)).c_str(), best, rate / 1e9,
                rate / peak);
            separator = ",\n";
        }
    }
    std::printf("\n  ]\n}\n");
    cudaFree(data);
    return 0;
}
