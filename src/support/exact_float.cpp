// The exact float sum's host side: carries, merging, rounding to double.
#include <cmath>
#include <limits>

#include "gpusum/exact_float.hpp"
#include "support/exact_magnitude.hpp"

namespace gpusum {

void normalise(ExactFloat& sum) {
    // In 64 bits: a digit within its add budget is below 2^62 in magnitude
    // and a carry below 2^32, so their sum cannot overflow.
    std::int64_t carry = 0;
    for (int k = 0; k + 1 < kFloatDigits; ++k) {
        const std::int64_t v = static_cast<std::int64_t>(sum.digits[k]) + carry;
        sum.digits[k] = static_cast<std::uint64_t>(v) & 0xffffffffu;
        carry = v >> 32;  // floor division: the digit left behind is in [0, 2^32)
    }
    const i128 top =
        static_cast<i128>(static_cast<std::int64_t>(sum.digits[kFloatDigits - 1])) + carry;
    sum.digits[kFloatDigits - 1] = static_cast<std::uint64_t>(top);
}

void merge(ExactFloat& a, const ExactFloat& b) {
    std::uint64_t any = 0;
    for (int k = 0; k < kFloatDigits; ++k) {
        a.digits[k] += b.digits[k];
        any |= b.digits[k];
    }
    a.specials |= b.specials;
    if (any != 0) normalise(a);  // an empty partial (every integer chunk's) leaves `a` as it was
}

Magnitude magnitude_of(ExactFloat sum) {
    normalise(sum);
    Magnitude m;
    m.negative = static_cast<std::int64_t>(sum.digits[kFloatDigits - 1]) < 0;
    std::int64_t carry = 0;  // digits below 2^32, carries of magnitude at most 1
    for (int k = 0; k + 1 < kFloatDigits; ++k) {
        std::int64_t v = static_cast<std::int64_t>(sum.digits[k]);
        if (m.negative) v = -v;
        v += carry;
        m.word[k] = static_cast<std::uint64_t>(v) & 0xffffffffu;
        carry = v >> 32;
    }
    i128 top = static_cast<std::int64_t>(sum.digits[kFloatDigits - 1]);
    if (m.negative) top = -top;
    top += carry;  // non-negative now, below 2^62
    m.word[kFloatDigits - 1] = static_cast<std::uint64_t>(top) & 0xffffffffu;
    m.word[kFloatDigits] = static_cast<std::uint64_t>(top >> 32);
    return m;
}

namespace {

int bit_length(std::uint64_t x) {
    return x == 0 ? 0 : 64 - __builtin_clzll(x);
}

}  // namespace

double rounded(const ExactFloat& sum) {
    constexpr double inf = std::numeric_limits<double>::infinity();
    if ((sum.specials & kSawNaN) != 0 ||
        (sum.specials & (kSawPositiveInf | kSawNegativeInf)) == (kSawPositiveInf | kSawNegativeInf))
        return std::numeric_limits<double>::quiet_NaN();
    if ((sum.specials & kSawPositiveInf) != 0) return inf;
    if ((sum.specials & kSawNegativeInf) != 0) return -inf;

    const Magnitude m = magnitude_of(sum);
    int top = Magnitude::kWords - 1;
    while (top >= 0 && m.word[top] == 0) --top;
    if (top < 0) return 0.0;
    const int length = 32 * top + bit_length(m.word[top]);  // bits of the magnitude

    // The 64 bits from the leading one down (zeros below the magnitude's end),
    // and whether anything nonzero lies below them.
    const int low = length - 64;  // bit position of the window's last bit
    std::uint64_t window = 0;
    bool sticky = false;
    if (low < 0) {  // fewer than 64 bits: all of them, moved up (top is word 0 or 1)
        for (int w = top; w >= 0; --w) window = (window << 32) | m.word[w];
        window <<= -low;
    } else {  // three words hold the window; any bit below it is sticky
        const int first = low / 32, shift = low % 32;
        u128 bits = 0;
        for (int w = first + 2; w >= first; --w)
            bits = (bits << 32) | (w < Magnitude::kWords ? m.word[w] : 0);
        window = static_cast<std::uint64_t>(bits >> shift);
        for (int w = 0; w < first && !sticky; ++w) sticky = m.word[w] != 0;
        sticky = sticky || (m.word[first] & ((std::uint64_t{1} << shift) - 1)) != 0;
    }

    // Round the 64-bit window to 53 bits, to nearest, ties to even.
    std::uint64_t mantissa = window >> 11;
    const std::uint64_t rest = window & 0x7ff;
    const bool above_half = rest > 0x400 || (rest == 0x400 && sticky);
    const bool tie = rest == 0x400 && !sticky;
    if (above_half || (tie && (mantissa & 1) != 0)) ++mantissa;  // 2^53 is still exact
    // The value is mantissa * 2^(low + 11 - 1074): representable as a double
    // (subnormal or normal) unless it is beyond the range, where ldexp gives inf.
    const double value = std::ldexp(static_cast<double>(mantissa), low + 11 - 1074);
    return m.negative ? -value : value;
}

}  // namespace gpusum
