// Exact float sums on the device, by the scheme of exact_float.hpp. On
// devices with full-rate FP64, each thread splits its elements on two floating-point grids below a
// bound on their magnitude (the CPU fast path's slicing): two adds and a subtract take an element's
// bits above a grid exactly, and those slices are summed exactly in two FP64 registers; what lies
// below the finer grid (rare on data of narrow range), NaN and infinities, elements too large to
// slice, and every few thousand elements the two registers themselves go to the exact digits with
// 64-bit shared-memory atomics into the warp's copy of the digits. At the end each block adds its
// warps' digits into the launch's total with global atomics. Elements arrive as array_plan.hpp
// reads them (16-byte loads, several in flight). Every step is exact, so the order of the atomics
// cannot change a bit of the result. The host normalises and rounds the
// total.
#pragma once

#include <cstdint>
#include <type_traits>

#include "array_plan.hpp"
#include "gpusum/exact_float.hpp"

namespace GPUSUM_KERNELS {

// One launch adds at most this many elements: every digit stays exact.
static_assert(kMaxArrayLaunchElements <= kFloatAddsBetweenCarries);

// The slicing's arithmetic, for a bound 2^E on every |x| sliced (E = the
// bound's biased exponent - 1023):
// - grid g1 = E - 41: t = x + 1.5 * 2^(g1 + 52), h1 = t - 1.5 * 2^(g1 + 52)
//   is x rounded to a multiple of 2^g1, exactly, as |x| <= 2^(g1 + 51);
//   r1 = x - h1 is exact, |r1| <= 2^(g1 - 1);
// - grid g2 = g1 - 42 takes r1 the same way (|r1| <= 2^(g2 + 51)), r2 = r1 - h2;
// - n sums of h1 (multiples of 2^g1, at most 2^E) stay exact while
//   n * 2^E <= 2^(g1 + 53), n <= 2^12; of h2 (multiples of 2^g2, at most
//   2^(g1 - 1)) while n <= 2^(54 - 42): kSlicedBetweenFlushes;
// - grids below 2^-1074 are clamped to it (every double is a multiple);
// - the constants 1.5 * 2^(g + 52) and the sums (at most 2^(E + 12)) must be
//   finite: E <= 1011, so a vector with an element of biased exponent above
//   kLargestSliced (or a NaN or infinity: 2047) goes to the digits whole.
inline constexpr int kCoarseGridBelowBound = 41;
inline constexpr int kFineGridBelowCoarse = 42;
inline constexpr unsigned kSlicedBetweenFlushes = 4096;
inline constexpr unsigned kBoundMargin = 2;  // above the largest seen: fewer moves of the bound
inline constexpr unsigned kLargestSliced = 1011 + 1023 - kBoundMargin;

// 1.5 * 2^(g + 52) for grid 2^g, g >= -1074, from its bits.
__device__ inline double grid_constant(int g) {
    return __longlong_as_double(static_cast<long long>(
        (static_cast<std::uint64_t>(g + 1075) << 52) | (std::uint64_t{1} << 51)));
}

// The largest biased double exponent among a vector's elements, from their
// bits (2047 for a NaN or an infinity; floats' exponents as their double's).
template <class T>
__device__ inline unsigned largest_exponent(const Vector16& v) {
    std::uint32_t top = 0;
    if constexpr (sizeof(T) == 8) {
        top = max(v.word[1] & 0x7fffffffu, v.word[3] & 0x7fffffffu);
        return top >> 20;
    } else {
        GPUSUM_UNROLL
        for (const std::uint32_t w : v.word) top = max(top, w & 0x7fffffffu);
        const unsigned exponent = top >> 23;
        return exponent == 255 ? 2047 : exponent + 896;
    }
}

// x exactly onto `digits` (a warp's copy, in shared memory): its three
// pieces by 64-bit atomics; its special flags returned. Out of line, and
// given values only: the rare paths stay calls, the loop every element
// takes stays small and its state in registers, and its machine code shows
// the common path alone.
__device__ __noinline__ unsigned place_on_digits(unsigned long long* digits, double x) {
    const FloatPlace at = place_of(bits_of(x));
    if (at.low != 0) atomicAdd(&digits[at.digit], at.low);
    if (at.middle != 0) atomicAdd(&digits[at.digit + 1], at.middle);
    if (at.high != 0) atomicAdd(&digits[at.digit + 2], at.high);
    return at.special;
}

// A thread's sum on devices with full-rate FP64: its elements sliced into
// two FP64 registers; what the slices cannot take, and every
// kSlicedBetweenFlushes elements the two registers, placed exactly on its
// warp's digits.
template <class T>
class SlicedDigits {
  public:
    __device__ explicit SlicedDigits(unsigned long long* warp_digits) : digits_(warp_digits) {}

    // Heads and tails, a few elements per chunk: on the digits directly.
    __device__ void add(T x) { specials_ |= place_on_digits(digits_, static_cast<double>(x)); }

    __device__ void add(const Vector16& v) {
        constexpr unsigned per_vector = 16 / sizeof(T);
        const unsigned largest = largest_exponent<T>(v);
        if (largest >= bound_ || sliced_ > kSlicedBetweenFlushes - per_vector) {
            if (largest > kLargestSliced) {  // rare: NaN, infinities, beyond 2^1011
                GPUSUM_UNROLL
                for (unsigned e = 0; e < per_vector; ++e) add(element<T>(v, e));
                return;
            }
            move_bound(largest);
        }
        GPUSUM_UNROLL
        for (unsigned e = 0; e < per_vector; ++e) slice(static_cast<double>(element<T>(v, e)));
        sliced_ += per_vector;
    }
    __device__ void settle() {}

    // The slice sums onto the warp's digits.
    __device__ void flush() {
        specials_ |= place_on_digits(digits_, coarse_sum_);
        specials_ |= place_on_digits(digits_, fine_sum_);
        coarse_sum_ = fine_sum_ = 0;
        sliced_ = 0;
    }
    __device__ unsigned specials() const { return specials_; }

  private:
    __device__ void slice(double x) {
        const double h1 = __dsub_rn(__dadd_rn(x, coarse_), coarse_);
        const double r1 = __dsub_rn(x, h1);
        coarse_sum_ = __dadd_rn(coarse_sum_, h1);
        const double h2 = __dsub_rn(__dadd_rn(r1, fine_), fine_);
        const double r2 = __dsub_rn(r1, h2);
        fine_sum_ = __dadd_rn(fine_sum_, h2);
        if (r2 != 0) specials_ |= place_on_digits(digits_, r2);  // bits below both grids
    }

    // The slice sums onto the digits, and a bound that covers `largest`.
    __device__ void move_bound(unsigned largest) {
        flush();
        bound_ = max(bound_, largest + kBoundMargin);
        const int coarse = max(static_cast<int>(bound_) - 1023 - kCoarseGridBelowBound, -1074);
        coarse_ = grid_constant(coarse);
        fine_ = grid_constant(max(coarse - kFineGridBelowCoarse, -1074));
    }

    unsigned long long* digits_;
    unsigned bound_ = 0;            // biased exponent above every sliced element's; 0: none yet
    unsigned sliced_ = 0;           // elements in the slice sums
    double coarse_ = 0, fine_ = 0;  // the grids' constants
    double coarse_sum_ = 0, fine_sum_ = 0;
    unsigned specials_ = 0;
};

// For devices whose FP64 runs at a fraction of the integer rate (all but
// the data-centre parts: full_rate_fp64()), where slicing would be
// FP64-bound far below memory speed: each element placed on the digits by
// integer operations, added in registers while its elements fall on the
// same digits (typical data spans few multiples of 32 binades: N(0, 1)
// lies almost wholly on digit 31), moved to its warp's copy in shared
// memory when the place changes.
template <class T>
class PlacedDigits {
  public:
    __device__ explicit PlacedDigits(unsigned long long* warp_digits) : digits_(warp_digits) {}
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

// Whether a device runs FP64 at half its FP32 rate or better (P100, V100,
// A100, H100, H200, B200: compute capabilities 6.0, 7.0, 8.0, 9.0, 10.0),
// where the sliced sum is bound by memory; other devices place elements by
// integer operations. Major and minor as cudaDeviceProp gives them.
constexpr bool full_rate_fp64(int major, int minor) {
    return minor == 0 && (major == 6 || major == 7 || major == 8 || major == 9 || major == 10);
}

// `total` must be zero at launch; `data` aligned to sizeof(T), at most
// kMaxArrayLaunchElements elements. Blocks take chunks grid-stride, threads
// the chunk's 16-byte vectors block-stride (array_plan.hpp's add_span);
// each thread sums them Sliced or Placed (full_rate_fp64).
template <class T, bool Sliced>
__global__ void exact_float_reduce(const T* data, EvenSplit chunks, ExactFloat* total) {
    __shared__ unsigned long long per_warp[32][kFloatDigits];
    __shared__ unsigned block_specials;
    const unsigned warps = (blockDim.x + 31) / 32;
    for (unsigned i = threadIdx.x; i < warps * kFloatDigits; i += blockDim.x)
        per_warp[i / kFloatDigits][i % kFloatDigits] = 0;
    if (threadIdx.x == 0) block_specials = 0;
    __syncthreads();

    std::conditional_t<Sliced, SlicedDigits<T>, PlacedDigits<T>> mine(per_warp[threadIdx.x / 32]);
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
