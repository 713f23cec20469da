// A series on the device in slices, so the progress bar moves and Ctrl-C is
// seen between launches, without the device idling between them: up to
// `depth` slices are queued at once, each launch followed by the copy of
// its total, so while the host waits for slice i's total, slice i + 1 is
// already queued behind it. One launcher, its buffers and its stream serve
// every slice. Written against a small interface so a fake device tests the
// schedule on the CPU (tests/slice_schedule_test.cpp); gpu_backends.cu
// gives the CUDA one.
//
// Pipe: void enqueue(std::uint64_t slice, unsigned slot)  the slice's launch
//           and the copy of its total into `slot`, queued, not waited for
//       i128 collect(unsigned slot)  waits for that slot's copy; its total
// `after(slice)` runs once each slice is collected (progress, stop signals;
// it may throw, and the pipe's owner then waits for what is still queued).
#pragma once

#include <algorithm>
#include <cstdint>

#include "gpusum/series.hpp"

namespace gpusum::kernels {

template <class Pipe, class After>
i128 sum_slices(Pipe& pipe, std::uint64_t slices, unsigned depth, After&& after) {
    const std::uint64_t ahead = std::min<std::uint64_t>(depth, slices);
    for (std::uint64_t i = 0; i < ahead; ++i) pipe.enqueue(i, static_cast<unsigned>(i % depth));
    i128 total = 0;
    for (std::uint64_t i = 0; i < slices; ++i) {
        const auto slot = static_cast<unsigned>(i % depth);
        total += pipe.collect(slot);
        // The slot's total has been read: it can take the slice `depth` on.
        if (i + depth < slices) pipe.enqueue(i + depth, slot);
        after(i);
    }
    return total;
}

}  // namespace gpusum::kernels
