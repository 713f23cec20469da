// The independent checks of array sums, on up to `workers` threads (fewer if
// threads cannot be started). They share nothing with the fast paths but
// the chunking and the walk over a layout's rows.
#pragma once

#include <memory>
#include <vector>

#include "gpusum/array.hpp"
#include "gpusum/backend.hpp"

namespace gpusum {

class Progress;

// Integers: contiguous elements added into per-block counters as narrow as
// the block's total allows, 64-bit elements by their 32-bit halves summed
// apart; others element by element into 128 bits. Floats: each element taken
// apart by integer operations on its bits and added as a fixed-point integer
// in windows of exponents, the windows into 64-bit limbs, the total rounded
// by the hardware's own integer-to-double conversion; NaN and infinities by
// the same IEEE rules as rounded().
i128 check_sum_integers(ArrayView a, unsigned workers = 1, Progress* progress = nullptr);
double check_sum_floats(ArrayView a, unsigned workers = 1, Progress* progress = nullptr);

// The integer check of one block of elements in this machine's byte order,
// on this thread, by the same method: run by a backend right after its fast
// loop summed the block, while the block is still in cache, so the data is
// read from memory once for both.
i128 check_block_integers(ArrayView block);

// Whether the ranges cover [0, count) exactly once: the proof that checks
// made block by block walked the whole array, no element twice.
bool tiles(std::vector<ElementRange> walked, std::uint64_t count);

// The float check over data that arrives in pieces (device memory copied
// back a piece at a time, blocks checked in cache by a backend's workers):
// the same method, one exact total across pieces and merges.
class FloatCheck {
  public:
    FloatCheck();
    ~FloatCheck();
    FloatCheck(const FloatCheck&) = delete;
    FloatCheck& operator=(const FloatCheck&) = delete;
    void add(ArrayView piece, unsigned workers = 1);
    // A dense block in this machine's byte order, on this thread.
    void add_block(ArrayView block);
    void merge(const FloatCheck& other);
    double value() const;

  private:
    struct Total;
    std::unique_ptr<Total> total_;
};

// How the checks work, in one line each for reports.
inline constexpr const char* kIntegerCheckMethod =
    "second CPU path, exact: plain adds into per-block counters (64-bit elements by their "
    "32-bit halves), 128-bit totals";
inline constexpr const char* kFloatCheckMethod =
    "second exact method (fixed-point windows from the bits into a long accumulator), rounded "
    "independently; bits must match";

// Whether two reported float sums are the same: identical bits, or both NaN.
bool same_float(double a, double b);

}  // namespace gpusum
