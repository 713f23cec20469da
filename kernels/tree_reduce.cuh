// gpusum's own reduction, read top to bottom: thread -> warp -> block -> grid.
//
// The range is cut into chunks (series.hpp's chunk_of, the same definition the
// CPU backends use). Blocks take chunks grid-stride; inside a chunk thread t
// generates elements t, t + blockDim, ... and adds them in registers. Then the
// 128-bit partials meet by warp shuffles, a shared-memory step across warps,
// and one partial per block; the last block to finish adds those up, so one
// launch leaves the exact total in device memory.
#pragma once

#include <cstdint>

#include "tree_plan.hpp"

namespace gpusum::kernels {

__device__ inline i128 shuffle_down(i128 v, unsigned offset) {
    const u128 u = static_cast<u128>(v);
    const auto lo = static_cast<unsigned long long>(u);
    const auto hi = static_cast<unsigned long long>(u >> 64);
    const u128 lo2 = __shfl_down_sync(0xffffffffu, lo, offset);
    const u128 hi2 = __shfl_down_sync(0xffffffffu, hi, offset);
    return static_cast<i128>((hi2 << 64) | lo2);
}

// Warp scope: lane 0 ends with the warp's total.
__device__ inline i128 warp_sum(i128 v) {
    for (unsigned offset = 16; offset > 0; offset /= 2) v += shuffle_down(v, offset);
    return v;
}

// Block scope: thread 0 ends with the block's total. All threads must call it.
__device__ inline i128 block_sum(i128 v) {
    __shared__ i128 per_warp[32];
    const unsigned lane = threadIdx.x % 32;
    const unsigned warp = threadIdx.x / 32;
    v = warp_sum(v);
    if (lane == 0) per_warp[warp] = v;
    __syncthreads();
    const unsigned warps = (blockDim.x + 31) / 32;
    v = threadIdx.x < warps ? per_warp[threadIdx.x] : i128{0};
    if (warp == 0) v = warp_sum(v);
    __syncthreads();  // per_warp may be reused by a following call
    return v;
}

// Grid scope. `block_partials` holds gridDim.x values; `blocks_done` must be 0
// at launch and is 0 again when the kernel ends.
__global__ void tree_reduce(Progression series, std::uint64_t chunks, std::uint64_t exact_block,
                            i128* block_partials, unsigned* blocks_done, i128* total) {
    i128 mine = 0;
    for (std::uint64_t c = blockIdx.x; c < chunks; c += gridDim.x) {
        const Progression share =
            thread_share(chunk_of(series, chunks, c), threadIdx.x, blockDim.x);
        mine += thread_sum(share, exact_block);
    }
    const i128 block_total = block_sum(mine);

    // The last block to arrive adds up every block's partial.
    __shared__ bool last;
    if (threadIdx.x == 0) {
        block_partials[blockIdx.x] = block_total;
        __threadfence();
        last = atomicAdd(blocks_done, 1u) == gridDim.x - 1;
    }
    __syncthreads();
    if (!last) return;
    i128 v = 0;
    for (unsigned b = threadIdx.x; b < gridDim.x; b += blockDim.x) {
        // Bypass L1: other blocks wrote these.
        const longlong2 parts = __ldcg(reinterpret_cast<const longlong2*>(block_partials + b));
        v += static_cast<i128>((static_cast<u128>(static_cast<std::uint64_t>(parts.y)) << 64) |
                               static_cast<std::uint64_t>(parts.x));
    }
    v = block_sum(v);
    if (threadIdx.x == 0) {
        *total = v;
        *blocks_done = 0;
    }
}

}  // namespace gpusum::kernels
