// The float check's arithmetic: a long accumulator, and the window method
// that feeds it a block at a time. Private to verify/.
#pragma once

#include <cstdint>

#include "gpusum/array.hpp"
#include "gpusum/series.hpp"

namespace gpusum {

// Two magnitudes, positive and negative elements apart, least significant
// limb first, in units of 2^-1074: 2240 bits hold 2^64 elements of the
// largest double. Kept apart so that a carry stops at the first limb that
// does not overflow: one two's complement total would carry through every
// limb each time mixed-sign data crosses zero. They meet once, in value(),
// rounded by the hardware's integer-to-double conversion.
class LongAccumulator {
  public:
    static constexpr int kLimbs = 35;

    // One element of any value, taken apart by frexp.
    void add(double x);
    // value * 2^(position - 1074), |value| < 2^127, 0 <= position <= 1983.
    void add_scaled(i128 value, int position);
    void add(const LongAccumulator& other);
    double value() const;

  private:
    using Limbs = std::uint64_t[kLimbs];
    void add_words(bool negative, int k, const std::uint64_t* words, int count);
    Limbs positive_ = {};
    Limbs negative_ = {};
    int used_ = 0;  // limbs [used_, kLimbs) are zero in both
    bool nan_ = false, positive_inf_ = false, negative_inf_ = false;
};

// A float16's value from its fields, by arithmetic (the fast path moves bits).
double half_value(std::uint16_t bits);

// Adds the elements of a dense float block, in this machine's byte order,
// to `sum`: by windows of fixed-point integers (float_check.cpp), element by
// element where a window cannot hold them (NaN, infinities).
void check_float_block(ArrayView block, LongAccumulator& sum);

}  // namespace gpusum
