// Array mode against the machine's read bandwidth, side by side in one run.
//
// The probe is the simplest possible read loop (four wrapping accumulators
// per thread, no exactness work); gpusum's threads backend sums the same
// int64 array exactly. Each is run --repeat times, alternating, and the
// medians are compared. Usage:
//   gpusum_array_bandwidth [--elements N] [--repeat R] [--workers W] [--json FILE]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "gpusum/cpu.hpp"
#include "gpusum/input.hpp"
#include "gpusum/text.hpp"

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Reads every byte once, as fast as plain C++ can: the bound to compare with.
// Scheduled exactly like the threads backend (workers started and waiting,
// then the same chunks handed out by an atomic counter), so only the loop
// differs between the two measurements.
double read_probe(const gpusum::ArrayView& a, unsigned workers, std::uint64_t chunks,
                  std::uint64_t& sink) {
    std::vector<std::uint64_t> sums(workers);
    std::atomic<std::uint64_t> next{0};
    std::latch ready(workers);
    std::latch go(1);
    std::vector<std::thread> threads;
    for (unsigned w = 0; w < workers; ++w) {
        threads.emplace_back([&, w] {
            ready.count_down();
            go.wait();
            std::uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (std::uint64_t c; (c = next.fetch_add(1)) < chunks;) {
                const gpusum::ArrayView part = gpusum::chunk_of(a, chunks, c);
                const auto* p = reinterpret_cast<const std::uint64_t*>(part.data);
                std::uint64_t i = 0;
                for (; i + 4 <= part.count; i += 4) {
                    s0 += p[i];
                    s1 += p[i + 1];
                    s2 += p[i + 2];
                    s3 += p[i + 3];
                }
                for (; i < part.count; ++i) s0 += p[i];
            }
            sums[w] = s0 + s1 + s2 + s3;
        });
    }
    ready.wait();
    const auto t0 = std::chrono::steady_clock::now();
    go.count_down();
    for (auto& t : threads) t.join();
    const double s = seconds_since(t0);
    for (auto v : sums) sink += v;
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    constexpr std::uint64_t kChunks = 100;
    std::uint64_t elements = std::uint64_t{1} << 29;  // 4 GiB of int64
    unsigned repeat = 7;
    unsigned workers = gpusum::online_cores();
    std::string json_path;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const auto value = gpusum::parse_int64(argv[i + 1]).value;
        if (flag == "--json") {
            json_path = argv[i + 1];
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
    const gpusum::ArrayView view = array.view();
    auto backend = gpusum::make_threads_backend();
    const gpusum::Request request{series, workers, kChunks, nullptr, 0, view};

    std::vector<double> probe, summed;
    std::uint64_t sink = 0;
    bool exact = true;
    read_probe(view, workers, kChunks, sink);  // warm-up
    for (unsigned r = 0; r < repeat; ++r) {
        const gpusum::Result result = backend->sum(request);
        probe.push_back(read_probe(view, workers, kChunks, sink));
        summed.push_back(result.seconds.compute);
        std::printf("  run %u: gpusum %5.1f GB/s, probe %5.1f GB/s\n", r,
                    view.bytes() / result.seconds.compute / 1e9, view.bytes() / probe.back() / 1e9);
        exact = exact && result.sum == gpusum::closed_form_sum(series);
    }
    const double bytes = static_cast<double>(view.bytes());
    const double probe_gbs = bytes / median(probe) / 1e9;
    const double sum_gbs = bytes / median(summed) / 1e9;
    std::printf("array: %s int64 (%s), %u workers, median of %u\n",
                gpusum::grouped(elements).c_str(), gpusum::bytes_text(bytes).c_str(), workers,
                repeat);
    std::printf("  read probe        %6.1f GB/s\n", probe_gbs);
    std::printf("  gpusum threads    %6.1f GB/s  (%.0f%% of the probe), exact: %s\n", sum_gbs,
                100 * sum_gbs / probe_gbs, exact ? "yes" : "NO");
    if (!json_path.empty()) {
        std::ofstream out(json_path);
        out << "{\n  \"benchmark\": \"array bandwidth\",\n  \"elements\": " << elements
            << ",\n  \"bytes\": " << view.bytes() << ",\n  \"workers\": " << workers
            << ",\n  \"repeat\": " << repeat << ",\n  \"cpu_simd\": \"" << gpusum::simd_level()
            << "\",\n  \"probe_gb_per_s\": " << probe_gbs << ",\n  \"gpusum_gb_per_s\": " << sum_gbs
            << ",\n  \"ratio\": " << sum_gbs / probe_gbs
            << ",\n  \"exact\": " << (exact ? "true" : "false") << "\n}\n";
    }
    return exact ? 0 : 1;
}
