#include "backends/parts.hpp"

#include <algorithm>
#include <exception>
#include <thread>

#include "support/stopwatch.hpp"
#include "support/text.hpp"

namespace gpusum {

Share share_of(std::uint64_t elements, std::uint64_t chunks, std::uint64_t parts,
               std::uint64_t part) {
    Share s;
    s.first_chunk = chunk_begin(chunks, parts, part);
    s.chunks = chunk_begin(chunks, parts, part + 1) - s.first_chunk;
    s.begin = chunk_begin(elements, chunks, s.first_chunk);
    s.count = chunk_begin(elements, chunks, s.first_chunk + s.chunks) - s.begin;
    return s;
}

Request part_of(const Request& whole, const Share& share) {
    Request part = whole;
    part.chunks = std::max<std::uint64_t>(share.chunks, 1);
    if (whole.array) {
        part.array->data = whole.array->data + share.begin * dtype_size(whole.array->dtype);
        part.array->count = share.count;
    } else {
        part.series = Progression{share.count > 0 ? whole.series.at(share.begin) : 0, share.count,
                                  whole.series.step};
    }
    return part;
}

Result sum_in_parts(const Request& request, unsigned parts, const PartSum& part_sum,
                    std::string_view label) {
    Stopwatch clock;
    const std::uint64_t chunks = effective_chunks(request.elements(), request.chunks);
    std::vector<Result> results(parts);
    std::vector<std::exception_ptr> errors(parts);
    std::vector<std::thread> threads;
    for (unsigned p = 0; p < parts; ++p) {
        threads.emplace_back([&, p] {
            try {
                // The parts share request.progress, which counts atomically.
                results[p] =
                    part_sum(part_of(request, share_of(request.elements(), chunks, parts, p)), p);
            } catch (...) {
                errors[p] = std::current_exception();
            }
        });
    }
    for (auto& t : threads) t.join();
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);

    Result total;
    total.chunks = chunks;
    total.workers = 0;
    for (unsigned p = 0; p < parts; ++p) {
        const Result& r = results[p];
        total.sum += r.sum;
        merge(total.real, r.real);
        total.workers += r.workers;
        total.retried_chunks += r.retried_chunks;
        // Parts run side by side: each phase lasts as long as its slowest part.
        total.seconds.setup = std::max(total.seconds.setup, r.seconds.setup);
        const std::string prefix = std::string(label) + " " + std::to_string(p) + " ";
        for (const auto& [key, value] : r.details) total.details.emplace_back(prefix + key, value);
    }
    total.seconds.compute = clock.lap() - total.seconds.setup;
    return total;
}

}  // namespace gpusum
