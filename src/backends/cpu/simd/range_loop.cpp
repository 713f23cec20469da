// The CPU summing loop. It really adds every element: the closed form is only
// ever used to check it. Vector recurrences (x += stride per lane) are not
// something compilers rewrite into a formula, and bench/ measures that the
// loop runs at the integer-add bound rather than in constant time.
#include <algorithm>

#include "backends/cpu/cpu_backends.hpp"
#include "platform/platform.hpp"

namespace gpusum {

namespace {

// Lanes of 64-bit unsigned integers, one type per native vector width.
// Unsigned so that wrapping is defined: the sum modulo 2^64 is exact whenever
// the true total fits in int64.
using u64x2 = std::uint64_t __attribute__((vector_size(16)));
using u64x4 = std::uint64_t __attribute__((vector_size(32)));
using u64x8 = std::uint64_t __attribute__((vector_size(64)));

constexpr std::uint64_t kAccumulators = 4;  // independent chains hide add latency

// Below this many elements per exact block, vector set-up costs more than it saves.
constexpr std::uint64_t kMinVectorBlock = 256;

// The loop itself, written once for any vector width. Each lane walks its own
// elements (x += stride) and adds them into its accumulator: two adds per
// element vector, no multiplications in the loop.
template <class V>
__attribute__((always_inline)) inline std::uint64_t wrapping_body(std::uint64_t first,
                                                                  std::uint64_t count,
                                                                  std::uint64_t step) {
    constexpr std::uint64_t lanes = sizeof(V) / sizeof(std::uint64_t);
    constexpr std::uint64_t per_iteration = lanes * kAccumulators;
    V lane{};
    for (std::uint64_t k = 0; k < lanes; ++k) lane[k] = k;
    V x[kAccumulators];
    V acc[kAccumulators];
    for (std::uint64_t a = 0; a < kAccumulators; ++a) {
        x[a] = first + (lane + a * lanes) * step;
        acc[a] = V{};
    }
    const V stride = V{} + per_iteration * step;
    const std::uint64_t iterations = count / per_iteration;
    for (std::uint64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 4
        for (std::uint64_t a = 0; a < kAccumulators; ++a) {
            acc[a] += x[a];
            x[a] += stride;
        }
    }
    V total_v = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    std::uint64_t total = 0;
    for (std::uint64_t k = 0; k < lanes; ++k) total += total_v[k];
    std::uint64_t value = first + iterations * per_iteration * step;
    for (std::uint64_t i = iterations * per_iteration; i < count; ++i) {
        total += value;
        value += step;
    }
    return total;
}

using WrappingLoop = std::uint64_t (*)(std::uint64_t, std::uint64_t, std::uint64_t);

#if defined(__x86_64__)
__attribute__((target("avx512f"))) std::uint64_t wrapping_avx512(std::uint64_t f, std::uint64_t n,
                                                                 std::uint64_t s) {
    return wrapping_body<u64x8>(f, n, s);
}
__attribute__((target("avx2"))) std::uint64_t wrapping_avx2(std::uint64_t f, std::uint64_t n,
                                                            std::uint64_t s) {
    return wrapping_body<u64x4>(f, n, s);
}
#endif
std::uint64_t wrapping_baseline(std::uint64_t f, std::uint64_t n, std::uint64_t s) {
    return wrapping_body<u64x2>(f, n, s);
}

struct Selected {
    WrappingLoop loop;
    std::string_view level;
};

// Picked once, for the widest vectors this CPU has.
Selected select_loop() {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return {wrapping_avx512, "avx512f"};
    if (__builtin_cpu_supports("avx2")) return {wrapping_avx2, "avx2"};
    return {wrapping_baseline, "sse2"};
#elif defined(__aarch64__)
    return {wrapping_baseline, "neon"};  // Advanced SIMD is part of every arm64 core
#else
    return {wrapping_baseline, "generic"};
#endif
}

// On first use, not at static initialisation: other files' initialisers
// may ask first, in an order the linker decides (the Python module's did,
// and got an empty level, hence SSE2 loops).
const Selected& selected() {
    static const Selected choice = select_loop();
    return choice;
}

}  // namespace

std::uint64_t sum_wrapping(std::int64_t first, std::uint64_t count, std::int64_t step) {
    return selected().loop(static_cast<std::uint64_t>(first), count,
                           static_cast<std::uint64_t>(step));
}

i128 sum_wide(Progression p) {
    i128 total = 0;
    std::uint64_t x = static_cast<std::uint64_t>(p.first);
    for (std::uint64_t i = 0; i < p.count; ++i) {
        // Opaque to the optimiser, so the loop cannot become a formula.
        asm("" : "+r"(x));
        total += static_cast<std::int64_t>(x);
        x += static_cast<std::uint64_t>(p.step);
    }
    return total;
}

i128 sum_series(Progression p) {
    const std::uint64_t block = exact_int64_block(p);
    if (block < kMinVectorBlock) return sum_wide(p);
    i128 total = 0;
    for (std::uint64_t done = 0; done < p.count;) {
        const std::uint64_t n = std::min(block, p.count - done);
        total += static_cast<std::int64_t>(sum_wrapping(p.at(done), n, p.step));
        done += n;
    }
    return total;
}

std::string_view simd_level() {
    return selected().level;
}

unsigned usable_cores() {
    return platform::usable_cores();
}

}  // namespace gpusum
