// Array mode against the machine's read bandwidth, side by side in one run.
//
// The probe is the simplest possible read loop (four wrapping accumulators
// per thread, no exactness work); gpusum's threads backend sums the same
// bytes exactly. Each is run --repeat times, alternating, and the medians are
// compared. --data picks the array: int64 (a range), float64 (uniform in
// [-1, 1): the sliced path), float64-wide (magnitudes spread over 2^+-60:
// most blocks take the element-by-element path). Usage:
//   gpusum_array_bandwidth [--elements N] [--repeat R] [--workers W]
//                          [--data int64|float64|float64-wide] [--json FILE]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "backends/cpu/cpu_backends.hpp"
#include "backends/cpu/simd/targets.hpp"
#include "input/sources.hpp"
#include "probes.hpp"
#include "support/text.hpp"
#include "verify/array_check.hpp"

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    constexpr std::uint64_t kChunks = 100;
    std::uint64_t elements = std::uint64_t{1} << 29;  // 4 GiB of int64
    unsigned repeat = 7;
    unsigned workers = gpusum::usable_cores();
    std::string json_path;
    std::string data = "int64";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const auto value = gpusum::parse_int64(argv[i + 1]).value;
        if (flag == "--json") {
            json_path = argv[i + 1];
        } else if (flag == "--data") {
            data = argv[i + 1];
            if (data != "int64" && data != "float64" && data != "float64-wide") {
                std::fprintf(stderr,
                             "gpusum_array_bandwidth: --data: int64, float64 or float64-wide\n");
                return 2;
            }
        } else if (!value || *value < 1) {
            std::fprintf(stderr, "gpusum_array_bandwidth: %s: expected a positive integer\n",
                         flag.c_str());
            return 2;
        } else if (flag == "--elements") {
            elements = static_cast<std::uint64_t>(*value);
        } else if (flag == "--repeat") {
            repeat = static_cast<unsigned>(*value);
        } else if (flag == "--workers") {
            workers = static_cast<unsigned>(*value);
        } else {
            std::fprintf(stderr, "gpusum_array_bandwidth: unknown flag %s\n", flag.c_str());
            return 2;
        }
    }
    const gpusum::Progression series{-static_cast<std::int64_t>(elements / 2), elements, 1};
    const gpusum::HostArray array(series, workers, 100);
    gpusum::ArrayView view = array.view();
    if (data != "int64") {
        // Overwrite the int64 elements in place with doubles of the same size.
        auto* d = reinterpret_cast<double*>(const_cast<unsigned char*>(view.data));
        std::uint64_t state = 0x9e3779b97f4a7c15u;
        for (std::uint64_t i = 0; i < elements; ++i) {
            state = state * 6364136223846793005u + 1442695040888963407u;
            const double uniform = static_cast<double>(state >> 11) * 0x1p-52 - 1.0;
            d[i] = data == "float64" ? uniform
                                     : std::ldexp(uniform, static_cast<int>(state % 121) - 60);
        }
        view.dtype = gpusum::DType::float64;
    }
    const double expected_real =
        view.dtype == gpusum::DType::float64 ? gpusum::check_sum_floats(view, workers) : 0.0;
    auto backend = gpusum::make_threads_backend();
    gpusum::Request request;
    request.series = series;
    request.workers = workers;
    request.chunks = kChunks;
    request.array = view;

    std::vector<double> probe, summed;
    std::uint64_t sink = 0;
    bool exact = true;
    probes::read_probe(view, workers, kChunks, sink);  // warm-up
    for (unsigned r = 0; r < repeat; ++r) {
        const gpusum::Result result = backend->sum(request);
        probe.push_back(probes::read_probe(view, workers, kChunks, sink));
        summed.push_back(result.seconds.compute);
        std::printf("  run %u: gpusum %5.1f GB/s, probe %5.1f GB/s\n", r,
                    view.bytes() / result.seconds.compute / 1e9, view.bytes() / probe.back() / 1e9);
        exact = exact && (view.dtype == gpusum::DType::float64
                              ? gpusum::same_float(gpusum::rounded(result.real), expected_real)
                              : result.sum == gpusum::closed_form_sum(series));
    }
    const double bytes = static_cast<double>(view.bytes());
    const double probe_gbs = bytes / median(probe) / 1e9;
    const double sum_gbs = bytes / median(summed) / 1e9;
    std::printf("array: %s %s (%s), %u workers, median of %u\n", gpusum::grouped(elements).c_str(),
                data.c_str(), gpusum::bytes_text(bytes).c_str(), workers, repeat);
    std::printf("  read probe        %6.1f GB/s\n", probe_gbs);
    std::printf("  gpusum threads    %6.1f GB/s  (%.0f%% of the probe), exact: %s\n", sum_gbs,
                100 * sum_gbs / probe_gbs, exact ? "yes" : "NO");
    if (!json_path.empty()) {
        std::ofstream out(json_path);
        out << "{\n  \"benchmark\": \"array bandwidth\",\n  \"data\": \"" << data
            << "\",\n  \"elements\": " << elements << ",\n  \"bytes\": " << view.bytes()
            << ",\n  \"workers\": " << workers << ",\n  \"repeat\": " << repeat
            << ",\n  \"cpu_simd\": \"" << gpusum::simd::level()
            << "\",\n  \"probe_gb_per_s\": " << probe_gbs << ",\n  \"gpusum_gb_per_s\": " << sum_gbs
            << ",\n  \"ratio\": " << sum_gbs / probe_gbs
            << ",\n  \"exact\": " << (exact ? "true" : "false") << "\n}\n";
    }
    return exact ? 0 : 1;
}
