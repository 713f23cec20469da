// The per-thread part of the tree reduction, pure and host-callable so the
// CPU tests check exactly what each GPU thread computes.
#pragma once

#include <cstdint>

#include "gpusum/series.hpp"

namespace gpusum::kernels {

// Launch shape, as data: how many threads a block has and how many chunks
// each block walks through. The grid size comes from the device.
struct TreeTuning {
    unsigned threads_per_block = 256;
    unsigned chunks_per_block = 4;
};

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

}  // namespace gpusum::kernels
