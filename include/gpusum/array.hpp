// Arrays of numbers in memory: their element types and how their elements
// lie (views with gaps, swapped bytes).
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "gpusum/exact_float.hpp"
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
    float64,
    boolean,  // NumPy bool: one byte, True when nonzero; the sum counts the True bytes
    float16   // IEEE half: widened to float32 (exactly) before it is summed
};

// Calls f(T{}) with the C++ element type of `t`; returns what f returns.
// float16 has none: it is widened to float32 before anything sums it.
template <class F>
decltype(auto) visit_dtype(DType t, F&& f) {
    switch (t) {
        case DType::boolean:  // a byte; every summing path counts the nonzero ones
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

// Where the elements of a view lie when they are not one block of memory:
// a NumPy view with gaps (a[::2], a column of a matrix), in C order, with
// strides in bytes of either sign; and whether their bytes are in the other
// order than this machine's.
struct Layout {
    std::vector<std::uint64_t> shape;
    std::vector<std::int64_t> strides;
    bool swapped = false;
};

// Elements in memory, possibly unaligned (a file's data can start anywhere).
// Without a layout, `count` elements from `data` on, in this machine's byte
// order. With one, `data` is element [0, ..., 0] of the layout and the view
// holds the `count` elements from flat (C order) index `first` on; the
// layout belongs to the caller and must outlive the view, like the data.
struct ArrayView {
    const unsigned char* data = nullptr;
    std::uint64_t count = 0;
    DType dtype = DType::int64;
    const Layout* layout = nullptr;
    std::uint64_t first = 0;

    std::uint64_t bytes() const { return count * dtype_size(dtype); }
    // Elements the dense loops read directly; others are gathered a block
    // at a time.
    bool dense() const { return layout == nullptr && dtype != DType::float16; }
    // Whether each element's bytes are in the other order than this machine's.
    bool swapped() const { return layout != nullptr && layout->swapped; }
};

// The view of the elements at `origin` (element [0, ..., 0]) laid out by
// `shape` and byte `strides` of either sign, as the buffer protocol and
// DLPack (its strides times the item size) describe arrays; `layout` is
// filled when needed and must outlive the view. Elements that fill one block
// of memory in this machine's byte order, in any order of dimensions and
// signs of strides, are one plain block (a sum does not care about order),
// read by the dense loops; others get a layout with dimensions of extent 1
// dropped and dimensions that continue each other merged (longer runs).
// InputError for a negative extent or as many strides as dimensions.
ArrayView strided_view(const unsigned char* origin, DType dtype,
                       std::span<const std::int64_t> shape, std::span<const std::int64_t> strides,
                       bool swapped, Layout& layout);

// Chunk i of n, by the same definition as for series.
ArrayView chunk_of(ArrayView a, std::uint64_t chunks, std::uint64_t i);

// Calls run(p, n, stride) for the runs of elements the view holds, in
// order: n elements from p on, `stride` bytes apart (one run for a view
// without a layout; one per row of the innermost dimension otherwise).
template <class Run>
void for_each_run(const ArrayView& a, Run&& run);

// The value of a float16 (IEEE binary16) given by its bits, exactly. Inline:
// the loops widen every element with it.
inline float half_to_float(std::uint16_t bits) {
    const std::uint32_t sign = std::uint32_t{bits & 0x8000U} << 16;
    const std::uint32_t exponent = (bits >> 10) & 0x1fU;
    const std::uint32_t fraction = bits & 0x3ffU;
    std::uint32_t magnitude = 0;
    if (exponent == 0x1f)  // infinities and NaN (payload kept)
        magnitude = 0x7f800000U | (fraction << 13);
    else if (exponent != 0)  // normal: rebias 15 -> 127
        magnitude = ((exponent + 112) << 23) | (fraction << 13);
    else  // zero and subnormals: fraction * 2^-24, exact in float
        magnitude = std::bit_cast<std::uint32_t>(static_cast<float>(fraction) * 0x1p-24F);
    return std::bit_cast<float>(sign | magnitude);
}

template <class Run>
void for_each_run(const ArrayView& a, Run&& run) {
    if (a.count == 0) return;
    if (a.layout == nullptr) {
        const auto size = static_cast<std::int64_t>(dtype_size(a.dtype));
        run(a.data, a.count, size);
        return;
    }
    const Layout& l = *a.layout;
    const std::size_t dims = l.shape.size();
    if (dims == 0) {  // a 0-d array: one element
        run(a.data, a.count, std::int64_t{0});
        return;
    }
    // The multi-index of flat index `first`, and its address.
    std::vector<std::uint64_t> index(dims);
    const unsigned char* p = a.data;
    std::uint64_t rest = a.first;
    for (std::size_t d = dims; d-- > 0;) {
        index[d] = rest % l.shape[d];
        rest /= l.shape[d];
        p += static_cast<std::int64_t>(index[d]) * l.strides[d];
    }
    const std::size_t inner = dims - 1;
    for (std::uint64_t left = a.count; left > 0;) {
        const std::uint64_t n = std::min(left, l.shape[inner] - index[inner]);
        run(p, n, l.strides[inner]);
        left -= n;
        // Step to the start of the next row: the odometer carries.
        p += static_cast<std::int64_t>(n) * l.strides[inner];
        index[inner] += n;
        for (std::size_t d = inner; d > 0 && index[d] == l.shape[d]; --d) {
            p -= static_cast<std::int64_t>(l.shape[d]) * l.strides[d];
            index[d] = 0;
            ++index[d - 1];
            p += l.strides[d - 1];
        }
    }
}

}  // namespace gpusum
