// What every CPU backend does with one chunk, and how partials become a total.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backends.hpp"
#include "backends/cpu/simd/loops.hpp"
#include "support/progress.hpp"
#include "support/stop_signals.hpp"

namespace gpusum {

// A chunk is summed in slices of at most this many elements (a fraction of
// a second each), so progress moves and Ctrl-C is seen within a chunk too.
inline constexpr std::uint64_t kSliceElements = std::uint64_t{1} << 28;

inline Partial sum_chunk(const Request& request, std::uint64_t chunks, std::uint64_t index) {
    Partial partial;
    const std::uint64_t count = chunk_begin(request.elements(), chunks, index + 1) -
                                chunk_begin(request.elements(), chunks, index);
    const std::uint64_t slices = count == 0 ? 1 : (count - 1) / kSliceElements + 1;
    for (std::uint64_t s = 0; s < slices; ++s) {
        throw_if_stopped();
        std::uint64_t elements;
        if (request.array) {
            const ArrayView part = chunk_of(chunk_of(*request.array, chunks, index), slices, s);
            if (is_float(part.dtype))
                merge(partial.real, sum_floats(part));
            else
                partial.integer += sum_integers(part);
            elements = part.count;
        } else {
            const Progression part = chunk_of(chunk_of(request.series, chunks, index), slices, s);
            partial.integer += sum_series(part);
            elements = part.count;
        }
        if (request.progress != nullptr) request.progress->advance(elements);
    }
    return partial;
}

// The `limited` detail of a run that could start fewer workers than asked.
inline std::string fewer_workers(unsigned asked, unsigned started, const std::string& why) {
    return std::to_string(asked) + " workers asked, " + std::to_string(started) + " started (" +
           why + ")";
}

// A result with the parallelism a CPU backend will use: the effective chunk
// count, and no more workers than chunks.
inline Result parallel_shape(const Request& request) {
    Result result;
    result.chunks = effective_chunks(request.elements(), request.chunks);
    result.workers = static_cast<unsigned>(
        std::min<std::uint64_t>(std::max(request.workers, 1U), result.chunks));
    return result;
}

// Exact in any order, integers and floats alike.
inline void combine_partials(const std::vector<Partial>& partials, Result& result) {
    for (const Partial& p : partials) {
        result.sum += p.integer;
        merge(result.real, p.real);
    }
}

}  // namespace gpusum
