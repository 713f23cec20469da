// The GPU tree reduction's per-thread work, run on the CPU: the same
// functions each CUDA thread calls, in the same decomposition as the kernel.
#include <doctest/doctest.h>

#include <algorithm>

#include "helpers/reference.hpp"
#include "support/text.hpp"
#include "tree_plan.hpp"

using gpusum::i128;
using gpusum::kernels::thread_share;
using gpusum::kernels::thread_sum;

namespace {

// What the grid computes: blocks walk chunks grid-stride, thread t of a block
// takes its share of each chunk.
template <class Source>
typename Source::Acc emulate_grid(const Source& source, std::uint64_t blocks, std::uint64_t threads,
                                  std::uint64_t chunks) {
    typename Source::Acc total{};
    const gpusum::EvenSplit split(source.count(), chunks);
    for (std::uint64_t b = 0; b < blocks; ++b)
        for (std::uint64_t t = 0; t < threads; ++t)
            for (std::uint64_t c = b; c < chunks; c += blocks)
                total = total + source.part(split, c, t, threads);
    return total;
}

i128 emulate_grid(gpusum::Progression p, std::uint64_t blocks, std::uint64_t threads,
                  std::uint64_t chunks, std::uint64_t exact_block) {
    return emulate_grid(gpusum::kernels::SeriesSource{p, exact_block}, blocks, threads, chunks);
}

template <class T>
void check_array_grid(std::mt19937_64& rng) {
    for (std::size_t n : {0, 1, 33, 1000, 5000}) {
        std::vector<T> v(n);
        for (auto& x : v) x = static_cast<T>(rng());
        i128 expected = 0;
        for (const T x : v) expected += x;
        const std::uint64_t blocks = rng() % 5 + 1, threads = 32 * (rng() % 3 + 1);
        const std::uint64_t chunks = gpusum::effective_chunks(n, blocks * 3);
        CAPTURE(n);
        CHECK(gpusum::to_string(emulate_grid(gpusum::kernels::ArraySource<T>{v.data(), n}, blocks,
                                             threads, chunks)) == gpusum::to_string(expected));
    }
}

}  // namespace

TEST_CASE("thread shares cover a chunk exactly once") {
    std::mt19937_64 rng(8);
    for (int i = 0; i < 300; ++i) {
        const gpusum::Range r = ref::random_range(rng, 3000);
        const auto chunk = gpusum::to_progression(r);
        const std::uint64_t threads = rng() % 300 + 1;
        std::vector<std::int64_t> seen;
        for (std::uint64_t t = 0; t < threads; ++t) {
            const auto share = thread_share(chunk, t, threads);
            for (std::uint64_t k = 0; k < share.count; ++k) seen.push_back(share.at(k));
        }
        std::vector<std::int64_t> expected = ref::elements(r);
        std::sort(seen.begin(), seen.end());
        std::sort(expected.begin(), expected.end());
        CHECK(seen == expected);
    }
}

TEST_CASE("the emulated grid equals the reference, with and without 128-bit flushes") {
    std::mt19937_64 rng(9);
    for (int i = 0; i < 200; ++i) {
        const gpusum::Range r = ref::random_range(rng, 20'000);
        const auto p = gpusum::to_progression(r);
        const std::uint64_t blocks = rng() % 9 + 1;
        const std::uint64_t threads = 32 * (rng() % 4 + 1);
        const std::uint64_t chunks = gpusum::effective_chunks(p.count, blocks * (rng() % 4 + 1));
        const std::string expected = gpusum::to_string(ref::naive_sum(r));
        CAPTURE(r.start);
        CAPTURE(r.step);
        const std::uint64_t exact = gpusum::exact_int64_block(p);
        CHECK(gpusum::to_string(emulate_grid(p, blocks, threads, chunks, exact)) == expected);
        // Any smaller block is exact too: exercise the flushes of the lanes
        // (16 and up) and the halves (below) on every range.
        for (const std::uint64_t smaller : {std::uint64_t{19}, std::uint64_t{3}}) {
            const std::uint64_t small = std::min(exact, smaller);
            CHECK(gpusum::to_string(emulate_grid(p, blocks, threads, chunks, small)) == expected);
        }
    }
}

TEST_CASE("the emulated grid sums integer arrays of every type exactly") {
    std::mt19937_64 rng(10);
    check_array_grid<std::int8_t>(rng);
    check_array_grid<std::int16_t>(rng);
    check_array_grid<std::int32_t>(rng);
    check_array_grid<std::int64_t>(rng);
    check_array_grid<std::uint8_t>(rng);
    check_array_grid<std::uint16_t>(rng);
    check_array_grid<std::uint32_t>(rng);
    check_array_grid<std::uint64_t>(rng);
}
