// Which backend runs a request, and why. Plain policy over the Backend
// interface; every decision carries a reason the user sees.
#pragma once

#include <string>
#include <vector>

#include "gpusum/backend.hpp"

namespace gpusum {

// Every backend this build has, in the order --compare runs them.
BackendList all_backends();

Backend* find_backend(const BackendList& backends, std::string_view name);

// "serial|threads|process|..." for help texts and errors.
std::string backend_names(const BackendList& backends);

struct Choice {
    Backend* backend = nullptr;
    std::string reason;  // why this backend is the one to try now
};

struct AutoPlan {
    std::vector<Choice> candidates;    // best first; the rest are fallbacks
    std::vector<std::string> skipped;  // backends passed over, with the reason
};

// Below this many elements of a range one core finishes before extra
// threads would even start (measured: docs/backends.md, "How auto picks").
inline constexpr std::uint64_t kParallelThreshold = std::uint64_t{1} << 24;

// Arrays are read at memory speed: below this many bytes one core's share
// of the bandwidth finishes before extra threads pay for starting
// (measured: docs/backends.md, "How auto picks").
inline constexpr std::uint64_t kParallelArrayBytes = std::uint64_t{24} << 20;  // 24 MiB

// Views gathered a block at a time (gaps, swapped bytes, float16) cost
// 0.5-2 ns per element of work on one core: below this many elements
// threads do not pay (measured: docs/backends.md, "How auto picks").
inline constexpr std::uint64_t kParallelGatheredElements = std::uint64_t{1} << 19;

// From this many elements the GPU wins end to end, device start-up included
// (measured: docs/backends.md, "How auto picks").
inline constexpr std::uint64_t kGpuThreshold = std::uint64_t{1} << 32;

AutoPlan plan_auto(const BackendList& backends, const Request& request);

}  // namespace gpusum
