// The CPU's summing loops, vectorised for each target of support/simd_targets.hpp. They
// add every element (the closed form and the checks are elsewhere).
#pragma once

#include <cstdint>

#include "gpusum/array.hpp"
#include "gpusum/series.hpp"

namespace gpusum {

// The exact sum of `p`, computed by adding every element. Blocks whose total
// provably fits in int64 run on a vectorised wrapping-int64 loop; elements too
// large for that go through a 128-bit accumulator.
i128 sum_series(Progression p);

// Its two halves, exposed for tests and benchmarks.
std::uint64_t sum_wrapping(std::int64_t first, std::uint64_t count, std::int64_t step);
i128 sum_wide(Progression p);

// Arrays, at memory bandwidth, exact.
// Integers: 64-bit elements are split into 32-bit halves whose sums cannot
// overflow their 64-bit lanes, so no element pattern can wrap.
i128 sum_integers(ArrayView a);
// Floats (float32 widened to double, exactly): the exact total
// (exact_float.hpp), normalised; rounded() gives the double to report.
ExactFloat sum_floats(ArrayView a);

}  // namespace gpusum
