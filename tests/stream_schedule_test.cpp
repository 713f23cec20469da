// The array streaming schedule (src/backends/cuda/stream_schedule.hpp) against a fake
// device: one worker thread per stream runs the copies and reductions after
// random delays, so the schedule's waits are what keeps it right. Checked:
// every piece summed once, no pinned buffer staged while a copy still reads
// it, and a failure at any call gives a BackendError with nothing left
// allocated.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "backends/cuda/device_guard.hpp"
#include "backends/cuda/stream_schedule.hpp"
#include "gpusum/backend.hpp"

using gpusum::i128;

namespace {

class FakeDevice {
  public:
    using Stream = int;
    using Event = int;

    explicit FakeDevice(std::uint64_t fail_at = UINT64_MAX, std::uint64_t seed = 1)
        : fail_at_(fail_at), seed_(seed) {}
    ~FakeDevice() { CHECK_MESSAGE(streams_.empty(), "every stream destroyed"); }

    void* alloc_pinned(std::size_t bytes) { return allocate(bytes, "alloc_pinned", pinned_); }
    void free_pinned(void* p) noexcept { release(p, pinned_); }
    void* alloc_device(std::size_t bytes) { return allocate(bytes, "alloc_device", device_); }
    void free_device(void* p) noexcept { release(p, device_); }

    Stream create_stream() {
        may_fail("create_stream");
        const std::lock_guard lock(mutex_);
        const int id = next_id_++;
        auto& s = streams_[id];
        s.worker = std::thread([this, id] { work(id); });
        return id;
    }
    void destroy_stream(Stream id) noexcept {
        std::thread worker;
        {
            std::unique_lock lock(mutex_);
            streams_[id].stopping = true;
            changed_.notify_all();
            worker = std::move(streams_[id].worker);
        }
        worker.join();
        const std::lock_guard lock(mutex_);
        streams_.erase(id);
    }
    Event create_event() {
        may_fail("create_event");
        const std::lock_guard lock(mutex_);
        const int id = next_id_++;
        events_[id] = {};
        return id;
    }
    void destroy_event(Event id) noexcept {
        const std::lock_guard lock(mutex_);
        events_.erase(id);
    }

    void stage(void* pinned, const void* source, std::size_t bytes) {
        may_fail("stage");
        {
            const std::lock_guard lock(mutex_);
            if (pending_reads_[pinned] != 0) ++violations;  // a copy still reads it
        }
        std::memcpy(pinned, source, bytes);
    }
    void copy_to_device(void* device, const void* pinned, std::size_t bytes, Stream s) {
        may_fail("copy_to_device");
        const std::lock_guard lock(mutex_);
        ++pending_reads_[pinned];
        enqueue(s, [this, device, pinned, bytes] {
            std::memcpy(device, pinned, bytes);
            const std::lock_guard done(mutex_);
            --pending_reads_[pinned];
        });
    }
    template <class F>
    void launch(Stream s, F kernel) {
        may_fail("launch");
        const std::lock_guard lock(mutex_);
        ++launches;
        enqueue(s, kernel);
    }
    void record(Event e, Stream s) {
        may_fail("record");
        const std::lock_guard lock(mutex_);
        const std::uint64_t mark = ++events_[e].recorded;
        enqueue(s, [this, e, mark] {
            const std::lock_guard done(mutex_);
            events_[e].completed = mark;
        });
    }
    void wait(Event e) {
        may_fail("wait");
        std::unique_lock lock(mutex_);
        const std::uint64_t mark = events_[e].recorded;
        changed_.wait(lock, [&] { return events_[e].completed >= mark; });
    }
    double seconds_between(Event, Event) {
        may_fail("seconds_between");
        return 1e-3;
    }
    void synchronize(Stream s) noexcept {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return streams_[s].ops.empty() && !streams_[s].running; });
    }
    void copy_to_host(void* host, const void* device, std::size_t bytes) {
        may_fail("copy_to_host");
        std::memcpy(host, device, bytes);
    }

    std::size_t live() const {
        return pinned_.size() + device_.size() + streams_.size() + events_.size();
    }
    std::uint64_t calls() const { return calls_; }
    int violations = 0;
    std::uint64_t launches = 0;
    std::size_t most_pinned = 0;  // pinned buffers alive at once, at most

  private:
    struct StreamState {
        std::deque<std::function<void()>> ops;
        bool running = false;
        bool stopping = false;
        std::thread worker;
    };
    struct EventState {
        std::uint64_t recorded = 0, completed = 0;
    };

    void may_fail(const char* what) {
        if (calls_++ == fail_at_) throw gpusum::BackendError(std::string("injected: ") + what);
    }
    void* allocate(std::size_t bytes, const char* what, std::set<void*>& live) {
        may_fail(what);
        void* p = ::operator new(bytes);
        live.insert(p);
        most_pinned = std::max(most_pinned, pinned_.size());
        return p;
    }
    void release(void* p, std::set<void*>& live) noexcept {
        live.erase(p);
        ::operator delete(p);
    }
    void enqueue(Stream s, std::function<void()> op) {  // mutex_ held
        streams_[s].ops.push_back(std::move(op));
        changed_.notify_all();
    }
    void work(int id) {
        std::mt19937 rng(static_cast<unsigned>(seed_ * 31 + id));
        std::unique_lock lock(mutex_);
        for (;;) {
            StreamState& s = streams_[id];
            changed_.wait(lock, [&] { return !s.ops.empty() || s.stopping; });
            if (s.ops.empty()) return;
            std::function<void()> op = std::move(s.ops.front());
            s.ops.pop_front();
            s.running = true;
            lock.unlock();
            std::this_thread::sleep_for(std::chrono::microseconds(rng() % 300));
            op();
            lock.lock();
            streams_[id].running = false;
            changed_.notify_all();
        }
    }

    std::uint64_t fail_at_;
    std::uint64_t seed_;
    std::uint64_t calls_ = 0;
    std::mutex mutex_;
    std::condition_variable changed_;
    int next_id_ = 1;
    std::map<int, StreamState> streams_;
    std::map<int, EventState> events_;
    std::map<const void*, int> pending_reads_;
    std::set<void*> pinned_, device_;
};

// The schedule with a "kernel" that sums a piece into its result slot.
std::vector<i128> stream_sum(FakeDevice& fake, const std::vector<std::int32_t>& data,
                             std::uint64_t per_piece, gpusum::kernels::StreamTimes& times,
                             unsigned slots = 4) {
    return gpusum::kernels::stream_pieces<std::int32_t, i128>(
        fake, data.data(), data.size(), per_piece, slots,
        [&](const std::int32_t* piece, std::uint64_t n, int stream, i128* out, unsigned) {
            fake.launch(stream, [piece, n, out] {
                i128 total = 0;
                for (std::uint64_t i = 0; i < n; ++i) total += piece[i];
                *out = total;
            });
        },
        times);
}

std::vector<std::int32_t> random_ints(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::int32_t> data(n);
    for (auto& x : data) x = static_cast<std::int32_t>(rng());
    return data;
}

}  // namespace

TEST_CASE("stream schedule: every piece summed once, no pinned buffer reused too early") {
    for (const auto& sizes : std::vector<std::pair<std::size_t, std::uint64_t>>{
             {0, 100}, {1, 100}, {100, 100}, {101, 100}, {5000, 64}, {777, 1000}, {1000, 300}})
        for (const unsigned slots : {2u, 3u, 4u}) {
            const std::size_t n = sizes.first;
            const std::uint64_t per_piece = sizes.second;
            const auto data = random_ints(n, n);
            FakeDevice fake(UINT64_MAX, n + per_piece + slots);
            gpusum::kernels::StreamTimes times;
            const auto pieces = stream_sum(fake, data, per_piece, times, slots);
            CAPTURE(n);
            CAPTURE(per_piece);
            CAPTURE(slots);
            const std::uint64_t expected_pieces = n == 0 ? 0 : (n - 1) / per_piece + 1;
            REQUIRE(pieces.size() == expected_pieces);
            CHECK(times.pieces == expected_pieces);
            CHECK(fake.launches == expected_pieces);
            for (std::uint64_t k = 0; k < expected_pieces; ++k) {
                i128 expected = 0;
                for (std::uint64_t i = k * per_piece;
                     i < std::min<std::uint64_t>(n, (k + 1) * per_piece); ++i)
                    expected += data[i];
                CHECK(pieces[k] == expected);
            }
            CHECK(fake.violations == 0);
            CHECK(fake.live() == 0);
            // A buffer per slot, never more, nor more than there are pieces.
            CHECK(fake.most_pinned == std::clamp<std::uint64_t>(expected_pieces, 1, slots));
        }
}

TEST_CASE("stream schedule: a failure at any call is a BackendError and frees everything") {
    const auto data = random_ints(1000, 7);
    gpusum::kernels::StreamTimes times;
    FakeDevice clean;
    stream_sum(clean, data, 150, times);
    const std::uint64_t calls = clean.calls();
    REQUIRE(calls > 40);
    for (std::uint64_t k = 0; k < calls; ++k) {
        CAPTURE(k);
        FakeDevice fake(k, k);
        CHECK_THROWS_WITH_AS(stream_sum(fake, data, 150, times), doctest::Contains("injected"),
                             gpusum::BackendError);
        CHECK(fake.live() == 0);
        CHECK(fake.violations == 0);
    }
}

namespace {

// The thread's current device as the CUDA runtime keeps it, faked.
struct FakeCurrentDevice {
    static inline thread_local int current = 0;
    static inline thread_local bool readable = true;
    static bool get(int& device) {
        device = current;
        return readable;
    }
    static void set(int device) { current = device; }
};

}  // namespace

TEST_CASE("a sum on another device leaves the caller's current device as it was") {
    FakeCurrentDevice::current = 2;
    {
        const gpusum::kernels::CurrentDeviceKept<FakeCurrentDevice> kept;
        FakeCurrentDevice::set(1);  // what opening device 1 does
        CHECK(FakeCurrentDevice::current == 1);
    }
    CHECK(FakeCurrentDevice::current == 2);
    // Even when the sum throws.
    try {
        const gpusum::kernels::CurrentDeviceKept<FakeCurrentDevice> kept;
        FakeCurrentDevice::set(0);
        throw std::runtime_error("CUDA failed");
    } catch (const std::runtime_error&) {
    }
    CHECK(FakeCurrentDevice::current == 2);
}
