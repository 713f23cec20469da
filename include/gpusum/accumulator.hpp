// Exact sums that merge. An Accumulator takes data piece by piece (anything
// sum() takes, each piece summed and checked as sum() does it), merges with
// other accumulators in any order, and writes its state to a small byte
// string that any machine reads back. However the data was split, added and
// merged, the result has the bits one sum() of all of it would give:
// integer totals are exact at any size (to about 2^1000), float totals are
// rounded once, at the end, and integers added to a float accumulator are
// exact too.
//
//   gpusum::Accumulator total;
//   for (const auto& piece : pieces) total.add(std::span<const double>(piece));
//   std::string saved = total.to_bytes();      // ~30-300 bytes
//   gpusum::Accumulator other = gpusum::Accumulator::from_bytes(saved_elsewhere);
//   total.merge(other);
//   double exact = total.value();
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "gpusum/exact_float.hpp"
#include "gpusum/gpusum.hpp"

namespace gpusum {

class Accumulator {
  public:
    void add(Range range, const Options& options = {});
    void add(ArrayView array, const Options& options = {});
    void add(DeviceArray array, const Options& options = {});
    template <class T>
    void add(std::span<const T> values, const Options& options = {}) {
        add(ArrayView{reinterpret_cast<const unsigned char*>(values.data()), values.size(),
                      dtype_of<T>()},
            options);
    }
    void merge(const Accumulator& other);

    // Whether a float element was added: the result is then a float.
    bool is_float() const { return is_float_; }
    // Elements added, merged ones included (at most 2^64 - 1: an
    // accumulator merged with itself often enough would count more).
    std::uint64_t elements() const { return elements_; }
    // The total correctly rounded to double (ties to even; NaN and
    // infinities by IEEE rules, as sum() gives them).
    double value() const;
    // The exact total of integer data, in decimal; InputError for float data.
    std::string integer_text() const;
    // The same as i128; InputError for float data or a total beyond 128 bits.
    i128 integer() const;

    // The state as bytes: a version, the flags, the element count and the
    // total's nonzero digits, little-endian whatever the machine.
    std::string to_bytes() const;
    // InputError for bytes that are not an accumulator's.
    static Accumulator from_bytes(std::string_view bytes);

  private:
    void add_total(const ExactFloat& total, std::uint64_t elements, bool real);

    ExactFloat total_;  // normalised; integers in the same units as floats
    std::uint64_t elements_ = 0;
    bool is_float_ = false;
};

}  // namespace gpusum
