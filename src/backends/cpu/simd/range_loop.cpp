// The CPU range loop. It really adds every element: the closed form is only
// ever used to check it. Vector recurrences (x += stride per lane) are not
// something compilers rewrite into a formula, and bench/ measures that the
// loop runs at the integer-add bound rather than in constant time.
#include <algorithm>

#include "backends/cpu/simd/loops.hpp"
#include "support/simd_targets.hpp"

namespace gpusum {

namespace {

// Lanes of 64-bit unsigned integers, one type per native vector width.
// Unsigned so that wrapping is defined: the sum modulo 2^64 is exact whenever
// the true total fits in int64.
// Lanes of 64-bit unsigned integers, one type per vector width in bytes.
// Unsigned so that wrapping is defined: the sum modulo 2^64 is exact whenever
// the true total fits in int64.
template <unsigned VectorBytes>
struct U64Lanes;
template <>
struct U64Lanes<16> {
    using type = std::uint64_t __attribute__((vector_size(16)));
};
template <>
struct U64Lanes<32> {
    using type = std::uint64_t __attribute__((vector_size(32)));
};
template <>
struct U64Lanes<64> {
    using type = std::uint64_t __attribute__((vector_size(64)));
};

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

#define GPUSUM_STAMP_WRAPPING(suffix, target_attr, vector_bytes)                  \
    target_attr std::uint64_t wrapping_##suffix(std::uint64_t f, std::uint64_t n, \
                                                std::uint64_t s) {                \
        return wrapping_body<U64Lanes<vector_bytes>::type>(f, n, s);              \
    }
GPUSUM_SIMD_TARGETS(GPUSUM_STAMP_WRAPPING)
#undef GPUSUM_STAMP_WRAPPING

#define GPUSUM_WRAPPING_LOOP(suffix, target_attr, vector_bytes) wrapping_##suffix,
constexpr WrappingLoop kWrappingLoops[] = {GPUSUM_SIMD_TARGETS(GPUSUM_WRAPPING_LOOP)};
#undef GPUSUM_WRAPPING_LOOP

}  // namespace

std::uint64_t sum_wrapping(std::int64_t first, std::uint64_t count, std::int64_t step) {
    return simd::pick(kWrappingLoops)(static_cast<std::uint64_t>(first), count,
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

}  // namespace gpusum
