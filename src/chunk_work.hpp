// What every CPU backend does with one chunk, and how partials become a total.
#pragma once

#include <algorithm>
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

// A result with the parallelism a CPU backend will use: the effective chunk
// count, and no more workers than chunks.
inline Result parallel_shape(const Request& request) {
    Result result;
    result.chunks = effective_chunks(request.series.count, request.chunks);
    result.workers = static_cast<unsigned>(
        std::min<std::uint64_t>(std::max(request.workers, 1U), result.chunks));
    return result;
}

// Exact in any order; chunk order keeps runs reproducible step by step.
inline i128 combine_in_order(const std::vector<i128>& partials) {
    i128 total = 0;
    for (const i128 p : partials) total += p;
    return total;
}

}  // namespace gpusum
