// The per-thread part of the tree reduction, pure and host-callable so the
// CPU tests check exactly what each GPU thread computes.
#pragma once

#include <cstdint>
#include <type_traits>

#include "gpusum/exact.hpp"
#include "gpusum/series.hpp"

namespace gpusum::kernels {

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

// Thread scope. The share's elements in wrapping 64-bit
// adds, flushed to 128 bits every `exact_block` elements: a block of that many
// has a total that provably fits in int64, so the wrapped sum is exact.
GPUSUM_HD inline i128 thread_sum(Progression share, std::uint64_t exact_block) {
    i128 total = 0;
    std::uint64_t x = static_cast<std::uint64_t>(share.first);
    const std::uint64_t s = static_cast<std::uint64_t>(share.step);
    std::uint64_t count = share.count;
    while (count > 0) {
        std::uint64_t n = count < exact_block ? count : exact_block;
        n = n < 0xffffffffu ? n : 0xffffffffu;  // 32-bit loop counter
        std::uint64_t acc0 = 0, acc1 = 0;
        std::uint32_t i = 0;
        const std::uint32_t pairs = static_cast<std::uint32_t>(n / 2);
#if defined(__CUDA_ARCH__)
#pragma unroll 4
#endif
        for (; i < pairs; ++i) {
            // Opaque to the optimiser, so the loop cannot become a formula.
#if defined(__CUDA_ARCH__)
            asm("" : "+l"(x));
#else
            asm("" : "+r"(x));
#endif
            acc0 += x;
            acc1 += x + s;
            x += 2 * s;
        }
        if (n % 2 != 0) {
            acc0 += x;
            x += s;
        }
        total += static_cast<std::int64_t>(acc0 + acc1);
        count -= n;
    }
    return total;
}

// The elements of an integer array a thread takes: indices first, first +
// stride, ... below end, exactly (64-bit elements by halves, flushed to 128
// bits every kExactHalvesBlock values). Float arrays have their own kernel
// (float_reduce.cuh).
template <class T>
GPUSUM_HD i128 strided_integer_sum(const T* data, std::uint64_t first, std::uint64_t end,
                                   std::uint64_t stride) {
    i128 total = 0;
    std::uint64_t i = first;
    while (i < end) {
        std::uint64_t wrapped = 0, highs = 0, negatives = 0;
        std::int64_t narrow = 0;
        for (std::uint64_t n = 0; n < kExactHalvesBlock && i < end; ++n, i += stride) {
            if constexpr (sizeof(T) == 8) {
                const auto x = static_cast<std::uint64_t>(data[i]);
                wrapped += x;
                highs += x >> 32;
                negatives += x >> 63;
            } else {
                narrow += static_cast<std::int64_t>(data[i]);
            }
        }
        if constexpr (sizeof(T) == 8)
            total += total_from_halves(wrapped, highs, negatives, static_cast<T>(-1) < 0);
        else
            total += narrow;
    }
    return total;
}

// What each thread adds, by element source. A source names its accumulator
// type and gives thread t's partial of chunk c.
struct SeriesSource {
    using Acc = i128;
    Progression series;
    std::uint64_t exact_block;
    GPUSUM_HD std::uint64_t count() const { return series.count; }
    GPUSUM_HD Acc part(std::uint64_t chunks, std::uint64_t c, std::uint64_t t,
                       std::uint64_t threads) const {
        return thread_sum(thread_share(chunk_of(series, chunks, c), t, threads), exact_block);
    }
};

template <class T>
struct ArraySource {
    static_assert(std::is_integral_v<T>);
    using Acc = i128;
    const T* data;
    std::uint64_t elements;
    GPUSUM_HD std::uint64_t count() const { return elements; }
    GPUSUM_HD Acc part(std::uint64_t chunks, std::uint64_t c, std::uint64_t t,
                       std::uint64_t threads) const {
        const std::uint64_t begin = chunk_begin(elements, chunks, c) + t;
        const std::uint64_t end = chunk_begin(elements, chunks, c + 1);
        return strided_integer_sum(data, begin, end, threads);
    }
};

}  // namespace gpusum::kernels
