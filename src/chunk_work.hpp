// What every CPU backend does with one chunk, and how partials become a total.
#pragma once

#include <vector>

#include "gpusum/cpu.hpp"
#include "gpusum/progress.hpp"

namespace gpusum {

inline i128 sum_chunk(const Request& request, std::uint64_t chunks, std::uint64_t index) {
    const Progression chunk = chunk_of(request.series, chunks, index);
    const i128 partial = sum_series(chunk);
    if (request.progress != nullptr) request.progress->advance(chunk.count);
    return partial;
}

// Exact in any order; chunk order keeps runs reproducible step by step.
inline i128 combine_in_order(const std::vector<i128>& partials) {
    i128 total = 0;
    for (const i128 p : partials) total += p;
    return total;
}

}  // namespace gpusum
