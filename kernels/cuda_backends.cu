// The three GPU backends: our tree reduction, and CUB and Thrust as peers.
// All three verify the same way and report the same phases: setup (device
// context and buffers), compute (device time of the reduction, from CUDA
// events), combine (copying the 128-bit total back).
#include <thrust/execution_policy.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/iterator/transform_iterator.h>
#include <thrust/transform_reduce.h>
#include <cub/device/device_reduce.cuh>

#include <memory>

#include "cuda_support.cuh"
#include "gpusum/cuda.hpp"
#include "gpusum/progress.hpp"
#include "stopwatch.hpp"
#include "tree_reduce.cuh"

namespace gpusum {

namespace kernels {

cudaDeviceProp open_device(int device) {
    check(cudaSetDevice(device), "cudaSetDevice");
    check(cudaFree(nullptr), "creating the CUDA context");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    return prop;
}

void describe_device(const cudaDeviceProp& prop, int device, Result& result) {
    int clock_khz = 0;
    cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device);
    result.details.emplace_back("device", std::to_string(device) + ": " + prop.name);
    result.details.emplace_back("sms", std::to_string(prop.multiProcessorCount));
    result.details.emplace_back("clock_mhz", std::to_string(clock_khz / 1000));
}

}  // namespace kernels

namespace {

using kernels::check;
using kernels::DeviceBuffer;
using kernels::EventTimer;

// The closed form is not used here: the elements are generated and added.
struct ElementAt {
    Progression series;
    __host__ __device__ std::uint64_t operator()(std::uint64_t i) const {
        return static_cast<std::uint64_t>(series.at(i));
    }
};
struct WideElementAt {
    Progression series;
    __host__ __device__ i128 operator()(std::uint64_t i) const { return series.at(i); }
};

// Whether wrapping 64-bit adds give the exact total of the whole series.
bool fits_in_one_int64_block(const Progression& p) {
    return exact_int64_block(p) >= p.count;
}

i128 copy_back(const i128* device_total, Result& result) {
    EventTimer timer;
    timer.start();
    i128 total = 0;
    check(cudaMemcpy(&total, device_total, sizeof total, cudaMemcpyDeviceToHost),
          "copying the sum back");
    result.seconds.combine = timer.stop();
    return total;
}

class GpuBackend : public Backend {
  public:
    GpuBackend(GpuBackendInfo info, CudaOptions options) : info_(info), options_(options) {}
    std::string_view name() const override { return info_.name; }
    std::string_view summary() const override { return info_.summary; }
    Availability availability() const override {
        const GpuInventory inv = gpu_inventory();
        if (inv.devices.empty()) return {false, inv.problem};
        return {true, inv.devices.front()};
    }
    bool sums_arrays() const override { return false; }

    Result sum(const Request& request) final {
        Stopwatch clock;
        Result result;
        const cudaDeviceProp prop = kernels::open_device(request.device);
        kernels::describe_device(prop, request.device, result);
        DeviceBuffer<char> ballast(options_.extra_allocation_bytes);
        result.sum = run(request, prop, clock, result);
        if (request.progress != nullptr) request.progress->advance(request.series.count);
        return result;
    }

  protected:
    // Sets result.seconds (setup from `clock`), workers, chunks and details.
    virtual i128 run(const Request& request, const cudaDeviceProp& prop, Stopwatch& clock,
                     Result& result) = 0;

  private:
    GpuBackendInfo info_;
    CudaOptions options_;
};

class TreeReduceBackend final : public GpuBackend {
  public:
    using GpuBackend::GpuBackend;

  protected:
    i128 run(const Request& request, const cudaDeviceProp& prop, Stopwatch& clock,
             Result& result) override {
        const kernels::TreeTuning tuning;
        int blocks_per_sm = 0;
        check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
                  &blocks_per_sm, kernels::tree_reduce, static_cast<int>(tuning.threads_per_block),
                  0),
              "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
        const Progression& p = request.series;
        // No more blocks than there are threads' worth of elements.
        const std::uint64_t useful_blocks = p.count / tuning.threads_per_block + 1;
        const std::uint64_t blocks = std::min<std::uint64_t>(
            static_cast<std::uint64_t>(prop.multiProcessorCount) * blocks_per_sm, useful_blocks);
        const std::uint64_t chunks = effective_chunks(p.count, blocks * tuning.chunks_per_block);
        DeviceBuffer<i128> partials(blocks);
        DeviceBuffer<i128> total(1);
        DeviceBuffer<unsigned> blocks_done(1);
        check(cudaMemset(blocks_done.get(), 0, sizeof(unsigned)), "cudaMemset");
        check(cudaDeviceSynchronize(), "preparing the reduction");
        result.seconds.setup = clock.lap();

        EventTimer timer;
        timer.start();
        kernels::tree_reduce<<<static_cast<unsigned>(blocks), tuning.threads_per_block>>>(
            p, chunks, exact_int64_block(p), partials.get(), blocks_done.get(), total.get());
        check(cudaGetLastError(), "launching tree_reduce");
        result.seconds.compute = timer.stop();
        check(cudaGetLastError(), "running tree_reduce");

        result.workers = static_cast<unsigned>(blocks * tuning.threads_per_block);
        result.chunks = chunks;
        result.details.emplace_back("grid", std::to_string(blocks) + " blocks x " +
                                                std::to_string(tuning.threads_per_block) +
                                                " threads");
        return copy_back(total.get(), result);
    }
};

class CubBackend final : public GpuBackend {
  public:
    using GpuBackend::GpuBackend;

  protected:
    i128 run(const Request& request, const cudaDeviceProp&, Stopwatch& clock,
             Result& result) override {
        const Progression& p = request.series;
        const thrust::counting_iterator<std::uint64_t> index(0);
        if (fits_in_one_int64_block(p))
            return reduce(thrust::make_transform_iterator(index, ElementAt{p}), std::uint64_t{0},
                          p.count, clock, result);
        return reduce(thrust::make_transform_iterator(index, WideElementAt{p}), i128{0}, p.count,
                      clock, result);
    }

  private:
    // Two-phase CUB: ask for the scratch size, allocate, then reduce.
    template <class Iterator, class Acc>
    i128 reduce(Iterator elements, Acc, std::uint64_t count, Stopwatch& clock, Result& result) {
        DeviceBuffer<Acc> out(1);
        std::size_t scratch_bytes = 0;
        check(cub::DeviceReduce::Sum(nullptr, scratch_bytes, elements, out.get(), count),
              "cub::DeviceReduce::Sum (sizing)");
        DeviceBuffer<char> scratch(scratch_bytes);
        check(cudaDeviceSynchronize(), "preparing the reduction");
        result.seconds.setup = clock.lap();
        EventTimer timer;
        timer.start();
        check(cub::DeviceReduce::Sum(scratch.get(), scratch_bytes, elements, out.get(), count),
              "cub::DeviceReduce::Sum");
        result.seconds.compute = timer.stop();
        check(cudaGetLastError(), "running cub::DeviceReduce::Sum");
        result.details.emplace_back("accumulator",
                                    sizeof(Acc) == 8 ? "wrapping int64 (total fits)" : "int128");
        Acc host = 0;
        EventTimer copy;
        copy.start();
        check(cudaMemcpy(&host, out.get(), sizeof host, cudaMemcpyDeviceToHost),
              "copying the sum back");
        result.seconds.combine = copy.stop();
        return sizeof(Acc) == 8 ? i128{static_cast<std::int64_t>(host)} : static_cast<i128>(host);
    }
};

class ThrustBackend final : public GpuBackend {
  public:
    using GpuBackend::GpuBackend;

  protected:
    i128 run(const Request& request, const cudaDeviceProp&, Stopwatch& clock,
             Result& result) override {
        const Progression& p = request.series;
        const thrust::counting_iterator<std::uint64_t> first(0), last(p.count);
        result.seconds.setup = clock.lap();
        EventTimer timer;
        timer.start();
        i128 sum;
        // transform_reduce returns to the host: the copy-back is inside compute.
        if (fits_in_one_int64_block(p)) {
            const std::uint64_t s =
                thrust::transform_reduce(thrust::cuda::par, first, last, ElementAt{p},
                                         std::uint64_t{0}, ::cuda::std::plus<std::uint64_t>());
            sum = static_cast<std::int64_t>(s);
        } else {
            sum = thrust::transform_reduce(thrust::cuda::par, first, last, WideElementAt{p},
                                           i128{0}, ::cuda::std::plus<i128>());
        }
        result.seconds.compute = timer.stop();
        result.details.emplace_back(
            "accumulator", fits_in_one_int64_block(p) ? "wrapping int64 (total fits)" : "int128");
        return sum;
    }
};

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
        for (int d = 0; d < count && status == cudaSuccess; ++d) {
            cudaDeviceProp prop{};
            if (cudaGetDeviceProperties(&prop, d) != cudaSuccess) continue;
            inv.devices.push_back(std::string(prop.name) + ", " +
                                  std::to_string(prop.multiProcessorCount) + " SMs, " +
                                  std::to_string(prop.totalGlobalMem >> 30) + " GiB");
        }
        return inv;
    }();
    return inventory;
}

BackendList make_cuda_backends(CudaOptions options) {
    BackendList list;
    list.push_back(std::make_unique<TreeReduceBackend>(kGpuBackends[0], options));
    list.push_back(std::make_unique<CubBackend>(kGpuBackends[1], options));
    list.push_back(std::make_unique<ThrustBackend>(kGpuBackends[2], options));
    return list;
}

}  // namespace gpusum
