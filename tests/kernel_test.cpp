#include <doctest/doctest.h>

#include <chrono>

#include "backends/cpu/cpu_backends.hpp"
#include "backends/cpu/simd/loops.hpp"
#include "helpers/reference.hpp"
#include "support/text.hpp"

using gpusum::i128;

TEST_CASE("the vector loop equals a scalar loop modulo 2^64, at every length") {
    std::mt19937_64 rng(4);
    for (std::uint64_t n = 0; n < 300; ++n) {
        const auto first = static_cast<std::int64_t>(rng());
        const auto step = static_cast<std::int64_t>(rng());
        std::uint64_t expected = 0;
        std::uint64_t x = static_cast<std::uint64_t>(first);
        for (std::uint64_t i = 0; i < n; ++i, x += static_cast<std::uint64_t>(step)) expected += x;
        CAPTURE(n);
        CHECK(gpusum::sum_wrapping(first, n, step) == expected);
    }
}

TEST_CASE("sum_series is exact on random ranges, small and large values") {
    std::mt19937_64 rng(5);
    for (int i = 0; i < 3000; ++i) {
        const gpusum::Range r = ref::random_range(rng, 2000);
        CAPTURE(r.start);
        CAPTURE(r.stop);
        CAPTURE(r.step);
        CHECK(gpusum::to_string(gpusum::sum_series(gpusum::to_progression(r))) ==
              gpusum::to_string(ref::naive_sum(r)));
    }
}

TEST_CASE("totals beyond 64 bits use exact blocks, not wraparound") {
    // 2^24 elements between 2^40 and 2^41: the total is about 2^64.6, beyond int64,
    // while every block handed to the vector loop stays exact.
    const gpusum::Progression p{std::int64_t{1} << 40, std::uint64_t{1} << 24, 65536};
    const i128 got = gpusum::sum_series(p);
    CHECK(got > i128{INT64_MAX});
    CHECK(got == gpusum::closed_form_sum(p));
    // Elements near INT64_MAX: every pair overflows int64, the wide path runs.
    const gpusum::Progression top{INT64_MAX - 999, 1000, 1};
    CHECK(gpusum::sum_series(top) == gpusum::closed_form_sum(top));
    const gpusum::Progression bottom{INT64_MIN, 1000, 1};
    CHECK(gpusum::sum_series(bottom) == gpusum::closed_form_sum(bottom));
}

TEST_CASE("the loop really adds: time grows with the element count") {
    // A loop folded into a formula would take the same time for any length.
    auto seconds = [](std::uint64_t n) {
        const auto t0 = std::chrono::steady_clock::now();
        volatile std::uint64_t sink = gpusum::sum_wrapping(3, n, 7);
        (void)sink;
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    seconds(1 << 20);  // warm up
    const double small = seconds(1 << 20);
    const double large = seconds(1 << 28);
    CHECK(large > 20 * small);
}
