// The independent float check. Unlike the fast path (which slices each
// element on floating-point grids with the FPU's add-and-subtract, and keeps
// its total as 32-bit digits), the check takes every element apart by
// integer operations on its bits and adds it as a fixed-point integer:
//
// A block of up to 1024 elements is read once for its largest exponent,
// then once per window of exponents, highest first: each element whose
// exponent lies in the window is its mantissa shifted left by its distance
// from the window's bottom, negated if negative, and added into the lanes
// of per-lane integer accumulators (128-bit for float64, whose window spans
// 64 exponents; 64-bit for float32 (30) and float16 (43, all of them)). The
// window sizes leave room for 1024 adds in a lane, so nothing is rounded or
// lost; an element below the window sends the block round again, one
// window lower (the next one starts at the largest exponent left, so gaps
// between binades cost nothing). Each window's total joins a long
// accumulator of 64-bit limbs at the window's place. NaN and infinities go
// element by element. The vector loops are stamped per target
// (support/simd_targets.hpp) like the fast path's, from plain arithmetic
// on vectors.
#include "verify/float_check.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <limits>
#include <type_traits>

#include "support/simd_targets.hpp"
#include "support/simd_vectors.hpp"

namespace gpusum {

// --- The long accumulator ----------------------------------------------

// Adds `count` words (least significant first) at limb k of one magnitude,
// carrying as far as needed.
void LongAccumulator::add_words(bool negative, int k, const std::uint64_t* words, int count) {
    Limbs& limbs = negative ? negative_ : positive_;
    unsigned carry = 0;
    int j = k;
    for (int w = 0; w < count; ++w) {
        const u128 v = static_cast<u128>(limbs[j]) + words[w] + carry;
        limbs[j++] = static_cast<std::uint64_t>(v);
        carry = static_cast<unsigned>(v >> 64);
    }
    for (; carry != 0 && j < kLimbs; ++j) carry = ++limbs[j] == 0 ? 1 : 0;
    used_ = std::max(used_, j);
}

void LongAccumulator::add(double x) {
    if (std::isnan(x)) {
        nan_ = true;
        return;
    }
    if (std::isinf(x)) {
        (x > 0 ? positive_inf_ : negative_inf_) = true;
        return;
    }
    if (x == 0) return;
    int exponent = 0;
    const double fraction = std::frexp(std::fabs(x), &exponent);    // [0.5, 1)
    auto mantissa = static_cast<std::uint64_t>(fraction * 0x1p53);  // exact: a power of 2
    int position = exponent - 53 + 1074;                            // of the mantissa's lowest bit
    if (position < 0) {  // subnormal: the bits shifted out are zeros
        mantissa >>= -position;
        position = 0;
    }
    const u128 placed = static_cast<u128>(mantissa) << (position % 64);
    const std::uint64_t words[] = {static_cast<std::uint64_t>(placed),
                                   static_cast<std::uint64_t>(placed >> 64)};
    add_words(x < 0, position / 64, words, 2);
}

void LongAccumulator::add_scaled(i128 value, int position) {
    if (value == 0) return;
    const u128 magnitude = value < 0 ? -static_cast<u128>(value) : static_cast<u128>(value);
    const int shift = position % 64;
    const u128 upper = shift == 0 ? magnitude >> 64 : magnitude >> (64 - shift);
    const std::uint64_t words[] = {static_cast<std::uint64_t>(magnitude << shift),
                                   static_cast<std::uint64_t>(upper),
                                   static_cast<std::uint64_t>(upper >> 64)};
    add_words(value < 0, position / 64, words, 3);
}

void LongAccumulator::add(const LongAccumulator& other) {
    for (auto [mine, theirs] :
         {std::pair{&positive_, &other.positive_}, std::pair{&negative_, &other.negative_}}) {
        unsigned carry = 0;
        for (int k = 0; k < kLimbs && (k < other.used_ || carry != 0); ++k) {
            const u128 v = static_cast<u128>((*mine)[k]) + (*theirs)[k] + carry;
            (*mine)[k] = static_cast<std::uint64_t>(v);
            carry = static_cast<unsigned>(v >> 64);
            used_ = std::max(used_, k + 1);
        }
    }
    nan_ = nan_ || other.nan_;
    positive_inf_ = positive_inf_ || other.positive_inf_;
    negative_inf_ = negative_inf_ || other.negative_inf_;
}

double LongAccumulator::value() const {
    if (nan_ || (positive_inf_ && negative_inf_)) return std::numeric_limits<double>::quiet_NaN();
    if (positive_inf_) return std::numeric_limits<double>::infinity();
    if (negative_inf_) return -std::numeric_limits<double>::infinity();
    // |positive - negative|, the larger minus the smaller, over the limbs used.
    const bool negative =
        std::lexicographical_compare(std::rend(positive_) - used_, std::rend(positive_),
                                     std::rend(negative_) - used_, std::rend(negative_));
    const Limbs& larger = negative ? negative_ : positive_;
    const Limbs& smaller = negative ? positive_ : negative_;
    std::uint64_t magnitude[kLimbs] = {};
    unsigned borrow = 0;
    for (int k = 0; k < used_; ++k) {
        const u128 v = static_cast<u128>(larger[k]) - smaller[k] - borrow;
        magnitude[k] = static_cast<std::uint64_t>(v);
        borrow = static_cast<unsigned>(v >> 127);
    }
    int top = std::max(used_ - 1, 0);
    while (top > 0 && magnitude[top] == 0) --top;
    double v = 0;
    if (top == 0) {
        // Below 2^64 units: one conversion rounds it, and the scaling is
        // exact (a subnormal result has no bits below 2^-1074 to lose).
        v = std::ldexp(static_cast<double>(magnitude[0]), -1074);
    } else {
        // The leading 64 bits, with the lowest set if anything below them
        // is nonzero: the conversion then rounds exactly as the whole would.
        const int zeros = __builtin_clzll(magnitude[top]);
        std::uint64_t lead = magnitude[top] << zeros;
        std::uint64_t below = 0;
        if (zeros > 0) {
            lead |= magnitude[top - 1] >> (64 - zeros);
            below = magnitude[top - 1] << zeros;
        } else {
            below = magnitude[top - 1];
        }
        for (int k = 0; k < top - 1; ++k) below |= magnitude[k];
        if (below != 0) lead |= 1;
        const int lowest = 64 * (top - 1) + (64 - zeros);  // bit position of lead's lsb
        v = std::ldexp(static_cast<double>(lead), lowest - 1074);
    }
    return negative ? -v : v;
}

double half_value(std::uint16_t bits) {
    // 2^(e - 25) for the exponent fields e = 1..30; e = 0 (subnormal) is 2^-24 too.
    static constexpr auto kScales = [] {
        std::array<double, 31> scales{};
        double scale = 0x1p-24;
        scales[0] = scale;
        for (std::size_t e = 1; e < scales.size(); ++e, scale *= 2) scales[e] = scale;
        return scales;
    }();
    const unsigned exponent = (bits >> 10) & 0x1fU;
    const unsigned fraction = bits & 0x3ffU;
    double magnitude = 0;
    if (exponent == 0x1f)
        magnitude = fraction == 0 ? std::numeric_limits<double>::infinity()
                                  : std::numeric_limits<double>::quiet_NaN();
    else
        magnitude = (exponent == 0 ? fraction : 1024 + fraction) * kScales[exponent];
    return (bits & 0x8000) != 0 ? -magnitude : magnitude;
}

// --- The window method -------------------------------------------------

namespace {

using simd::Vec;

// An element's fields: its value is (fraction + hidden) * 2^(max(e, 1) +
// kPosition - 1074), hidden = 2^kFractionBits unless e = 0.
template <class Bits>
struct Format;
template <>
struct Format<std::uint16_t> {
    static constexpr int kFractionBits = 10, kPosition = 1049;
    static constexpr std::int64_t kExponentMask = 0x1f;
};
template <>
struct Format<std::uint32_t> {
    static constexpr int kFractionBits = 23, kPosition = 924;
    static constexpr std::int64_t kExponentMask = 0xff;
};
template <>
struct Format<std::uint64_t> {
    static constexpr int kFractionBits = 52, kPosition = -1;
    static constexpr std::int64_t kExponentMask = 0x7ff;
};

// Elements per block: a lane then takes at most 2^10 adds.
constexpr std::uint64_t kWindowBlock = 1024;

// float64 windows span 64 exponents in 128-bit lanes (2^53 * 2^63 * 2^10 <
// 2^127); narrower formats fit 64-bit lanes: 2^(bits + window) * 2^10 <= 2^63.
template <class Bits>
constexpr bool kWideLanes = sizeof(Bits) == 8;
template <class Bits>
constexpr std::int64_t kWindow = kWideLanes<Bits> ? 63
                                                  : 63 - 10 - (Format<Bits>::kFractionBits + 1);

// Elements are read as whole 64-bit words, Lanes at a time, each word then
// split into its 8 / sizeof(Bits) elements by shifts (the order of the adds
// does not matter): a float32 or float16 costs no widening instruction.
template <class Bits>
constexpr unsigned kPerWord = 8 / sizeof(Bits);

// Element k of every word of `words`, zero-extended (an out parameter, as
// for simd::load_lanes).
template <class Bits, class U>
__attribute__((always_inline)) inline void element_of(const U& words, unsigned k, U& out) {
    if constexpr (sizeof(Bits) == 8)
        out = words;
    else
        out = (words >> (8 * sizeof(Bits) * k)) & ((std::uint64_t{1} << (8 * sizeof(Bits))) - 1);
}

template <class Bits>
double to_double(Bits bits) {
    if constexpr (sizeof(Bits) == 2)
        return half_value(bits);
    else if constexpr (sizeof(Bits) == 4)
        return static_cast<double>(std::bit_cast<float>(bits));
    else
        return std::bit_cast<double>(bits);
}

// The largest exponent field below `under` of the block's elements, read
// in lanes of the elements' own width like extent() below.
template <class Bits, unsigned Lanes>
__attribute__((always_inline)) inline std::int64_t largest_exponent(const unsigned char* p,
                                                                    std::uint64_t n,
                                                                    std::int64_t under) {
    using Signed = std::make_signed_t<Bits>;
    using S = Vec<Signed, Lanes * kPerWord<Bits>>;
    constexpr int F = Format<Bits>::kFractionBits;
    constexpr auto kMask = static_cast<Signed>(Format<Bits>::kExponentMask);
    const auto below = static_cast<Signed>(under);  // at most the mask + 1: it fits
    S top = {};
    std::uint64_t i = 0;
    for (; i + Lanes * kPerWord<Bits> <= n; i += Lanes * kPerWord<Bits>) {
        S b;
        simd::load_lanes<Signed, Lanes * kPerWord<Bits>>(p, i, b);
        const S e = (b >> F) & kMask;
        const S candidate = e & (e < below);      // a mask of whole lanes, not a ternary:
        top = candidate > top ? candidate : top;  // GCC would do that one lane by lane
    }
    std::int64_t largest = 0;
    for (unsigned l = 0; l < Lanes * kPerWord<Bits>; ++l)
        largest = std::max<std::int64_t>(largest, top[l]);
    for (; i < n; ++i) {
        const auto e = static_cast<std::int64_t>((simd::load<Bits>(p, i) >> F) & kMask);
        if (e > largest && e < under) largest = e;
    }
    return largest;
}

// The block's largest and smallest magnitudes, as bits without the sign
// (the smallest is 0 if an element is zero).
struct Extent {
    std::int64_t largest = 0, smallest = 0;
};

// In lanes of the elements' own width (a float32 or float16 is widened for
// nothing here): signed, since no magnitude reaches the sign bit.
template <class Bits, unsigned Lanes>
__attribute__((always_inline)) inline Extent extent(const unsigned char* p, std::uint64_t n) {
    using Signed = std::make_signed_t<Bits>;
    using S = Vec<Signed, Lanes * kPerWord<Bits>>;
    constexpr auto kMagnitude = static_cast<Signed>((Bits{1} << (8 * sizeof(Bits) - 1)) - 1);
    S top = {}, bottom = S{} + kMagnitude;
    std::uint64_t i = 0;
    for (; i + Lanes * kPerWord<Bits> <= n; i += Lanes * kPerWord<Bits>) {
        S b;
        simd::load_lanes<Signed, Lanes * kPerWord<Bits>>(p, i, b);
        const S magnitude = b & kMagnitude;
        top = magnitude > top ? magnitude : top;
        const S less = magnitude - 1;  // a zero becomes -1
        bottom = less < bottom ? less : bottom;
    }
    Extent out{0, kMagnitude};
    for (unsigned l = 0; l < Lanes * kPerWord<Bits>; ++l) {
        out.largest = std::max<std::int64_t>(out.largest, top[l]);
        out.smallest = std::min<std::int64_t>(out.smallest, bottom[l]);
    }
    for (; i < n; ++i) {
        const auto magnitude = static_cast<std::int64_t>(simd::load<Bits>(p, i)) & kMagnitude;
        out.largest = std::max(out.largest, magnitude);
        out.smallest = std::min(out.smallest, magnitude - 1);
    }
    ++out.smallest;
    return out;
}

// One window [low, high] of exponents (after max(e, 1)), high - low <=
// kWindow: adds its elements' fixed-point values, in units of 2^(low +
// kPosition - 1074), to `total`, and says whether a nonzero element lies
// below it. Elements above it (added by earlier windows) and below it are
// left out. `Whole`: every element is normal (no zero, no subnormal) and
// lies in the window above its bottom, so the loop needs neither masks nor
// the check for elements below, and no shift is by 0.
template <class Bits, unsigned Lanes, bool Whole>
__attribute__((always_inline)) inline bool window_pass(const unsigned char* p, std::uint64_t n,
                                                       std::int64_t low, std::int64_t high,
                                                       i128& total) {
    using U = Vec<std::uint64_t, Lanes>;
    using S = Vec<std::int64_t, Lanes>;
    constexpr int F = Format<Bits>::kFractionBits;
    constexpr std::uint64_t kFraction = (std::uint64_t{1} << F) - 1;
    constexpr std::uint64_t kHidden = std::uint64_t{1} << F;
    constexpr int kSignBit = 8 * sizeof(Bits) - 1;
    U low_sum = {};  // 64-bit lanes, or the low words of 128-bit ones
    S high_sum = {};
    S below = {};  // the sign bit set once an element was below the window
    std::uint64_t i = 0;
    for (; i + Lanes * kPerWord<Bits> <= n; i += Lanes * kPerWord<Bits>) {
        U words;
        simd::load_lanes<std::uint64_t, Lanes>(p + i * sizeof(Bits), 0, words);
        for (unsigned k = 0; k < kPerWord<Bits>; ++k) {
            U b;
            element_of<Bits>(words, k, b);
            const S e = reinterpret_cast<S>((b >> F) & Format<Bits>::kExponentMask);
            S s;  // the mantissa's shift in the window
            U m;
            if constexpr (Whole) {
                s = e - low;
                m = (b & kFraction) | kHidden;
            } else {
                s = (e > 1 ? e : S{} + 1) - low;
                m = (b & kFraction) | (reinterpret_cast<U>(e != 0) & kHidden);
                below |= s & (m != 0);
                m &= reinterpret_cast<U>(reinterpret_cast<U>(s) <= high - low);  // s < 0 is huge
                s &= 63;
            }
            const S mantissa = reinterpret_cast<S>(m);
            S v;  // the signed mantissa
            if constexpr (sizeof(Bits) == 8)
                v = reinterpret_cast<S>(b) < 0 ? -mantissa : mantissa;
            else
                v = (b >> kSignBit) != 0 ? -mantissa : mantissa;
            const U lo = reinterpret_cast<U>(v) << s;
            low_sum += lo;
            if constexpr (kWideLanes<Bits>) {
                // The high word of v * 2^s: v >> (64 - s), as two shifts where s may be 0.
                if constexpr (Whole)
                    high_sum += v >> (64 - s);
                else
                    high_sum += (v >> 1) >> (63 - s);
                high_sum = low_sum < lo ? high_sum + 1 : high_sum;  // the low word's carry
            }
        }
    }
    bool any_below = false;
    for (unsigned l = 0; l < Lanes; ++l) {
        total += kWideLanes<Bits> ? (static_cast<i128>(high_sum[l]) << 64) + low_sum[l]
                                  : static_cast<i128>(static_cast<std::int64_t>(low_sum[l]));
        any_below = any_below || below[l] < 0;
    }
    for (; i < n; ++i) {
        const std::uint64_t b = simd::load<Bits>(p, i);
        const auto e = static_cast<std::int64_t>((b >> F) & Format<Bits>::kExponentMask);
        const std::int64_t s = std::max<std::int64_t>(e, 1) - low;
        const std::uint64_t m = (b & kFraction) | (e != 0 ? kHidden : 0);
        if (m == 0 || s > high - low) continue;
        if (s < 0) {
            any_below = true;
            continue;
        }
        const i128 v = static_cast<i128>(m) << s;
        total += (b >> kSignBit) != 0 ? -v : v;
    }
    return any_below;
}

template <class Bits, unsigned Lanes>
__attribute__((always_inline)) inline void window_blocks(const unsigned char* p, std::uint64_t n,
                                                         LongAccumulator& sum) {
    constexpr int F = Format<Bits>::kFractionBits;
    constexpr std::int64_t kSpecial = Format<Bits>::kExponentMask;
    for (std::uint64_t b = 0; b < n; b += kWindowBlock) {
        const std::uint64_t m = std::min(kWindowBlock, n - b);
        const unsigned char* q = p + b * sizeof(Bits);
        const Extent x = extent<Bits, Lanes>(q, m);
        const std::int64_t top = x.largest >> F;
        if (top == kSpecial) {  // NaN or infinity
            for (std::uint64_t i = 0; i < m; ++i) sum.add(to_double(simd::load<Bits>(q, i)));
            continue;
        }
        std::int64_t low = std::max<std::int64_t>(top - kWindow<Bits>, 1);
        if (x.smallest >> F > low) {  // the common case: one window, every element normal
            i128 total = 0;
            window_pass<Bits, Lanes, true>(q, m, low, top, total);
            sum.add_scaled(total, static_cast<int>(low) + Format<Bits>::kPosition);
            continue;
        }
        // Window after window, each below the last (clamped at the bottom,
        // a window is narrower, never overlapping the one above).
        for (std::int64_t high = std::max<std::int64_t>(top, 1);;) {
            i128 total = 0;
            const bool below = window_pass<Bits, Lanes, false>(q, m, low, high, total);
            sum.add_scaled(total, static_cast<int>(low) + Format<Bits>::kPosition);
            if (!below) break;
            high = std::max<std::int64_t>(largest_exponent<Bits, Lanes>(q, m, low), 1);
            low = std::max<std::int64_t>(high - kWindow<Bits>, 1);
        }
    }
}

// One body per instruction set, each calling always_inline code directly
// (a lambda's body would be compiled outside the target attribute).
#define GPUSUM_STAMP_FLOAT_CHECK(suffix, target_attr, vector_bytes)      \
    target_attr void check_##suffix(ArrayView a, LongAccumulator& sum) { \
        constexpr unsigned lanes = (vector_bytes) / 8;                   \
        if (a.dtype == DType::float16)                                   \
            window_blocks<std::uint16_t, lanes>(a.data, a.count, sum);   \
        else if (a.dtype == DType::float32)                              \
            window_blocks<std::uint32_t, lanes>(a.data, a.count, sum);   \
        else                                                             \
            window_blocks<std::uint64_t, lanes>(a.data, a.count, sum);   \
    }
GPUSUM_SIMD_TARGETS(GPUSUM_STAMP_FLOAT_CHECK)
#undef GPUSUM_STAMP_FLOAT_CHECK

#define GPUSUM_FLOAT_CHECK(suffix, target_attr, vector_bytes) check_##suffix,
constexpr void (*kFloatChecks[])(ArrayView,
                                 LongAccumulator&) = {GPUSUM_SIMD_TARGETS(GPUSUM_FLOAT_CHECK)};
#undef GPUSUM_FLOAT_CHECK

}  // namespace

void check_float_block(ArrayView block, LongAccumulator& sum) {
    simd::pick(kFloatChecks)(block, sum);
}

}  // namespace gpusum
