// The facade's checked runs, before they become a Sum: for the library's
// own front doors that need more of the run than a Sum says (an
// accumulator takes the exact float total, not its rounding).
#pragma once

#include "gpusum/gpusum.hpp"
#include "run/job.hpp"

namespace gpusum {

// As sum() (gpusum.hpp), returning the verified run: a mismatch throws
// Mismatch, never returns.
Outcome checked_sum(Range range, const Options& options);
Outcome checked_sum(ArrayView array, const Options& options);
Outcome checked_sum(DeviceArray array, const Options& options);

}  // namespace gpusum
