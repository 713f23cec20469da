// Exact sums of floating-point numbers, shared by the CPU loops and the GPU
// kernels (host and device code).
//
// Every finite double is an integer multiple of 2^-1074: m * 2^(p - 1074)
// with m < 2^53 and 0 <= p <= 2045. So the sum of any doubles is an integer
// in units of 2^-1074, kept here in base 2^32: digit k weighs 2^(32k - 1074).
// An element adds its mantissa, shifted into place, as three pieces of
// magnitude below 2^32 (a superaccumulator in the manner of Neal's "small
// superaccumulator", with three pieces instead of two so no carry is ever
// needed while adding). A digit is a 64-bit word that wraps, holding a signed
// value: after N adds of at most 2^32 each it is below N * 2^32 in magnitude,
// exact while N < 2^31, so carries are propagated (normalise) only every
// kFloatAddsBetweenCarries elements. The order of the adds never matters: the
// total is one integer, so every backend, worker count and device produces
// the same bits, and only the final rounding to double rounds at all.
#pragma once

#include <cstdint>
#include <cstring>

#include "gpusum/series.hpp"

namespace gpusum {

// Digits 0..65 receive element pieces (p = 2045: digit 63, plus two above);
// digit 66 keeps the carries and the sign of up to 2^64 elements of any size.
inline constexpr int kFloatDigits = 67;
inline constexpr std::uint64_t kFloatAddsBetweenCarries = std::uint64_t{1} << 30;

// What an element was, besides its finite value.
enum FloatSpecial : unsigned { kSawNaN = 1, kSawPositiveInf = 2, kSawNegativeInf = 4 };

// Where one element goes: its three pieces, added at `digit`, `digit` + 1
// and `digit` + 2 (wrapping), or, for NaN and infinities, nothing but
// `special`. A piece's magnitude is below 2^32; a negative element adds its
// pieces negated.
struct FloatPlace {
    unsigned digit;
    std::uint64_t low, middle, high;
    unsigned special;
};

// How a NaN or infinity is recorded (0 for finite values).
GPUSUM_HD constexpr unsigned special_of(bool special, bool nan, bool negative) {
    return !special   ? 0u
           : nan      ? unsigned{kSawNaN}
           : negative ? unsigned{kSawNegativeInf}
                      : unsigned{kSawPositiveInf};
}

// mantissa * 2^shift (mantissa < 2^53, shift < 32) cut at bits 32 and 64,
// with the element's sign: plain 64-bit shifts, no 128-bit arithmetic.
GPUSUM_HD inline void set_pieces(FloatPlace& out, std::uint64_t mantissa, unsigned shift,
                                 bool negative) {
    const std::uint64_t shifted = mantissa << shift;  // bits 0..63 of the product
    const std::uint64_t sign = negative ? ~std::uint64_t{0} : 0;
    out.low = ((shifted & 0xffffffffu) ^ sign) - sign;
    out.middle = ((shifted >> 32) ^ sign) - sign;
    out.high = ((shift == 0 ? 0 : mantissa >> (64 - shift)) ^ sign) - sign;
}

// A double m * 2^(p - 1074), m < 2^53: digit p / 32, shift p % 32.
GPUSUM_HD inline FloatPlace place_of(std::uint64_t bits) {
    const auto biased = static_cast<unsigned>((bits >> 52) & 0x7ff);
    const std::uint64_t fraction = bits & ((std::uint64_t{1} << 52) - 1);
    const bool special = biased == 0x7ff;
    // Subnormals (biased 0) share p = 0 with the smallest normals.
    const unsigned p = biased == 0 ? 0 : biased - 1;
    const std::uint64_t mantissa =
        special ? 0 : fraction | (biased != 0 ? std::uint64_t{1} << 52 : 0);
    FloatPlace out;
    out.digit = p / 32;
    set_pieces(out, mantissa, p % 32, (bits >> 63) != 0);
    out.special = special_of(special, fraction != 0, (bits >> 63) != 0);
    return out;
}

// A float m * 2^(b - 150), m < 2^24, is m * 2^(b + 924 - 1074) in the
// doubles' units (subnormals: b = 1): the same digits as the float widened
// to double, straight from its 32 bits. m * 2^shift < 2^55, so the high
// piece is always 0 and a float costs two adds.
GPUSUM_HD inline FloatPlace place_of_single(std::uint32_t bits) {
    const unsigned biased = (bits >> 23) & 0xff;
    const std::uint32_t fraction = bits & 0x7fffff;
    const bool special = biased == 0xff;
    const unsigned q = (biased == 0 ? 1 : biased) + 924;
    const std::uint64_t mantissa = special ? 0 : fraction | (biased != 0 ? 1u << 23 : 0u);
    FloatPlace out;
    out.digit = q / 32;
    set_pieces(out, mantissa, q % 32, (bits >> 31) != 0);
    out.high = 0;  // said outright, so the compiler drops its computation
    out.special = special_of(special, fraction != 0, (bits >> 31) != 0);
    return out;
}

GPUSUM_HD inline std::uint32_t bits_of(float x) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(x);
#else
    std::uint32_t b;
    std::memcpy(&b, &x, sizeof b);
    return b;
#endif
}

GPUSUM_HD inline std::uint64_t bits_of(double x) {
#if defined(__CUDA_ARCH__)
    return static_cast<std::uint64_t>(__double_as_longlong(x));
#else
    std::uint64_t b;
    std::memcpy(&b, &x, sizeof b);
    return b;
#endif
}

// A sum of doubles, exact: digits (see above) and the specials seen.
struct ExactFloat {
    std::uint64_t digits[kFloatDigits] = {};
    unsigned specials = 0;

    GPUSUM_HD void add(double x) {
        const FloatPlace at = place_of(bits_of(x));
        digits[at.digit] += at.low;
        digits[at.digit + 1] += at.middle;
        digits[at.digit + 2] += at.high;
        specials |= at.special;
    }
};

// Propagates carries: digits 0..65 in [0, 2^32), digit 66 signed. Adding
// two normalised sums (merge) or kFloatAddsBetweenCarries elements to one
// keeps every digit exact.
void normalise(ExactFloat& sum);
// a += b, normalised; both must be normalised (or within their add budget).
// A zero b (every integer chunk's partial) leaves a as it was, at no cost.
void merge(ExactFloat& a, const ExactFloat& b);
// The sum rounded to the nearest double, ties to even; IEEE specials: any NaN
// or both infinities give NaN, one infinity gives itself, a total beyond the
// double range gives an infinity of its sign.
double rounded(const ExactFloat& sum);

}  // namespace gpusum
