#include <doctest/doctest.h>

#include "gpusum/series.hpp"
#include "helpers/reference.hpp"
#include "support/text.hpp"

using gpusum::i128;
using gpusum::Range;

namespace {
constexpr std::int64_t kMin = INT64_MIN;
constexpr std::int64_t kMax = INT64_MAX;

i128 closed(Range r) {
    return gpusum::closed_form_sum(gpusum::to_progression(r));
}
}  // namespace

TEST_CASE("element_count follows Python range semantics") {
    CHECK(gpusum::element_count({0, 10, 1}) == 10);
    CHECK(gpusum::element_count({0, 10, 3}) == 4);   // 0 3 6 9
    CHECK(gpusum::element_count({10, 0, -3}) == 4);  // 10 7 4 1
    CHECK(gpusum::element_count({10, 0, 1}) == 0);   // empty, wrong direction
    CHECK(gpusum::element_count({0, 10, -1}) == 0);
    CHECK(gpusum::element_count({5, 5, 1}) == 0);
    CHECK(gpusum::element_count({5, 6, 100}) == 1);
    CHECK(gpusum::element_count({kMin, kMax, 1}) == UINT64_MAX);
    CHECK(gpusum::element_count({kMax, kMin, -1}) == UINT64_MAX);
    CHECK(gpusum::element_count({kMin, kMax, kMax}) == 3);  // MIN, -1, MAX-1
    CHECK(gpusum::element_count({kMax, kMin, kMin}) == 2);  // MAX, -1
    std::mt19937_64 rng(1);
    for (int i = 0; i < 2000; ++i) {
        const Range r = ref::random_range(rng, 300);
        CHECK(gpusum::element_count(r) == ref::elements(r).size());
    }
}

TEST_CASE("closed form equals the element-by-element sum") {
    CHECK(closed({0, 0, 1}) == 0);
    CHECK(closed({7, 8, 1}) == 7);
    CHECK(closed({0, 1'000'000'000, 1}) == i128{999'999'999} * 1'000'000'000 / 2);
    CHECK(closed({kMax, kMin, kMin}) == ref::naive_sum({kMax, kMin, kMin}));
    CHECK(closed({kMin, kMax, kMax}) == ref::naive_sum({kMin, kMax, kMax}));
    CHECK(closed({kMax - 10, kMax, 1}) == ref::naive_sum({kMax - 10, kMax, 1}));
    CHECK(closed({kMin, kMin + 10, 1}) == ref::naive_sum({kMin, kMin + 10, 1}));
    CHECK(closed({kMin, kMin + 3, 1}) < i128{kMin} * 2);  // beyond 64 bits
    std::mt19937_64 rng(2);
    for (int i = 0; i < 2000; ++i) {
        const Range r = ref::random_range(rng, 500);
        CHECK(gpusum::to_string(closed(r)) == gpusum::to_string(ref::naive_sum(r)));
    }
}

TEST_CASE("closed form of the widest ranges, checked by symmetry") {
    // -MAX..MAX cancels to 0, so MIN..MAX-1 sums to MIN - MAX = 1 - 2^64.
    CHECK(closed({kMin, kMax, 1}) == 1 - (i128{1} << 64));
    CHECK(closed({kMax, kMin, -1}) == 0);  // MAX down to -MAX
    // MIN + 2k for k < 2^63: 2^63 * MIN + 2^63 * (2^63 - 1) = -2^63.
    CHECK(closed({kMin, kMax, 2}) == -(i128{1} << 63));
}

TEST_CASE("chunks cover every element exactly once, in order") {
    std::mt19937_64 rng(3);
    for (int i = 0; i < 500; ++i) {
        const Range r = ref::random_range(rng, 1000);
        const auto p = gpusum::to_progression(r);
        const std::uint64_t chunks = gpusum::effective_chunks(p.count, rng() % 150 + 1);
        CHECK(chunks >= 1);
        CHECK(chunks <= std::max<std::uint64_t>(p.count, 1));
        std::vector<std::int64_t> seen;
        std::uint64_t smallest = UINT64_MAX, largest = 0;
        for (std::uint64_t c = 0; c < chunks; ++c) {
            const auto chunk = gpusum::chunk_of(p, chunks, c);
            smallest = std::min(smallest, chunk.count);
            largest = std::max(largest, chunk.count);
            for (std::uint64_t k = 0; k < chunk.count; ++k) seen.push_back(chunk.at(k));
        }
        CHECK(seen == ref::elements(r));
        CHECK(largest - smallest <= 1);
    }
    CHECK(gpusum::effective_chunks(5, 100) == 5);
    CHECK(gpusum::effective_chunks(0, 100) == 1);
    CHECK(gpusum::effective_chunks(UINT64_MAX, 100) == 100);
    CHECK(gpusum::chunk_begin(UINT64_MAX, 100, 100) == UINT64_MAX);
}

TEST_CASE("exact_int64_block bounds every block total by INT64_MAX") {
    const auto p = gpusum::to_progression({0, 1'000'000'000, 1});
    const std::uint64_t n = gpusum::exact_int64_block(p);
    CHECK(i128{n} * 999'999'999 <= kMax);
    CHECK(i128{n + 1} * 999'999'999 > kMax);
    CHECK(gpusum::exact_int64_block(gpusum::to_progression({kMin, kMin + 5, 1})) == 1);
    CHECK(gpusum::exact_int64_block(gpusum::to_progression({0, 1, 1})) == UINT64_MAX);
}
