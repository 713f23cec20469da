// The independent checks of array sums, on up to `workers` threads (fewer if
// threads cannot be started). They share nothing with the fast paths but
// the chunking and the walk over a layout's rows.
#pragma once

#include <memory>

#include "gpusum/array.hpp"

namespace gpusum {

class Progress;

// Integers: 128-bit adds (contiguous 64-bit elements by their 32-bit
// halves, summed apart in 64-bit words). Floats: each element taken apart by
// frexp and added with full carries into 64-bit limbs, the total rounded by
// the hardware's own integer-to-double conversion; NaN and infinities by the
// same IEEE rules as rounded().
i128 check_sum_integers(ArrayView a, unsigned workers = 1, Progress* progress = nullptr);
double check_sum_floats(ArrayView a, unsigned workers = 1, Progress* progress = nullptr);

// The float check over data that arrives in pieces (device memory copied
// back a piece at a time): the same method, one exact total across pieces.
class FloatCheck {
  public:
    FloatCheck();
    ~FloatCheck();
    FloatCheck(const FloatCheck&) = delete;
    FloatCheck& operator=(const FloatCheck&) = delete;
    void add(ArrayView piece, unsigned workers = 1);
    double value() const;

  private:
    struct Total;
    std::unique_ptr<Total> total_;
};

// Whether two reported float sums are the same: identical bits, or both NaN.
bool same_float(double a, double b);

}  // namespace gpusum
