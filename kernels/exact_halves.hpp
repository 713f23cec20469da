// Exact 128-bit totals from 64-bit pieces, shared by the CPU and GPU array
// loops (host and device code).
#pragma once

#include "gpusum/series.hpp"

namespace gpusum {

// A block of 64-bit values x = hi * 2^32 + lo (read as unsigned) was summed
// into: `wrapped`, the sum of the x modulo 2^64; `highs`, the exact sum of
// the hi halves (below 2^62 for blocks of at most 2^30 values); `negatives`,
// how many x were negative as signed values. Then the sum of the lo halves is
// wrapped - highs * 2^32 (mod 2^64, exact: it is below 2^62), and the block's
// true total is highs * 2^32 + lows, less negatives * 2^64 for signed data.
GPUSUM_HD constexpr i128 total_from_halves(std::uint64_t wrapped, std::uint64_t highs,
                                           std::uint64_t negatives, bool is_signed) {
    const std::uint64_t lows = wrapped - (highs << 32);
    i128 total = (static_cast<i128>(highs) << 32) + static_cast<i128>(lows);
    if (is_signed) total -= static_cast<i128>(negatives) << 64;
    return total;
}

// Blocks of this many values keep every 64-bit lane above exact.
inline constexpr std::uint64_t kExactHalvesBlock = std::uint64_t{1} << 30;

}  // namespace gpusum
