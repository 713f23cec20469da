// The request a test sums: a range, and optionally the workers and chunks.
#pragma once

#include "gpusum/backend.hpp"

namespace gpusum::testing {

inline Request request_for(Range r, unsigned workers = 1, std::uint64_t chunks = 100) {
    Request request;
    request.series = to_progression(r);
    request.workers = workers;
    request.chunks = chunks;
    return request;
}

}  // namespace gpusum::testing
