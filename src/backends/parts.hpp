// One request split over several parts (MPI ranks, GPUs). Part i gets a run of
// whole chunks of the request, so every boundary is a chunk boundary and
// every element belongs to exactly one part.
#pragma once

#include <functional>

#include "gpusum/backend.hpp"

namespace gpusum {

struct Share {
    std::uint64_t first_chunk = 0;
    std::uint64_t chunks = 0;  // 0 when there are more parts than chunks
    std::uint64_t begin = 0;   // first element
    std::uint64_t count = 0;   // elements
};

// Part `part` of `parts`, of `elements` elements cut into `chunks` chunks (as
// effective_chunks gives them).
Share share_of(std::uint64_t elements, std::uint64_t chunks, std::uint64_t parts,
               std::uint64_t part);

// `whole` restricted to `share`: its elements (series or array) and its chunks.
Request part_of(const Request& whole, const Share& share);

// Sums `request` as `parts` shares at once, one host thread per part, each by
// part_sum(its request, its index), and combines the partials exactly: the
// integers in 128 bits, floats pairwise in part order. `label` names the
// parts in the details ("device" gives "device 0: ...").
using PartSum = std::function<Result(const Request& part, unsigned index)>;
Result sum_in_parts(const Request& request, unsigned parts, const PartSum& part_sum,
                    std::string_view label);

}  // namespace gpusum
