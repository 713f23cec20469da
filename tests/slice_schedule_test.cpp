// The slices of a series on the device (src/backends/cuda/slice_schedule.hpp)
// against a fake device: every slice summed once, in order of collection,
// a slot never refilled before its total was read, the device never left
// without queued work while the host waits, and a stop between slices.
#include <doctest/doctest.h>

#include <deque>
#include <stdexcept>
#include <vector>

#include "backends/cuda/slice_schedule.hpp"

using gpusum::i128;

namespace {

// Slice i's total is i * 1000 + 7; the queue is the device's stream.
struct FakePipe {
    struct Queued {
        std::uint64_t slice;
        unsigned slot;
    };
    std::deque<Queued> stream;
    std::vector<int> slot_state;  // 0 free, 1 queued, 2 done and unread
    std::vector<std::uint64_t> enqueued, collected;
    unsigned depth;
    std::uint64_t slices;
    unsigned most_queued = 0;
    bool idle_wait = false;  // the host waited with nothing queued behind

    FakePipe(unsigned d, std::uint64_t n) : slot_state(d, 0), depth(d), slices(n) {}

    void enqueue(std::uint64_t slice, unsigned slot) {
        REQUIRE(slot < depth);
        CHECK(slot_state[slot] == 0);  // never over a total still unread
        slot_state[slot] = 1;
        stream.push_back({slice, slot});
        enqueued.push_back(slice);
        most_queued = std::max(most_queued, static_cast<unsigned>(stream.size()));
    }
    i128 collect(unsigned slot) {
        REQUIRE(!stream.empty());
        const Queued front = stream.front();
        CHECK(front.slot == slot);  // the stream is in order: the oldest first
        stream.pop_front();
        // While the host reads this total, is the device still busy?
        if (stream.empty() && collected.size() + 1 < slices) idle_wait = true;
        slot_state[slot] = 0;
        collected.push_back(front.slice);
        return static_cast<i128>(front.slice) * 1000 + 7;
    }
};

}  // namespace

TEST_CASE("slice schedule: every slice once, slots reused only when read, never idle") {
    for (const unsigned depth : {1U, 2U, 3U}) {
        for (const std::uint64_t slices : {0ULL, 1ULL, 2ULL, 3ULL, 7ULL, 100ULL}) {
            CAPTURE(depth);
            CAPTURE(slices);
            FakePipe pipe(depth, slices);
            std::uint64_t after_calls = 0;
            const i128 total = gpusum::kernels::sum_slices(
                pipe, slices, depth, [&](std::uint64_t i) { CHECK(i == after_calls++); });
            i128 expected = 0;
            for (std::uint64_t i = 0; i < slices; ++i) expected += static_cast<i128>(i) * 1000 + 7;
            CHECK(total == expected);
            CHECK(after_calls == slices);
            CHECK(pipe.stream.empty());
            std::vector<std::uint64_t> in_order(slices);
            for (std::uint64_t i = 0; i < slices; ++i) in_order[i] = i;
            CHECK(pipe.enqueued == in_order);
            CHECK(pipe.collected == in_order);
            CHECK(pipe.most_queued <= depth);
            // With two slots or more the next slice is always queued behind
            // the one being read, whenever there is a next one.
            if (depth >= 2) CHECK(!pipe.idle_wait);
        }
    }
}

TEST_CASE("slice schedule: a stop between slices leaves the rest unqueued") {
    FakePipe pipe(2, 10);
    CHECK_THROWS_AS(gpusum::kernels::sum_slices(pipe, 10, 2,
                                                [](std::uint64_t i) {
                                                    if (i == 3) throw std::runtime_error("stop");
                                                }),
                    std::runtime_error);
    // Slices 0-3 collected, 4 and 5 queued (the owner waits for them), no more.
    CHECK(pipe.collected.size() == 4);
    CHECK(pipe.enqueued.size() == 6);
}
