// The host side of summing a host array on a device: pieces staged into a
// few pinned buffers (slots) and copied and reduced on a stream each, so the
// CPU stages piece k + 1 while the device copies piece k and reduces k - 1. Written against a
// small interface of the device calls it makes (`Api`), so that a fake
// device tests the schedule, its error paths and its clean-up on the CPU;
// streaming.cuh gives the CUDA one.
//
// Api: Stream and Event handle types, and
//   void* alloc_pinned(bytes), free_pinned(p); void* alloc_device(bytes), free_device(p);
//   Stream create_stream(), destroy_stream(s); Event create_event(), destroy_event(e);
//   stage(pinned, source, bytes)                    host copy into a pinned buffer
//   copy_to_device(device, pinned, bytes, stream)   asynchronous
//   record(event, stream); wait(event); double seconds_between(event, event)
//   synchronize(stream) noexcept                    the clean-up's wait
//   copy_to_host(host, device, bytes)               synchronous
// Every call but the releases and synchronize throws BackendError on failure.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

namespace gpusum::kernels {

struct StreamTimes {
    double h2d = 0;     // summed device time of the host-to-device copies
    double kernel = 0;  // summed device time of the reductions
    std::uint64_t pieces = 0;
};

// One device resource, released when it goes out of scope.
template <class Api, class Handle>
class Owned {
  public:
    using Release = void (Api::*)(Handle) noexcept;
    Owned(Api& api, Handle handle, Release release)
        : api_(api), handle_(handle), release_(release) {}
    ~Owned() { (api_.*release_)(handle_); }
    Owned(const Owned&) = delete;
    Owned& operator=(const Owned&) = delete;
    Handle get() const { return handle_; }

  private:
    Api& api_;
    Handle handle_;
    Release release_;
};

// A pinned buffer, its device twin, its stream and the events that time it.
template <class Api>
struct StreamSlot {
    StreamSlot(Api& api, std::size_t bytes)
        : api(api),
          pinned(api, api.alloc_pinned(bytes), &Api::free_pinned),
          device(api, api.alloc_device(bytes), &Api::free_device),
          stream(api, api.create_stream(), &Api::destroy_stream),
          copy_start(api, api.create_event(), &Api::destroy_event),
          copy_end(api, api.create_event(), &Api::destroy_event),
          kernel_end(api, api.create_event(), &Api::destroy_event) {}
    // Work still queued may read the buffers: wait before they are freed.
    ~StreamSlot() { api.synchronize(stream.get()); }
    StreamSlot(const StreamSlot&) = delete;
    StreamSlot& operator=(const StreamSlot&) = delete;

    Api& api;
    Owned<Api, void*> pinned;
    Owned<Api, void*> device;
    Owned<Api, typename Api::Stream> stream;
    Owned<Api, typename Api::Event> copy_start, copy_end, kernel_end;
    bool busy = false;
};

// The slots stream_pieces uses for `count` elements of T in pieces of at
// most `per_piece` through up to `slot_count` slots: no more than there are
// pieces (each costs a pinned buffer and a stream), each buffer one element
// more than a piece (a zero-byte buffer is no buffer). A caller may obtain
// the pinned buffers beforehand.
struct SlotPlan {
    unsigned slots;
    std::size_t bytes;
};
template <class T>
constexpr SlotPlan plan_slots(std::uint64_t count, std::uint64_t per_piece, unsigned slot_count) {
    const std::uint64_t pieces = count == 0 ? 0 : (count - 1) / per_piece + 1;
    return {static_cast<unsigned>(std::clamp<std::uint64_t>(pieces, 1, slot_count)),
            (std::min(per_piece, count) + 1) * sizeof(T)};
}

// Sums `count` elements of type T at `data` (any alignment) in pieces of at
// most `per_piece`, through `slot_count` slots (at least 2):
// reduce(device_elements, n, stream, out, slot) enqueues one piece's
// reduction into `out` (device memory, one Acc). Returns each piece's Acc.
template <class T, class Acc, class Api, class Reduce>
std::vector<Acc> stream_pieces(Api& api, const void* data, std::uint64_t count,
                               std::uint64_t per_piece, unsigned slot_count, Reduce&& reduce,
                               StreamTimes& times) {
    const std::uint64_t pieces = count == 0 ? 0 : (count - 1) / per_piece + 1;
    const SlotPlan plan = plan_slots<T>(count, per_piece, slot_count);
    std::vector<Acc> out(pieces);
    Owned<Api, void*> results(
        api, api.alloc_device(std::max<std::uint64_t>(pieces, 1) * sizeof(Acc)), &Api::free_device);
    const unsigned used = plan.slots;
    std::vector<std::unique_ptr<StreamSlot<Api>>> slots;
    for (unsigned i = 0; i < used; ++i)
        slots.push_back(std::make_unique<StreamSlot<Api>>(api, plan.bytes));
    // Waits for a slot's piece and adds its event times to the totals.
    const auto collect = [&](StreamSlot<Api>& s) {
        api.wait(s.kernel_end.get());
        times.h2d += api.seconds_between(s.copy_start.get(), s.copy_end.get());
        times.kernel += api.seconds_between(s.copy_end.get(), s.kernel_end.get());
        s.busy = false;
    };
    for (std::uint64_t k = 0; k < pieces; ++k) {
        StreamSlot<Api>& s = *slots[k % used];
        if (s.busy) collect(s);  // its pinned buffer is free again
        const std::uint64_t n = std::min(per_piece, count - k * per_piece);
        api.stage(s.pinned.get(),
                  static_cast<const unsigned char*>(data) + k * per_piece * sizeof(T),
                  n * sizeof(T));
        api.record(s.copy_start.get(), s.stream.get());
        api.copy_to_device(s.device.get(), s.pinned.get(), n * sizeof(T), s.stream.get());
        api.record(s.copy_end.get(), s.stream.get());
        reduce(static_cast<const T*>(s.device.get()), n, s.stream.get(),
               static_cast<Acc*>(results.get()) + k, static_cast<unsigned>(k % used));
        api.record(s.kernel_end.get(), s.stream.get());
        s.busy = true;
    }
    for (const auto& s : slots)
        if (s->busy) collect(*s);
    times.pieces = pieces;
    if (pieces > 0) api.copy_to_host(out.data(), results.get(), pieces * sizeof(Acc));
    return out;
}

}  // namespace gpusum::kernels
