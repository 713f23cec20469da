// Exact float sums on the device, by the scheme of exact_float.hpp: every
// element's three digits are added, in registers and then with 64-bit
// shared-memory atomics, into its warp's copy of the digits (one copy per
// warp keeps the lanes of different warps off each other's addresses); at
// the end each block adds its warps' digits into the launch's total with
// global atomics. Wrapping
// adds commute, so the order of the atomics cannot change a bit of the
// result. The host normalises and rounds the total.
#pragma once

#include <cstdint>

#include "gpusum/exact_float.hpp"

namespace gpusum::kernels {

// One launch adds at most this many elements: every digit stays exact.
inline constexpr std::uint64_t kMaxFloatLaunchElements = kFloatAddsBetweenCarries;

// `total` must be zero at launch. Blocks take chunks grid-stride, threads
// the chunk's elements block-stride (coalesced), as in tree_reduce.
template <class T>
__global__ void exact_float_reduce(const T* data, std::uint64_t count, std::uint64_t chunks,
                                   ExactFloat* total) {
    __shared__ unsigned long long per_warp[32][kFloatDigits];
    __shared__ unsigned block_specials;
    const unsigned warps = (blockDim.x + 31) / 32;
    for (unsigned i = threadIdx.x; i < warps * kFloatDigits; i += blockDim.x)
        per_warp[i / kFloatDigits][i % kFloatDigits] = 0;
    if (threadIdx.x == 0) block_specials = 0;
    __syncthreads();

    // A thread adds into registers while its elements fall on the same
    // digits (typical data spans few multiples of 32 binades: N(0, 1) lies
    // almost wholly on digit 31), and moves them to shared memory when the
    // place changes. Sm_90 has no native 64-bit shared atomic add (it is a
    // compare-and-swap loop), so this keeps the atomics off the hot path.
    unsigned long long* digits = per_warp[threadIdx.x / 32];
    unsigned held = kFloatDigits;  // the digit the registers hold; none yet
    unsigned long long low = 0, middle = 0, high = 0;
    unsigned specials = 0;
    for (std::uint64_t c = blockIdx.x; c < chunks; c += gridDim.x) {
        const std::uint64_t end = chunk_begin(count, chunks, c + 1);
        for (std::uint64_t i = chunk_begin(count, chunks, c) + threadIdx.x; i < end;
             i += blockDim.x) {
            const FloatPlace at = place_of(bits_of(static_cast<double>(data[i])));
            if (at.digit != held) {
                if (held < kFloatDigits) {
                    atomicAdd(&digits[held], low);
                    atomicAdd(&digits[held + 1], middle);
                    atomicAdd(&digits[held + 2], high);
                }
                held = at.digit;
                low = middle = high = 0;
            }
            low += at.low;
            middle += at.middle;
            high += at.high;
            specials |= at.special;
        }
    }
    if (held < kFloatDigits) {
        atomicAdd(&digits[held], low);
        atomicAdd(&digits[held + 1], middle);
        atomicAdd(&digits[held + 2], high);
    }
    if (specials != 0) atomicOr(&block_specials, specials);
    __syncthreads();

    auto* out = reinterpret_cast<unsigned long long*>(total->digits);
    for (unsigned k = threadIdx.x; k < kFloatDigits; k += blockDim.x) {
        unsigned long long sum = 0;
        for (unsigned w = 0; w < warps; ++w) sum += per_warp[w][k];
        if (sum != 0) atomicAdd(&out[k], sum);
    }
    if (threadIdx.x == 0 && block_specials != 0) atomicOr(&total->specials, block_specials);
}

}  // namespace gpusum::kernels
