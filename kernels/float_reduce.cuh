// Exact float sums on the device, by the scheme of exact_float.hpp: every
// element's three digits are added, in registers and then with 64-bit
// shared-memory atomics, into its warp's copy of the digits (one copy per
// warp keeps the lanes of different warps off each other's addresses); at
// the end each block adds its warps' digits into the launch's total with
// global atomics. Elements arrive as array_plan.hpp reads them (16-byte
// loads, several in flight). Wrapping
// adds commute, so the order of the atomics cannot change a bit of the
// result. The host normalises and rounds the total.
#pragma once

#include <cstdint>

#include "array_plan.hpp"
#include "gpusum/exact_float.hpp"

namespace GPUSUM_KERNELS {

// One launch adds at most this many elements: every digit stays exact.
static_assert(kMaxArrayLaunchElements <= kFloatAddsBetweenCarries);

// A thread's digits: added in registers while its elements fall on the same
// digits (typical data spans few multiples of 32 binades: N(0, 1) lies
// almost wholly on digit 31), moved to its warp's copy in shared memory
// when the place changes. Sm_90 has no native 64-bit shared atomic add (it
// is a compare-and-swap loop), so this keeps the atomics off the hot path.
template <class T>
class FloatDigits {
  public:
    __device__ explicit FloatDigits(unsigned long long* warp_digits) : digits_(warp_digits) {}
    __device__ void add(T x) {
        const auto bits = bits_of(x);
        const FloatPlace at = sizeof(T) == 4 ? place_of_single(bits) : place_of(bits);
        if (at.digit != held_) {
            flush();
            held_ = at.digit;
        }
        low_ += at.low;
        middle_ += at.middle;
        high_ += at.high;
        specials_ |= at.special;
    }
    __device__ void add(const Vector16& v) {
        GPUSUM_UNROLL
        for (unsigned e = 0; e < 16 / sizeof(T); ++e) add(element<T>(v, e));
    }
    __device__ void settle() {}
    __device__ void flush() {
        if (held_ < kFloatDigits) {
            atomicAdd(&digits_[held_], low_);
            atomicAdd(&digits_[held_ + 1], middle_);
            if (sizeof(T) == 8) atomicAdd(&digits_[held_ + 2], high_);  // floats: always 0
        }
        held_ = kFloatDigits;
        low_ = middle_ = high_ = 0;
    }
    __device__ unsigned specials() const { return specials_; }

  private:
    unsigned long long* digits_;
    unsigned held_ = kFloatDigits;  // the digit the registers hold; none yet
    unsigned long long low_ = 0, middle_ = 0, high_ = 0;
    unsigned specials_ = 0;
};

// `total` must be zero at launch; `data` aligned to sizeof(T), at most
// kMaxArrayLaunchElements elements. Blocks take chunks grid-stride, threads
// the chunk's 16-byte vectors block-stride (array_plan.hpp's add_span).
template <class T>
__global__ void exact_float_reduce(const T* data, EvenSplit chunks, ExactFloat* total) {
    __shared__ unsigned long long per_warp[32][kFloatDigits];
    __shared__ unsigned block_specials;
    const unsigned warps = (blockDim.x + 31) / 32;
    for (unsigned i = threadIdx.x; i < warps * kFloatDigits; i += blockDim.x)
        per_warp[i / kFloatDigits][i % kFloatDigits] = 0;
    if (threadIdx.x == 0) block_specials = 0;
    __syncthreads();

    FloatDigits<T> mine(per_warp[threadIdx.x / 32]);
    for (std::uint64_t c = blockIdx.x; c < chunks.chunks; c += gridDim.x)
        add_span(data, static_cast<std::uint32_t>(chunks.begin(c)),
                 static_cast<std::uint32_t>(chunks.begin(c + 1)), threadIdx.x, blockDim.x, mine);
    mine.flush();
    if (mine.specials() != 0) atomicOr(&block_specials, mine.specials());
    __syncthreads();

    auto* out = reinterpret_cast<unsigned long long*>(total->digits);
    for (unsigned k = threadIdx.x; k < kFloatDigits; k += blockDim.x) {
        unsigned long long sum = 0;
        for (unsigned w = 0; w < warps; ++w) sum += per_warp[w][k];
        if (sum != 0) atomicAdd(&out[k], sum);
    }
    if (threadIdx.x == 0 && block_specials != 0) atomicOr(&total->specials, block_specials);
}

}  // namespace GPUSUM_KERNELS
