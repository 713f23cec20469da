// Helper threads that are a convenience, never a requirement.
#pragma once

#include <cstdint>
#include <functional>

namespace gpusum {

// Calls body(i) for every i in [0, count), on up to `workers` threads: the
// calling thread and as many helpers as can be started (under a thread limit
// perhaps none). Indices are handed out dynamically. The first exception a
// body throws is rethrown here once every thread has stopped.
void for_each_index(std::uint64_t count, unsigned workers,
                    const std::function<void(std::uint64_t)>& body);

}  // namespace gpusum
