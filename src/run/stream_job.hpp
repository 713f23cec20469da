// Jobs over streams (standard input, FIFOs, compressed .npz members): the
// data summed a piece at a time as it arrives, in bounded memory, each piece
// checked by the same independent method as a whole array.
#pragma once

#include <string>

#include "run/job.hpp"

namespace gpusum {

class ArrayStream;

// Sums `stream` on the job's backend (or the one auto picks for a piece);
// `source` names it in reports. InputError for a stream that ends early or
// is malformed, and for options a stream cannot honour (--repeat, mpi).
Outcome sum_stream(const BackendList& backends, const Job& job, ArrayStream& stream,
                   std::string source);

}  // namespace gpusum
