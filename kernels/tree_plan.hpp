// The per-thread part of the tree reduction, pure and host-callable so the
// CPU tests check exactly what each GPU thread computes.
#pragma once

#include <cstdint>
#include <type_traits>

#include "array_plan.hpp"
#include "exact_halves.hpp"
#include "gpusum/series.hpp"

namespace GPUSUM_KERNELS {

// Launch shape, as data: how many threads a block has and how many chunks
// each block walks through. The grid size comes from the device.
struct TreeTuning {
    unsigned threads_per_block = 256;
    unsigned chunks_per_block = 4;
};

// The kernel's warp step needs whole warps; a block holds at most 1024 threads.
constexpr bool valid_tuning(TreeTuning t) {
    return t.threads_per_block > 0 && t.threads_per_block % 32 == 0 &&
           t.threads_per_block <= 1024 && t.chunks_per_block > 0;
}

// One launch over `count` elements: no more blocks than the device holds at
// once, nor than there are threads' worth of elements; chunks_per_block
// chunks for each block (fewer when there are fewer elements).
struct GridPlan {
    std::uint64_t blocks = 1;
    std::uint64_t chunks = 1;
};

constexpr GridPlan plan_grid(std::uint64_t count, std::uint64_t max_blocks, TreeTuning t) {
    GridPlan plan;
    const std::uint64_t wanted = count / t.threads_per_block + 1;
    plan.blocks = max_blocks < wanted ? max_blocks : wanted;
    plan.chunks = effective_chunks(count, plan.blocks * t.chunks_per_block);
    return plan;
}

// The elements thread t of a block of `threads` takes from a chunk: t,
// t + threads, t + 2 * threads, ... (possibly none).
GPUSUM_HD constexpr Progression thread_share(Progression chunk, std::uint64_t t,
                                             std::uint64_t threads) {
    const std::uint64_t count = t < chunk.count ? (chunk.count - t - 1) / threads + 1 : 0;
    const auto step = static_cast<std::int64_t>(static_cast<std::uint64_t>(chunk.step) * threads);
    return Progression{t < chunk.count ? chunk.at(t) : chunk.first, count, step};
}

// Hides a value's origin from the optimiser (no instruction is emitted).
GPUSUM_HD inline void opaque(std::uint64_t& x) {
#if defined(__CUDA_ARCH__)
    asm("" : "+l"(x));
#else
    asm("" : "+r"(x));
#endif
}

// Independent accumulators in the series loop: elements per iteration.
inline constexpr unsigned kSeriesLanes = 16;

// Elements near +-2^63 (exact_int64_block() below this): by halves, as
// 64-bit array elements are, so no element needs a 128-bit add of its own.
GPUSUM_HD inline i128 thread_sum_by_halves(Progression share) {
    i128 total = 0;
    std::uint64_t x = static_cast<std::uint64_t>(share.first);
    for (std::uint64_t done = 0; done < share.count;) {
        const std::uint64_t left = share.count - done;
        const std::uint64_t n = left < kExactHalvesBlock ? left : kExactHalvesBlock;
        ExactLanes<std::int64_t> lanes;
        for (std::uint64_t i = 0; i < n; ++i) {
            lanes.add(static_cast<std::int64_t>(x));
            x += static_cast<std::uint64_t>(share.step);
        }
        total += lanes.total();
        done += n;
    }
    return total;
}

// Thread scope: the share's elements in wrapping 64-bit adds, flushed to 128
// bits every `exact_block` elements (a block of that many consecutive
// elements has a total that provably fits in int64, so the wrapped sum is
// exact). Lane k adds element x + k * step of every iteration: one 64-bit
// three-input add per element (x + offset + accumulator: IADD3 and
// IADD3.X), with the offsets the same across the warp.
GPUSUM_HD inline i128 thread_sum(Progression share, std::uint64_t exact_block) {
    if (exact_block < std::uint64_t{2} * kSeriesLanes) return thread_sum_by_halves(share);
    const auto s = static_cast<std::uint64_t>(share.step);
    std::uint64_t offset[kSeriesLanes];
    for (unsigned k = 0; k < kSeriesLanes; ++k) {
        offset[k] = k * s;
        // Opaque too: else each element becomes the previous one plus s (an
        // extra 64-bit add per element).
        opaque(offset[k]);
    }
    const std::uint64_t advance = kSeriesLanes * s;
    // Iterations per flush: a 32-bit counter, and within the exact block.
    const std::uint64_t most =
        exact_block / kSeriesLanes < 0xffffffffu ? exact_block / kSeriesLanes : 0xffffffffu;
    i128 total = 0;
    auto x = static_cast<std::uint64_t>(share.first);
    std::uint64_t iterations = share.count / kSeriesLanes;
    while (iterations > 0) {
        const auto n = static_cast<std::uint32_t>(iterations < most ? iterations : most);
        std::uint64_t acc[kSeriesLanes] = {};
#if defined(__CUDA_ARCH__)
#pragma unroll 4
#endif
        for (std::uint32_t i = 0; i < n; ++i) {
            opaque(x);  // so the loop cannot become a formula
            for (unsigned k = 0; k < kSeriesLanes; ++k) acc[k] += x + offset[k];
            x += advance;
        }
        std::uint64_t block = 0;
        for (const std::uint64_t a : acc) block += a;
        total += static_cast<std::int64_t>(block);
        iterations -= n;
    }
    // Fewer than kSeriesLanes left: within the exact block.
    std::uint64_t rest = 0;
    const auto left = static_cast<unsigned>(share.count % kSeriesLanes);
    for (unsigned i = 0; i < left; ++i, x += s) rest += x;
    return total + static_cast<std::int64_t>(rest);
}

// What each thread adds, by element source. A source names its accumulator
// type and gives thread t's partial of chunk c of `split`.
struct SeriesSource {
    using Acc = i128;
    Progression series;
    std::uint64_t exact_block;
    GPUSUM_HD std::uint64_t count() const { return series.count; }
    GPUSUM_HD Acc part(const EvenSplit& split, std::uint64_t c, std::uint64_t t,
                       std::uint64_t threads) const {
        return thread_sum(thread_share(chunk_of(series, split, c), t, threads), exact_block);
    }
};

// An integer array on the device, aligned to its element size, at most
// kMaxArrayLaunchElements elements (float arrays: float_reduce.cuh).
template <class T>
struct ArraySource {
    static_assert(std::is_integral_v<T> || std::is_same_v<T, BoolByte>);
    using Acc = i128;
    const T* data;
    std::uint64_t elements;
    GPUSUM_HD std::uint64_t count() const { return elements; }
    GPUSUM_HD Acc part(const EvenSplit& split, std::uint64_t c, std::uint64_t t,
                       std::uint64_t threads) const {
        ExactLanes<T> lanes;
        add_span(data, static_cast<std::uint32_t>(split.begin(c)),
                 static_cast<std::uint32_t>(split.begin(c + 1)), static_cast<std::uint32_t>(t),
                 static_cast<std::uint32_t>(threads), lanes);
        return lanes.total();
    }
};

}  // namespace GPUSUM_KERNELS
