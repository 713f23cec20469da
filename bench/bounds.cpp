// The machine's two bounds, as JSON on stdout:
//  - integer-add ALU rate: a register-only loop of independent vector adds,
//    one core at a time, times the cores (range mode needs two adds per
//    element: generate and accumulate), and
//  - memory read bandwidth: probes::read_probe over an int64 array.
// Usage: gpusum_bounds [--elements N] [--repeat R]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "backends/cpu/cpu_backends.hpp"
#include "input/sources.hpp"
#include "platform/platform.hpp"
#include "probes.hpp"
#include "support/simd_targets.hpp"
#include "support/text.hpp"

namespace {

using u64x2 = std::uint64_t __attribute__((vector_size(16)));
using u64x4 = std::uint64_t __attribute__((vector_size(32)));
using u64x8 = std::uint64_t __attribute__((vector_size(64)));

constexpr int kChains = 8;  // independent accumulators: throughput, not latency

// Runs `iterations` rounds of kChains independent vector adds, each chain
// opaque to the optimiser (the empty asm with vector register operands,
// `reg`) so no add can be shared, folded or hoisted; the chains are named
// variables so they stay in registers. Returns int64 adds. Stamped once per
// instruction set, because clang checks an asm operand's width in the
// function that holds it, which must be the one compiled for that width.
// NOLINTBEGIN(bugprone-macro-parentheses): V is a type, reg a constraint
#define GPUSUM_ADD_PROBE(name, target_attr, V, reg)                                           \
    target_attr std::uint64_t name(std::uint64_t iterations, std::uint64_t& sink) {           \
        V a0 = {}, a1 = {}, a2 = {}, a3 = {}, a4 = {}, a5 = {}, a6 = {}, a7 = {};             \
        const V inc = V{} + 1;                                                                \
        for (std::uint64_t i = 0; i < iterations; ++i) {                                      \
            a0 += inc;                                                                        \
            a1 += inc;                                                                        \
            a2 += inc;                                                                        \
            a3 += inc;                                                                        \
            a4 += inc;                                                                        \
            a5 += inc;                                                                        \
            a6 += inc;                                                                        \
            a7 += inc;                                                                        \
            asm("" : reg(a0), reg(a1), reg(a2), reg(a3), reg(a4), reg(a5), reg(a6), reg(a7)); \
        }                                                                                     \
        sink += (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7)[0];                                   \
        return iterations * kChains * (sizeof(V) / 8);                                        \
    }
// NOLINTEND(bugprone-macro-parentheses)

using AddProbe = std::uint64_t (*)(std::uint64_t, std::uint64_t&);

#if defined(__x86_64__)
GPUSUM_ADD_PROBE(adds_avx512, __attribute__((target("avx512f"))), u64x8, "+x")
GPUSUM_ADD_PROBE(adds_avx2, __attribute__((target("avx2"))), u64x4, "+x")
GPUSUM_ADD_PROBE(adds_sse2, , u64x2, "+x")
AddProbe add_probe() {
    return gpusum::simd::level() == "avx512f" ? adds_avx512
           : gpusum::simd::level() == "avx2"  ? adds_avx2
                                              : adds_sse2;
}
#elif defined(__aarch64__)
GPUSUM_ADD_PROBE(adds_neon, , u64x2, "+w")
AddProbe add_probe() {
    return adds_neon;
}
#else
#error "gpusum_bounds has an add probe for x86-64 and arm64 only"
#endif

// int64 adds per second of one core running alone, measured on each core in
// turn (pinned where the system allows), median taken. The bound for all cores is this times the
// core count: whatever the cores lose by sharing (SMT siblings, a power budget) shows as a fraction
// below 100%.
double alu_probe(unsigned cores) {
    const AddProbe adds = add_probe();
    constexpr std::uint64_t kIterations = 200'000'000;
    std::vector<double> rates;
    std::uint64_t sink = 0;
    for (unsigned c = 0; c < cores; ++c) {
        std::thread([&, c] {
            gpusum::platform::pin_thread_to_core(c);  // unpinned where it cannot be
            adds(kIterations / 10, sink);             // warm up the clock
            const auto t0 = std::chrono::steady_clock::now();
            const std::uint64_t n = adds(kIterations, sink);
            rates.push_back(static_cast<double>(n) / probes::seconds_since(t0));
        }).join();
    }
    std::sort(rates.begin(), rates.end());
    return rates[rates.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t elements = std::uint64_t{1} << 28;
    unsigned repeat = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const auto value = gpusum::parse_int64(argv[i + 1]).value;
        if (!value || *value < 1 || (flag != "--elements" && flag != "--repeat")) {
            std::fprintf(stderr,
                         "gpusum_bounds: usage: gpusum_bounds [--elements N] [--repeat R]\n");
            return 2;
        }
        if (flag == "--elements")
            elements = static_cast<std::uint64_t>(*value);
        else
            repeat = static_cast<unsigned>(*value);
    }
    const unsigned cores = gpusum::usable_cores();
    const double adds_per_core = alu_probe(cores);

    const gpusum::HostArray array(gpusum::Progression{0, elements, 1}, cores, 100);
    std::vector<double> reads;
    std::uint64_t sink = 0;
    probes::read_probe(array.view(), cores, 100, sink);
    for (unsigned r = 0; r < repeat; ++r)
        reads.push_back(probes::read_probe(array.view(), cores, 100, sink));
    std::sort(reads.begin(), reads.end());
    const double read_bytes_per_s =
        static_cast<double>(array.view().bytes()) / reads[reads.size() / 2];

    std::printf(
        "{\"cores\": %u, \"cpu_simd\": \"%s\", \"alu_int64_adds_per_second_per_core\": %.6g, "
        "\"range_bound_elements_per_second\": %.6g, \"read_bytes_per_second\": %.6g, "
        "\"array_bound_elements_per_second\": %.6g, \"probe_elements\": %llu, \"sink\": %llu}\n",
        cores, std::string(gpusum::simd::level()).c_str(), adds_per_core, adds_per_core * cores / 2,
        read_bytes_per_s, read_bytes_per_s / 8, static_cast<unsigned long long>(elements),
        static_cast<unsigned long long>(sink % 10));
    return 0;
}
