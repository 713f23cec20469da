// The machine's bounds, measured the plainest way: a read loop over memory and
// a register-only add loop. gpusum's results are shown as fractions of these.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <thread>
#include <vector>

#include "gpusum/array.hpp"

namespace probes {

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Reads every byte of an int64 array once, with four wrapping accumulators per
// thread. Scheduled like gpusum's threads backend (workers started and
// waiting, the same chunks handed out by an atomic counter), so only the loop
// differs. Returns seconds.
inline double read_probe(const gpusum::ArrayView& a, unsigned workers, std::uint64_t chunks,
                         std::uint64_t& sink) {
    std::vector<std::uint64_t> sums(workers);
    std::atomic<std::uint64_t> next{0};
    std::latch ready(workers);
    std::latch go(1);
    std::vector<std::thread> threads;
    for (unsigned w = 0; w < workers; ++w) {
        threads.emplace_back([&, w] {
            ready.count_down();
            go.wait();
            std::uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (std::uint64_t c; (c = next.fetch_add(1)) < chunks;) {
                const gpusum::ArrayView part = gpusum::chunk_of(a, chunks, c);
                const auto* p = reinterpret_cast<const std::uint64_t*>(part.data);
                std::uint64_t i = 0;
                for (; i + 4 <= part.count; i += 4) {
                    s0 += p[i];
                    s1 += p[i + 1];
                    s2 += p[i + 2];
                    s3 += p[i + 3];
                }
                for (; i < part.count; ++i) s0 += p[i];
            }
            sums[w] = s0 + s1 + s2 + s3;
        });
    }
    ready.wait();
    const auto t0 = std::chrono::steady_clock::now();
    go.count_down();
    for (auto& t : threads) t.join();
    const double s = seconds_since(t0);
    for (auto v : sums) sink += v;
    return s;
}

}  // namespace probes
