// Independent references for the tests: the plainest possible code, sharing
// nothing with the library beyond the Range type.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gpusum/series.hpp"

namespace ref {

using gpusum::i128;

// Python's range, element by element, in 128-bit arithmetic.
inline std::vector<std::int64_t> elements(gpusum::Range r, std::size_t limit = 1u << 20) {
    std::vector<std::int64_t> out;
    for (i128 x = r.start; r.step > 0 ? x < r.stop : x > r.stop; x += r.step) {
        out.push_back(static_cast<std::int64_t>(x));
        if (out.size() > limit) break;
    }
    return out;
}

inline i128 naive_sum(gpusum::Range r) {
    i128 total = 0;
    for (std::int64_t x : elements(r)) total += x;
    return total;
}

// Decimal text of a 128-bit value, by repeated division.
inline std::string decimal(i128 v) {
    if (v == 0) return "0";
    const bool negative = v < 0;
    std::string out;
    while (v != 0) {
        const int digit = static_cast<int>(v % 10);
        out.insert(out.begin(), static_cast<char>('0' + (digit < 0 ? -digit : digit)));
        v /= 10;
    }
    return negative ? "-" + out : out;
}

// Random ranges of modest length whose values span the whole int64 domain.
inline gpusum::Range random_range(std::mt19937_64& rng, std::uint64_t max_count) {
    std::uniform_int_distribution<std::uint64_t> count_dist(0, max_count);
    std::uniform_int_distribution<int> kind(0, 3);
    const std::uint64_t count = count_dist(rng);
    std::int64_t step;
    switch (kind(rng)) {
        case 0:
            step = 1;
            break;
        case 1:
            step = -static_cast<std::int64_t>(rng() % 1000 + 1);
            break;
        case 2:
            step = static_cast<std::int64_t>(rng() % 1'000'000'000 + 1);
            break;
        default:
            step = static_cast<std::int64_t>(rng() % 7) - 3;
            if (step == 0) step = 2;
    }
    // Pick a start such that every element fits in int64.
    const i128 span = static_cast<i128>(step) * static_cast<i128>(count > 0 ? count - 1 : 0);
    const i128 lo = INT64_MIN - (span < 0 ? span : 0);
    const i128 hi = INT64_MAX - (span > 0 ? span : 0);
    std::uniform_int_distribution<std::int64_t> start_dist(static_cast<std::int64_t>(lo),
                                                           static_cast<std::int64_t>(hi));
    std::int64_t start =
        rng() % 2 ? start_dist(rng) : static_cast<std::int64_t>(rng() % 2001) - 1000;
    if (start < lo || start > hi) start = static_cast<std::int64_t>(lo);
    const i128 stop = static_cast<i128>(start) + span + step;  // one past the last element
    const i128 clamped = stop > INT64_MAX ? INT64_MAX : stop < INT64_MIN ? INT64_MIN : stop;
    return {start, static_cast<std::int64_t>(clamped), step};
}

}  // namespace ref
