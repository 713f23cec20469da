// An exact float sum's value as a sign and 32-bit words: for the code that
// reads it bit by bit (rounding to double, the integer an accumulator holds).
#pragma once

#include <cstdint>

#include "gpusum/exact_float.hpp"

namespace gpusum {

// The magnitude as 32-bit words, least significant first (the top digit
// may need two words); word k weighs 2^(32k - 1074), as digit k does.
struct Magnitude {
    static constexpr int kWords = kFloatDigits + 1;
    std::uint64_t word[kWords] = {};
    bool negative = false;
};

// Of `sum` normalised (a copy: `sum` itself is left as it is).
Magnitude magnitude_of(ExactFloat sum);

}  // namespace gpusum
