// Arrays of numbers in memory: their element types, exact integer sums,
// accurate float sums with an error bound, and the independent checks.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "gpusum/series.hpp"

namespace gpusum {

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
    float64
};

// Calls f(T{}) with the C++ element type of `t`; returns what f returns.
template <class F>
decltype(auto) visit_dtype(DType t, F&& f) {
    switch (t) {
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

std::string_view dtype_name(DType t);                // "int64"
std::optional<DType> parse_dtype(std::string_view);  // the names above
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

// A float sum: the value, the sum of magnitudes, and a bound on |value - exact|.
struct FloatSum {
    double value = 0;
    double magnitude = 0;
    double error_bound = 0;
};

// The fast paths: vectorised, at memory bandwidth.
// Integers: exact; 64-bit elements are split into 32-bit halves whose sums
// cannot overflow their 64-bit lanes, so no element pattern can wrap.
i128 sum_integers(ArrayView a);
// Floats (float32 widened to double): 16 lanes per block, pairwise across
// blocks; error_bound is the standard gamma_k * sum|x| bound for that order.
FloatSum sum_floats(ArrayView a);
// A bound on the rounding error of a sum whose longest path of additions is
// `steps` deep, given the sum of magnitudes: gamma_steps * magnitude, itself
// inflated for the rounding of `magnitude`.
double rounding_bound(double steps, double magnitude);

// Partial float sums combined pairwise, bounds added up.
FloatSum combine_float_sums(const std::vector<FloatSum>& parts);

// The independent checks: plain scalar loops, a different algorithm.
// Integers: one 128-bit add per element. Floats: Neumaier's compensated sum
// in long double; its own bound is in error_bound.
i128 check_sum_integers(ArrayView a);
FloatSum check_sum_floats(ArrayView a);

// Whether two float sums agree within their bounds (both non-finite and
// identical also counts as agreement: NaN and infinities propagate).
bool agree(const FloatSum& a, const FloatSum& b);

}  // namespace gpusum
