// Arrays of numbers in memory: their element types, their exact sums
// (integers and floats), and the independent checks.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "gpusum/exact_float.hpp"
#include "gpusum/series.hpp"

namespace gpusum {

class Progress;

enum class DType : std::uint8_t {
    int8,
    int16,
    int32,
    int64,
    uint8,
    uint16,
    uint32,
    uint64,
    float32,
    float64,
    boolean,  // NumPy bool: one byte, 0 or 1; summed as uint8 (the count of True)
    float16   // only in files: widened to float32 (exactly) when read
};

// Calls f(T{}) with the C++ element type of `t`; returns what f returns.
// float16 has none: inputs are widened to float32 before anything sums them.
template <class F>
decltype(auto) visit_dtype(DType t, F&& f) {
    switch (t) {
        case DType::boolean:
            return f(std::uint8_t{});
        case DType::float16:  // never visited; see above
        case DType::int8:
            return f(std::int8_t{});
        case DType::int16:
            return f(std::int16_t{});
        case DType::int32:
            return f(std::int32_t{});
        case DType::int64:
            return f(std::int64_t{});
        case DType::uint8:
            return f(std::uint8_t{});
        case DType::uint16:
            return f(std::uint16_t{});
        case DType::uint32:
            return f(std::uint32_t{});
        case DType::uint64:
            return f(std::uint64_t{});
        case DType::float32:
            return f(float{});
        case DType::float64:
            return f(double{});
    }
    __builtin_unreachable();
}

std::string_view dtype_name(DType t);  // "int64", "bool", "float16"
// NumPy's spellings: names (int64, float32, bool, double, ...), type codes
// with an optional little-endian or native byte order (i8, <f4, =u2, |b1,
// ?, f2). Big-endian codes are not accepted.
std::optional<DType> parse_dtype(std::string_view);
std::size_t dtype_size(DType t);
bool is_float(DType t);

// Elements in memory, possibly unaligned (a file's data can start anywhere).
struct ArrayView {
    const unsigned char* data = nullptr;
    std::uint64_t count = 0;
    DType dtype = DType::int64;

    std::uint64_t bytes() const { return count * dtype_size(dtype); }
};

// Chunk i of n, by the same definition as for series.
ArrayView chunk_of(ArrayView a, std::uint64_t chunks, std::uint64_t i);

// The fast paths: vectorised, at memory bandwidth, exact.
// Integers: 64-bit elements are split into 32-bit halves whose sums cannot
// overflow their 64-bit lanes, so no element pattern can wrap.
i128 sum_integers(ArrayView a);
// Floats (float32 widened to double, exactly): the exact total
// (exact_float.hpp), normalised; rounded() gives the double to report.
ExactFloat sum_floats(ArrayView a);

// The independent checks, on up to `workers` threads (fewer if threads
// cannot be started). Integers: one 128-bit add per element. Floats: a
// different exact method (exact_check.cpp): each element taken apart by
// frexp and added with full carries into 64-bit limbs, the total rounded by
// the hardware's own integer-to-double conversion; NaN and infinities by the
// same IEEE rules as rounded().
i128 check_sum_integers(ArrayView a, unsigned workers = 1, Progress* progress = nullptr);
double check_sum_floats(ArrayView a, unsigned workers = 1, Progress* progress = nullptr);

// Whether two reported float sums are the same: identical bits, or both NaN.
bool same_float(double a, double b);

}  // namespace gpusum
