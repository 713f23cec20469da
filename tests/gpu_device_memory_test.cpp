// gpusum::sum_device_array on memory the test allocates with the CUDA
// runtime: built into gpu_tests only when CUDA is (and run, like them, only
// where a device is).
#include <cuda_runtime.h>
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "backends/cuda/cuda_backends.hpp"
#include "gpusum/array.hpp"
#include "gpusum/gpusum.hpp"
#include "input/sources.hpp"
#include "support/text.hpp"
#include "verify/array_check.hpp"

TEST_CASE(
    "sum_device_array: every dtype at every alignment in device memory, bad pointers refused") {
    std::mt19937_64 rng(16);
    constexpr std::size_t kBytes = std::size_t{1} << 22;
    std::vector<std::uint64_t> integers(kBytes / 8);
    for (auto& x : integers) x = rng();
    std::vector<double> reals(kBytes / 8);
    std::normal_distribution<double> dist(0, 1e6);
    for (auto& x : reals) x = dist(rng);
    void* device = nullptr;
    REQUIRE(cudaMalloc(&device, kBytes + 16) == cudaSuccess);
    for (gpusum::DType t :
         {gpusum::DType::int8, gpusum::DType::uint8, gpusum::DType::int16, gpusum::DType::uint16,
          gpusum::DType::int32, gpusum::DType::uint32, gpusum::DType::int64, gpusum::DType::uint64,
          gpusum::DType::float32, gpusum::DType::float64}) {
        const auto* host = reinterpret_cast<const unsigned char*>(
            gpusum::is_float(t) ? static_cast<const void*>(reals.data()) : integers.data());
        REQUIRE(cudaMemcpy(device, host, kBytes, cudaMemcpyHostToDevice) == cudaSuccess);
        const std::size_t size = gpusum::dtype_size(t);
        for (std::size_t offset = 0; offset < 16; offset += size) {
            const std::uint64_t count = (kBytes - offset) / size - 1;  // a ragged tail too
            const gpusum::ArrayView view{host + offset, count, t};
            CAPTURE(std::string(gpusum::dtype_name(t)));
            CAPTURE(offset);
            for (const char* backend : {"cuda", "cub"}) {
                if (gpusum::is_float(t) && std::string(backend) == "cub") continue;
                const gpusum::Result r = gpusum::sum_device_array(
                    static_cast<const unsigned char*>(device) + offset, t, count, 0, backend);
                if (gpusum::is_float(t))
                    CHECK(gpusum::same_float(gpusum::rounded(r.real),
                                             gpusum::check_sum_floats(view)));
                else
                    CHECK(gpusum::to_string(r.sum) ==
                          gpusum::to_string(gpusum::check_sum_integers(view)));
            }
        }
    }
    CHECK(gpusum::sum_device_array(nullptr, gpusum::DType::int64, 0).sum == 0);
    CHECK_THROWS_AS(gpusum::sum_device_array(integers.data(), gpusum::DType::int64, 10),
                    gpusum::InputError);
    CHECK_THROWS_AS(
        gpusum::sum_device_array(static_cast<const char*>(device) + 1, gpusum::DType::int64, 10),
        gpusum::InputError);
    CHECK_THROWS_AS(gpusum::sum_device_array(device, gpusum::DType::float64, 10, 0, "cub"),
                    gpusum::BackendError);
    cudaFree(device);
}

TEST_CASE("gpusum::sum(DeviceArray): checked sums of device memory through the facade") {
    std::vector<std::int64_t> values(1 << 20);
    for (std::size_t i = 0; i < values.size(); ++i)
        values[i] = static_cast<std::int64_t>(i * 2654435761U) - (std::int64_t{1} << 40);
    std::vector<double> reals(values.begin(), values.end());
    reals[7] = 1e300;
    reals[8] = -1e300;
    void* device = nullptr;
    REQUIRE(cudaMalloc(&device, values.size() * 8) == cudaSuccess);
    REQUIRE(cudaMemcpy(device, values.data(), values.size() * 8, cudaMemcpyHostToDevice) ==
            cudaSuccess);
    const gpusum::ArrayView host{reinterpret_cast<const unsigned char*>(values.data()),
                                 values.size(), gpusum::DType::int64};
    for (const char* backend : {"auto", "cuda", "cub"}) {
        const gpusum::Sum s = gpusum::sum(
            gpusum::DeviceArray{device, values.size(), gpusum::DType::int64}, {.backend = backend});
        CHECK(s.verified);
        CHECK(gpusum::to_string(s.sum) == gpusum::to_string(gpusum::check_sum_integers(host)));
        CHECK(s.check.find(std::string(backend) == "cub" ? "cuda" : "cub") != std::string::npos);
    }
    REQUIRE(cudaMemcpy(device, reals.data(), reals.size() * 8, cudaMemcpyHostToDevice) ==
            cudaSuccess);
    const gpusum::ArrayView host_reals{reinterpret_cast<const unsigned char*>(reals.data()),
                                       reals.size(), gpusum::DType::float64};
    const gpusum::Sum f =
        gpusum::sum(gpusum::DeviceArray{device, reals.size(), gpusum::DType::float64});
    CHECK(gpusum::same_float(f.value, gpusum::check_sum_floats(host_reals)));
    CHECK_THROWS_AS(gpusum::sum(gpusum::DeviceArray{device, reals.size(), gpusum::DType::float64},
                                {.backend = "threads"}),
                    gpusum::InputError);
    cudaFree(device);
}
