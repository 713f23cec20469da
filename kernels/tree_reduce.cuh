// gpusum's own reduction, read top to bottom: thread -> warp -> block -> grid.
//
// The elements are cut into chunks (series.hpp's EvenSplit, the same
// definition the CPU backends use, made on the host). Blocks take chunks grid-stride; inside a
// chunk thread t takes elements t, t + blockDim, ... (generated for a series;
// for an array, 16-byte vectors t, t + blockDim, ...: coalesced) and adds
// them in registers (tree_plan.hpp, array_plan.hpp).
// Then the 16-byte partials meet by warp shuffles, a shared-memory step
// across warps, and one partial per block; the last block to finish adds
// those up, so one launch leaves the total in device memory.
#pragma once

#include <cstdint>
#include <type_traits>

#include "tree_plan.hpp"

namespace GPUSUM_KERNELS {

// 16-byte accumulators (i128) move between lanes as two 64-bit words.
template <class Acc>
__device__ inline Acc shuffle_down(Acc v, unsigned offset) {
    static_assert(sizeof(Acc) == 16);
    unsigned long long words[2];
    memcpy(words, &v, 16);
    words[0] = __shfl_down_sync(0xffffffffu, words[0], offset);
    words[1] = __shfl_down_sync(0xffffffffu, words[1], offset);
    memcpy(&v, words, 16);
    return v;
}

// Warp scope: lane 0 ends with the warp's total.
template <class Acc>
__device__ inline Acc warp_sum(Acc v) {
    for (unsigned offset = 16; offset > 0; offset /= 2) v = v + shuffle_down(v, offset);
    return v;
}

// Block scope: thread 0 ends with the block's total. All threads must call it.
template <class Acc>
__device__ inline Acc block_sum(Acc v) {
    __shared__ Acc per_warp[32];
    const unsigned lane = threadIdx.x % 32;
    const unsigned warp = threadIdx.x / 32;
    v = warp_sum(v);
    if (lane == 0) per_warp[warp] = v;
    __syncthreads();
    const unsigned warps = (blockDim.x + 31) / 32;
    v = threadIdx.x < warps ? per_warp[threadIdx.x] : Acc{};
    if (warp == 0) v = warp_sum(v);
    __syncthreads();  // per_warp may be reused by a following call
    return v;
}

// Grid scope. `block_partials` holds gridDim.x values; `blocks_done` must be 0
// at launch and is 0 again when the kernel ends.
template <class Source>
__device__ inline void reduce_grid(Source source, EvenSplit chunks,
                                   typename Source::Acc* block_partials, unsigned* blocks_done,
                                   typename Source::Acc* total) {
    using Acc = typename Source::Acc;
    Acc mine{};
    for (std::uint64_t c = blockIdx.x; c < chunks.chunks; c += gridDim.x)
        mine = mine + source.part(chunks, c, threadIdx.x, blockDim.x);
    const Acc block_total = block_sum(mine);

    // The last block to arrive adds up every block's partial.
    __shared__ bool last;
    if (threadIdx.x == 0) {
        block_partials[blockIdx.x] = block_total;
        __threadfence();  // release: the partial is visible before the count that covers it
        last = atomicAdd(blocks_done, 1u) == gridDim.x - 1;
        if (last) __threadfence();  // acquire: every partial the count covers is seen
    }
    __syncthreads();
    if (!last) return;
    Acc v{};
    for (unsigned b = threadIdx.x; b < gridDim.x; b += blockDim.x) {
        // Bypass L1: other blocks wrote these.
        const longlong2 words = __ldcg(reinterpret_cast<const longlong2*>(block_partials + b));
        Acc other;
        memcpy(&other, &words, 16);
        v = v + other;
    }
    v = block_sum(v);
    if (threadIdx.x == 0) {
        *total = v;
        *blocks_done = 0;
    }
}

// Series (the range path): ptxas chooses the registers (59 on sm_90; under
// any launch bounds it takes more or spills).
template <class Source>
__global__ void tree_reduce(Source source, EvenSplit chunks, typename Source::Acc* block_partials,
                            unsigned* blocks_done, typename Source::Acc* total) {
    reduce_grid(source, chunks, block_partials, blocks_done, total);
}

// Integer arrays. The launch bounds restrict nothing a launch may do (1024
// threads, one block per SM), but with them ptxas plans registers to the
// limit they imply: without, it keeps the int64 and bool tiles at 32
// registers and issues 2 of their 4 loads before using one
// (scripts/sass_check.py's "in flight"); with, 40 and all 4.
template <class Source>
__global__ void __launch_bounds__(1024, 1)
    array_tree_reduce(Source source, EvenSplit chunks, typename Source::Acc* block_partials,
                      unsigned* blocks_done, typename Source::Acc* total) {
    reduce_grid(source, chunks, block_partials, blocks_done, total);
}

// The kernel a source is launched with.
template <class Source>
constexpr auto grid_kernel() {
    if constexpr (std::is_same_v<Source, SeriesSource>)
        return tree_reduce<Source>;
    else
        return array_tree_reduce<Source>;
}

}  // namespace GPUSUM_KERNELS
