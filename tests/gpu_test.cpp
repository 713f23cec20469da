// GPU backends against the closed form and an independent reference. Needs a
// CUDA device; without one it says so and ctest reports the test as skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include "helpers/doctest_implementation.hpp"

#include <cstdio>

#include "backends/cpu/cpu_backends.hpp"
#include "backends/cuda/cuda_backends.hpp"
#include "helpers/reference.hpp"
#include "plan/dispatch.hpp"
#include "run/job.hpp"
#include "support/text.hpp"
#include "verify/array_check.hpp"

using gpusum::i128;

namespace {
constexpr int kSkipped = 77;  // SKIP_RETURN_CODE in tests/CMakeLists.txt

gpusum::Request request_for(gpusum::Progression p) {
    gpusum::Request request;
    request.series = p;
    return request;
}

}  // namespace

TEST_CASE("every GPU backend is exact on edge ranges") {
    const std::vector<gpusum::Range> edges = {
        {0, 0, 1},
        {0, 1, 1},
        {5, -5, -1},
        {0, 1'000'000'000, 1},
        {-1'000'000'000, 1'000'000'000, 3},
        {INT64_MAX - 100'000, INT64_MAX, 1},  // total far beyond 64 bits, huge elements
        {INT64_MIN, INT64_MIN + 100'000, 7},  // same, negative
        {INT64_MAX, INT64_MIN, -(INT64_C(1) << 50)},
        {0, INT64_C(1) << 34, 1},  // 2^34 elements, total ~2^67
        {INT64_C(1) << 40, -(INT64_C(1) << 40), -12345},
    };
    for (auto& backend : gpusum::make_cuda_backends()) {
        CAPTURE(std::string(backend->name()));
        REQUIRE(backend->availability().usable);
        for (const gpusum::Range& r : edges) {
            CAPTURE(r.start);
            CAPTURE(r.stop);
            CAPTURE(r.step);
            const auto p = gpusum::to_progression(r);
            const auto result = backend->sum(request_for(p));
            CHECK(gpusum::to_string(result.sum) == gpusum::to_string(gpusum::closed_form_sum(p)));
        }
    }
}

TEST_CASE("every GPU backend equals the CPU reference on seeded random ranges") {
    std::mt19937_64 rng(7);
    std::vector<gpusum::Range> ranges(60);
    for (auto& r : ranges) r = ref::random_range(rng, 200'000);
    for (auto& backend : gpusum::make_cuda_backends()) {
        CAPTURE(std::string(backend->name()));
        for (const gpusum::Range& r : ranges) {
            CAPTURE(r.start);
            CAPTURE(r.step);
            const auto result = backend->sum(request_for(gpusum::to_progression(r)));
            CHECK(gpusum::to_string(result.sum) == gpusum::to_string(ref::naive_sum(r)));
        }
    }
}

TEST_CASE("--devices: a request split over several devices is exact") {
    // Every device present, plus device 0 twice more: the split, one host
    // thread per part and the exact combination run even on a one-GPU machine.
    const std::size_t present = gpusum::gpu_inventory().devices.size();
    std::vector<int> devices;
    for (std::size_t d = 0; d < present; ++d) devices.push_back(static_cast<int>(d));
    devices.insert(devices.end(), {0, 0});
    std::mt19937_64 rng(11);
    for (auto& backend : gpusum::make_cuda_backends()) {
        CAPTURE(std::string(backend->name()));
        for (int i = 0; i < 10; ++i) {
            const gpusum::Range r = ref::random_range(rng, 5'000'000);
            gpusum::Request request = request_for(gpusum::to_progression(r));
            request.devices = devices;
            const auto result = backend->sum(request);
            CHECK(gpusum::to_string(result.sum) ==
                  gpusum::to_string(gpusum::closed_form_sum(gpusum::to_progression(r))));
        }
    }
}

TEST_CASE("an impossible allocation makes auto fall back to the CPU, still exact") {
    gpusum::BackendList backends;
    backends.push_back(gpusum::make_threads_backend());
    backends.push_back(gpusum::make_serial_backend());
    gpusum::CudaOptions options;
    options.extra_allocation_bytes = std::size_t{1} << 50;  // a petabyte
    for (auto& gpu : gpusum::make_cuda_backends(options)) backends.push_back(std::move(gpu));
    gpusum::Job job;
    job.range = {0, static_cast<std::int64_t>(gpusum::kGpuThreshold) * 2, 1};
    job.workers = 4;
    const auto out = gpusum::run_job(backends, job);
    CHECK(out.backend == "threads");
    CHECK(out.verified);
    REQUIRE_FALSE(out.notes.empty());
    CHECK(out.notes.front().find("cuda failed: cudaMalloc: cudaErrorMemoryAllocation") == 0);

    // The device still works after the failed allocation.
    job.backend = "cuda";
    gpusum::BackendList healthy = gpusum::make_cuda_backends();
    CHECK(gpusum::run_job(healthy, job).verified);
}

TEST_CASE("cuda and cub sum arrays of every type, resident and streamed") {
    std::mt19937_64 rng(15);
    // 80 M int64 (640 MB) streams in ten pieces; the others fit in one.
    std::vector<std::int64_t> big(80'000'000);
    for (auto& x : big) x = static_cast<std::int64_t>(rng());
    const gpusum::ArrayView big_view{reinterpret_cast<const unsigned char*>(big.data()), big.size(),
                                     gpusum::DType::int64};
    std::vector<std::uint64_t> raw(100'003);
    for (auto& x : raw) x = rng();
    std::vector<double> reals(1'000'000);
    std::normal_distribution<double> dist(0, 1e9);
    for (auto& x : reals) x = dist(rng);
    auto backends = gpusum::make_cuda_backends();
    for (int which : {0, 1}) {  // cuda, cub
        auto& backend = backends[static_cast<std::size_t>(which)];
        CAPTURE(std::string(backend->name()));
        REQUIRE(backend->cannot_sum(gpusum::ArrayView{nullptr, 0, gpusum::DType::int64}).empty());
        for (gpusum::DType t : {gpusum::DType::int8, gpusum::DType::int16, gpusum::DType::int32,
                                gpusum::DType::int64, gpusum::DType::uint8, gpusum::DType::uint16,
                                gpusum::DType::uint32, gpusum::DType::uint64}) {
            const gpusum::ArrayView view{reinterpret_cast<const unsigned char*>(raw.data()),
                                         raw.size() * 8 / gpusum::dtype_size(t), t};
            gpusum::Request request = request_for({});
            request.array = view;
            CAPTURE(std::string(gpusum::dtype_name(t)));
            CHECK(gpusum::to_string(backend->sum(request).sum) ==
                  gpusum::to_string(gpusum::check_sum_integers(view)));
        }
        gpusum::Request big_request = request_for({});
        big_request.array = big_view;
        CHECK(backend->sum(big_request).sum == gpusum::check_sum_integers(big_view));
        gpusum::Request real_request = request_for({});
        real_request.array = gpusum::ArrayView{reinterpret_cast<const unsigned char*>(reals.data()),
                                               reals.size(), gpusum::DType::float64};
        if (which == 0) {
            // The exact sum, to the bit, as on the CPU.
            const auto r = backend->sum(real_request);
            CHECK(gpusum::same_float(gpusum::rounded(r.real),
                                     gpusum::check_sum_floats(*real_request.array)));
        } else {
            CHECK_FALSE(
                backend->cannot_sum(gpusum::ArrayView{nullptr, 0, gpusum::DType::float64}).empty());
        }
    }
}

TEST_CASE("a series longer than one slice is summed in several launches, exactly") {
    // Slices hold 2^36 elements: this one takes two launches, the second of 3 elements.
    const gpusum::Progression p{-(INT64_C(1) << 35), (std::uint64_t{1} << 36) + 3, 1};
    for (auto& backend : gpusum::make_cuda_backends()) {
        CAPTURE(std::string(backend->name()));
        const auto result = backend->sum(request_for(p));
        CHECK(gpusum::to_string(result.sum) == gpusum::to_string(gpusum::closed_form_sum(p)));
        bool sliced = false;
        for (const auto& [key, value] : result.details) sliced |= key == "slices";
        CHECK(sliced);
    }
}

TEST_CASE("--mode array with cuda and cub: filled and summed in device memory, exact") {
    const auto backends = gpusum::make_cuda_backends();
    for (const char* name : {"cuda", "cub"}) {
        for (const gpusum::Range r : {gpusum::Range{-(INT64_C(1) << 30), INT64_C(3) << 30, 7},
                                      gpusum::Range{INT64_MAX - 3'000'000, INT64_MAX, 1}}) {
            gpusum::Job job;
            job.mode = gpusum::Mode::array;
            job.range = r;
            job.backend = name;
            CAPTURE(std::string(name));
            const gpusum::Outcome o = gpusum::run_job(backends, job);
            CHECK(o.verified);
            CHECK(o.source.find("device memory") != std::string::npos);
            bool against_peak = false;
            for (const auto& [key, value] : o.result.details)
                against_peak |= key == "of_memory_peak";
            CHECK(against_peak);
        }
    }
}

int main(int argc, char** argv) {
    const gpusum::GpuInventory gpus = gpusum::gpu_inventory();
    if (gpus.devices.empty()) {
        std::printf("no CUDA device: skipped (%s)\n", gpus.problem.c_str());
        return kSkipped;
    }
    for (const auto& d : gpus.devices) std::printf("CUDA device: %s\n", d.c_str());
    doctest::Context context(argc, argv);
    return context.run();
}
