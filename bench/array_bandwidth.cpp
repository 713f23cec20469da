// Array mode against the machine's read bandwidth, side by side in one run.
//
// The probe is the simplest possible read loop (four wrapping accumulators
// per thread, no exactness work); gpusum's threads backend sums the same
// bytes exactly, with and without its independent check (made in cache,
// block by block, for integers; a second pass for floats). Each is run
// --repeat times, alternating, and the medians are compared: the sum pass
// alone, the check, and the verified answer (bytes over the checked run's
// total plus any separate check: what a caller waits for). --data picks the array: int64 (a
// range), another integer type or bool (random values of the type, bools
// random bytes), float32 or float64 (uniform in [-1, 1): the sliced path),
// float64-wide (magnitudes spread over 2^+-60: most blocks take the
// element-by-element path). --elements counts int64-sized elements: every
// type fills the same bytes. Usage:
//   gpusum_array_bandwidth [--elements N] [--repeat R] [--workers W]
//                          [--data TYPE|float64-wide] [--json FILE]
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
#include "input/sources.hpp"
#include "probes.hpp"
#include "support/simd_targets.hpp"
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
            if (data != "float64-wide" && !gpusum::parse_dtype(data)) {
                std::fprintf(stderr,
                             "gpusum_array_bandwidth: --data: a dtype (int8, bool, float32, ...) "
                             "or float64-wide\n");
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
    const gpusum::ArrayView int64_view = array.view();  // what the probe reads
    gpusum::ArrayView view = int64_view;
    if (data != "int64") {
        // Overwrite the int64 elements in place with the type's values.
        const gpusum::DType type =
            data == "float64-wide" ? gpusum::DType::float64 : *gpusum::parse_dtype(data);
        auto* bytes = const_cast<unsigned char*>(view.data);
        std::uint64_t state = 0x9e3779b97f4a7c15u;
        const std::uint64_t count = view.bytes() / gpusum::dtype_size(type);
        for (std::uint64_t i = 0; i < count; ++i) {
            state = state * 6364136223846793005u + 1442695040888963407u;
            const double uniform = static_cast<double>(state >> 11) * 0x1p-52 - 1.0;
            if (type == gpusum::DType::float64) {
                const double x = data == "float64"
                                     ? uniform
                                     : std::ldexp(uniform, static_cast<int>(state % 121) - 60);
                std::memcpy(bytes + i * 8, &x, 8);
            } else if (type == gpusum::DType::float32) {
                const auto x = static_cast<float>(uniform);
                std::memcpy(bytes + i * 4, &x, 4);
            } else if (type == gpusum::DType::float16) {  // finite: exponent fields 1..29
                const auto x = static_cast<std::uint16_t>(((state >> 20) & 0x83ffU) |
                                                          ((1 + (state >> 40) % 29) << 10));
                std::memcpy(bytes + i * 2, &x, 2);
            } else {
                const std::uint64_t x = state >> 17;
                std::memcpy(bytes + i * gpusum::dtype_size(type), &x, gpusum::dtype_size(type));
            }
        }
        view = {view.data, count, type};
    }
    const bool real = gpusum::is_float(view.dtype);
    const double expected_real = real ? gpusum::check_sum_floats(view, workers) : 0.0;
    const gpusum::i128 expected_sum = real              ? 0
                                      : data == "int64" ? gpusum::closed_form_sum(series)
                                                        : gpusum::check_sum_integers(view, workers);
    auto backend = gpusum::make_threads_backend();
    gpusum::Request request;
    request.series = series;
    request.workers = workers;
    request.chunks = kChunks;
    request.array = view;

    std::vector<double> probe, summed, totals, checks;
    std::uint64_t sink = 0;
    bool exact = true;
    probes::read_probe(int64_view, workers, kChunks, sink);  // warm-up
    const double gigabytes = static_cast<double>(view.bytes()) / 1e9;
    gpusum::Request checking = request;  // as a job asks: checked in cache where the backend can
    checking.check_in_cache = true;
    for (unsigned r = 0; r < repeat; ++r) {
        const gpusum::Result result = backend->sum(request);  // the sum pass alone
        summed.push_back(result.seconds.compute);
        const gpusum::Result verified = backend->sum(checking);
        const auto t0 = std::chrono::steady_clock::now();
        bool checked = false;
        if (const auto& c = verified.in_cache_check)
            checked = gpusum::tiles(c->walked, view.count) &&
                      (real ? c->real && gpusum::same_float(c->real->value(), expected_real)
                            : c->total == expected_sum);
        else
            checked =
                real ? gpusum::same_float(gpusum::check_sum_floats(view, workers), expected_real)
                     : gpusum::check_sum_integers(view, workers) == expected_sum;
        checks.push_back(probes::seconds_since(t0));
        totals.push_back(verified.seconds.total() + checks.back());
        probe.push_back(probes::read_probe(int64_view, workers, kChunks, sink));
        std::printf(
            "  run %u: sum pass %5.1f GB/s, check %.3f s, verified %5.1f GB/s, probe %5.1f GB/s\n",
            r, gigabytes / result.seconds.compute, checks.back(), gigabytes / totals.back(),
            gigabytes / probe.back());
        exact = exact && checked &&
                (real ? gpusum::same_float(gpusum::rounded(result.real), expected_real) &&
                            gpusum::same_float(gpusum::rounded(verified.real), expected_real)
                      : result.sum == expected_sum && verified.sum == expected_sum);
    }
    const double bytes = static_cast<double>(view.bytes());
    const double probe_gbs = bytes / median(probe) / 1e9;
    const double sum_gbs = bytes / median(summed) / 1e9;
    const double verified_gbs = bytes / median(totals) / 1e9;
    std::printf("array: %s %s (%s), %u workers, median of %u\n",
                gpusum::grouped(view.count).c_str(), data.c_str(),
                gpusum::bytes_text(bytes).c_str(), workers, repeat);
    std::printf("  read probe        %6.1f GB/s\n", probe_gbs);
    std::printf("  sum pass          %6.1f GB/s  (%.0f%% of the probe), exact: %s\n", sum_gbs,
                100 * sum_gbs / probe_gbs, exact ? "yes" : "NO");
    std::printf("  check             %6.3f s\n", median(checks));
    std::printf("  verified answer   %6.1f GB/s  (%.0f%% of the probe)\n", verified_gbs,
                100 * verified_gbs / probe_gbs);
    if (!json_path.empty()) {
        std::ofstream out(json_path);
        out << "{\n  \"benchmark\": \"array bandwidth\",\n  \"data\": \"" << data
            << "\",\n  \"elements\": " << view.count << ",\n  \"bytes\": " << view.bytes()
            << ",\n  \"workers\": " << workers << ",\n  \"repeat\": " << repeat
            << ",\n  \"cpu_simd\": \"" << gpusum::simd::level()
            << "\",\n  \"probe_gb_per_s\": " << probe_gbs << ",\n  \"gpusum_gb_per_s\": " << sum_gbs
            << ",\n  \"ratio\": " << sum_gbs / probe_gbs
            << ",\n  \"check_seconds\": " << median(checks)
            << ",\n  \"verified_gb_per_s\": " << verified_gbs
            << ",\n  \"verified_ratio\": " << verified_gbs / probe_gbs
            << ",\n  \"exact\": " << (exact ? "true" : "false") << "\n}\n";
    }
    return exact ? 0 : 1;
}
