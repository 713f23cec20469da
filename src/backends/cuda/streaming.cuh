// Arrays summed on a device: a host array streamed to it in pieces through
// pinned buffers (stream_schedule.hpp's schedule, with CUDA's calls), or an
// array already in its memory in launches; timed, combined and described
// alike for every GPU backend.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "array_plan.hpp"
#include "backends/cuda/cuda_support.cuh"
#include "backends/cuda/stream_schedule.hpp"
#include "gpusum/backend.hpp"
#include "support/progress.hpp"
#include "support/stopwatch.hpp"

namespace gpusum::kernels {

// Arrays reach the device in pieces (stream_schedule.hpp): small
// enough that the first copy and the last reduction, which nothing
// overlaps, are short; large enough that each copy runs at full PCIe speed.
constexpr std::uint64_t kPieceBytes = std::uint64_t{64} << 20;
constexpr unsigned kStreamSlots = 4;
static_assert(kPieceBytes <= kMaxArrayLaunchElements);

// The device calls the streaming schedule makes, as CUDA runtime calls.
// Made in setup: the pinned buffers it will hand out are claimed then (from
// a cache that keeps them for the process: pinning pages is slow).
struct CudaStreamApi {
    using Stream = cudaStream_t;
    using Event = cudaEvent_t;
    CudaStreamApi(unsigned slots, std::size_t bytes);
    ~CudaStreamApi();
    CudaStreamApi(const CudaStreamApi&) = delete;
    CudaStreamApi& operator=(const CudaStreamApi&) = delete;
    void* alloc_pinned(std::size_t bytes);
    void free_pinned(void* p) noexcept;
    void* alloc_device(std::size_t bytes);
    void free_device(void* p) noexcept;
    Stream create_stream();
    void destroy_stream(Stream s) noexcept;
    Event create_event();
    void destroy_event(Event e) noexcept;
    // Copies into pinned memory on several host threads (one core's memcpy
    // is slower than PCIe); sees Ctrl-C.
    void stage(void* pinned, const void* source, std::size_t bytes);
    void copy_to_device(void* device, const void* pinned, std::size_t bytes, Stream s);
    void record(Event e, Stream s);
    void wait(Event e);
    double seconds_between(Event a, Event b);
    void synchronize(Stream s) noexcept;
    void copy_to_host(void* host, const void* device, std::size_t bytes);
    std::vector<void*> claimed;
};

// Pieces add exactly, integers and floats alike.
void combine_pieces(const std::vector<i128>& pieces, Result& result);
void combine_pieces(const std::vector<ExactFloat>& pieces, Result& result);

// End to end (bytes over the whole stream, staging included) next to the
// copies' own DMA rate: the first is what a user gets.
void describe_stream(const StreamTimes& times, const ArrayView& a, Result& result);

// A sum of device memory, against what the device's memory can deliver.
void describe_device_sum(const ArrayView& a, int device, Result& result);

// Sums a host array streamed to the device (stream_schedule.hpp):
// claims the pinned buffers (ends setup), runs the stream (compute), adds
// the pieces (combine) and describes the stream. launch(data, n, out,
// stream, slot) enqueues one piece's reduction into `out` (one Acc: i128,
// or ExactFloat for floats, in device memory).
template <class T, class Acc, class Launch>
void sum_streamed(const ArrayView& a, Stopwatch& clock, Result& result, Progress* progress,
                  Launch&& launch) {
    const SlotPlan slots = plan_slots<T>(a.count, kPieceBytes / sizeof(T), kStreamSlots);
    CudaStreamApi api(slots.slots, slots.bytes);
    result.seconds.setup = clock.lap();
    StreamTimes times;
    const std::vector<Acc> pieces = stream_pieces<T, Acc>(
        api, a.data, a.count, kPieceBytes / sizeof(T), kStreamSlots,
        [&](const T* data, std::uint64_t n, cudaStream_t stream, Acc* out, unsigned slot) {
            launch(data, n, out, stream, slot);
            check(cudaGetLastError(), "launching a piece's reduction");
            if (progress != nullptr) progress->advance(n);
        },
        times);
    result.seconds.compute = clock.lap();
    combine_pieces(pieces, result);
    result.seconds.combine = clock.lap();
    describe_stream(times, a, result);
}

// Sums an array in device memory in launches of at most
// kMaxArrayLaunchElements (so each thread's accumulators stay exact), one
// stream, timed by events: launch(data, n, out, stream) enqueues one part's
// reduction into `out` (one Acc of device memory). Ends setup, sets compute
// and combine, and adds the parts into `result`.
template <class T, class Acc, class Launch>
void sum_in_launches(const ArrayView& a, Stopwatch& clock, Result& result, Launch&& launch) {
    const auto* data = reinterpret_cast<const T*>(a.data);
    const std::uint64_t most = kMaxArrayLaunchElements;
    const std::uint64_t parts = a.count == 0 ? 1 : (a.count - 1) / most + 1;
    DeviceBuffer<Acc> out(parts);
    const Stream stream;
    EventTimer timer(stream.get());
    result.seconds.setup += clock.lap();
    timer.start();
    for (std::uint64_t k = 0; k < parts; ++k)
        launch(data + k * most, std::min(most, a.count - k * most), out.get() + k, stream.get());
    result.seconds.compute = timer.stop();
    clock.lap();
    std::vector<Acc> sums(parts);
    check(cudaMemcpy(sums.data(), out.get(), parts * sizeof(Acc), cudaMemcpyDeviceToHost),
          "copying the sums back");
    combine_pieces(sums, result);
    result.seconds.combine = clock.lap();
}

}  // namespace gpusum::kernels
