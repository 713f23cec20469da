// What every CPU backend does with one chunk, and how partials become a total.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backends.hpp"
#include "backends/cpu/simd/loops.hpp"
#include "support/progress.hpp"
#include "support/stop_signals.hpp"
#include "verify/array_check.hpp"

namespace gpusum {

// A chunk is summed in slices of at most this many elements (a fraction of
// a second each), so progress moves and Ctrl-C is seen within a chunk too.
inline constexpr std::uint64_t kSliceElements = std::uint64_t{1} << 28;

// Arrays checked in cache are summed in blocks of this many bytes: small
// enough that the check re-reads each from L1, large enough that the
// per-block costs vanish (measured from 16 KiB to 256 KiB: 32 KiB was best).
inline constexpr std::uint64_t kCheckBlockBytes = std::uint64_t{1} << 15;

// Whether a CPU backend checks `request` in cache (Request::check_in_cache).
inline bool checks_in_cache(const Request& request) {
    return request.check_in_cache && request.array && request.array->layout == nullptr;
}

// Sums `part` of `whole` block by block into `partial`; each block is then
// checked while it is in cache, into `check`, with the elements it walked.
inline void sum_checked(const ArrayView& whole, const ArrayView& part, Partial& partial,
                        CacheCheck& check) {
    const std::uint64_t size = dtype_size(part.dtype);
    const std::uint64_t per_block = kCheckBlockBytes / size;
    const bool real = is_float(part.dtype);
    if (real && !check.real) check.real = std::make_shared<FloatCheck>();
    for (std::uint64_t done = 0; done < part.count; done += per_block) {
        const ArrayView block{part.data + done * size, std::min(per_block, part.count - done),
                              part.dtype};
        if (real) {
            merge(partial.real, sum_floats(block));
            check.real->add_block(block);
        } else {
            partial.integer += sum_integers(block);
            check.total += check_block_integers(block);
        }
        const ElementRange walked{static_cast<std::uint64_t>(block.data - whole.data) / size,
                                  block.count};
        if (!check.walked.empty() &&
            check.walked.back().first + check.walked.back().count == walked.first)
            check.walked.back().count += walked.count;
        else
            check.walked.push_back(walked);
    }
}

// `check`, when given, receives the chunk's check made in cache.
inline Partial sum_chunk(const Request& request, std::uint64_t chunks, std::uint64_t index,
                         CacheCheck* check = nullptr) {
    Partial partial;
    const std::uint64_t count = chunk_begin(request.elements(), chunks, index + 1) -
                                chunk_begin(request.elements(), chunks, index);
    const std::uint64_t slices = count == 0 ? 1 : (count - 1) / kSliceElements + 1;
    for (std::uint64_t s = 0; s < slices; ++s) {
        throw_if_stopped();
        std::uint64_t elements;
        if (request.array) {
            const ArrayView part = chunk_of(chunk_of(*request.array, chunks, index), slices, s);
            if (check != nullptr)
                sum_checked(*request.array, part, partial, *check);
            else if (is_float(part.dtype))
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

// Exact in any order, integers and floats alike (only float partials carry
// digits worth merging).
inline void combine_partials(const std::vector<Partial>& partials, Result& result,
                             const Request& request) {
    const bool real = request.real();
    for (const Partial& p : partials) {
        result.sum += p.integer;
        if (real) merge(result.real, p.real);
    }
}

// The chunks' checks made in cache as one.
inline CacheCheck combine_checks(const std::vector<CacheCheck>& checks) {
    CacheCheck all;
    for (const CacheCheck& c : checks) {
        all.total += c.total;
        if (c.real && !all.real) all.real = std::make_shared<FloatCheck>();
        if (c.real) all.real->merge(*c.real);
        all.walked.insert(all.walked.end(), c.walked.begin(), c.walked.end());
    }
    return all;
}

}  // namespace gpusum
