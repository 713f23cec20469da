// The element types' vocabulary (array.hpp): names, NumPy's spellings,
// sizes, and chunk i of n of an array.
#include <utility>

#include "gpusum/array.hpp"

namespace gpusum {

namespace {

constexpr DType kAllTypes[] = {DType::int8,    DType::int16,   DType::int32,   DType::int64,
                               DType::uint8,   DType::uint16,  DType::uint32,  DType::uint64,
                               DType::float32, DType::float64, DType::boolean, DType::float16};

}  // namespace

std::string_view dtype_name(DType t) {
    static constexpr std::string_view names[] = {"int8",    "int16",   "int32",  "int64",
                                                 "uint8",   "uint16",  "uint32", "uint64",
                                                 "float32", "float64", "bool",   "float16"};
    return names[static_cast<int>(t)];
}

std::optional<DType> parse_dtype(std::string_view name) {
    for (DType t : kAllTypes)
        if (dtype_name(t) == name) return t;
    // A byte order that needs no swapping on a little-endian machine.
    if (!name.empty() && (name.front() == '<' || name.front() == '=' || name.front() == '|'))
        name.remove_prefix(1);
    static constexpr std::pair<std::string_view, DType> spellings[] = {
        {"i1", DType::int8},        {"i2", DType::int16},         {"i4", DType::int32},
        {"i8", DType::int64},       {"u1", DType::uint8},         {"u2", DType::uint16},
        {"u4", DType::uint32},      {"u8", DType::uint64},        {"f2", DType::float16},
        {"f4", DType::float32},     {"f8", DType::float64},       {"b1", DType::boolean},
        {"?", DType::boolean},      {"b", DType::int8},           {"B", DType::uint8},
        {"h", DType::int16},        {"H", DType::uint16},         {"i", DType::int32},
        {"I", DType::uint32},       {"q", DType::int64},          {"Q", DType::uint64},
        {"e", DType::float16},      {"f", DType::float32},        {"d", DType::float64},
        {"byte", DType::int8},      {"ubyte", DType::uint8},      {"short", DType::int16},
        {"ushort", DType::uint16},  {"intc", DType::int32},       {"uintc", DType::uint32},
        {"longlong", DType::int64}, {"ulonglong", DType::uint64}, {"int", DType::int64},
        {"int_", DType::int64},     {"uint", DType::uint64},      {"half", DType::float16},
        {"single", DType::float32}, {"double", DType::float64},   {"float", DType::float64},
        {"float_", DType::float64}, {"bool_", DType::boolean}};
    for (const auto& [spelling, t] : spellings)
        if (spelling == name) return t;
    return std::nullopt;
}

std::size_t dtype_size(DType t) {
    if (t == DType::float16) return 2;
    return visit_dtype(t, [](auto v) { return sizeof(v); });
}

bool is_float(DType t) {
    return t == DType::float32 || t == DType::float64 || t == DType::float16;
}

ArrayView chunk_of(ArrayView a, std::uint64_t chunks, std::uint64_t i) {
    const std::uint64_t begin = chunk_begin(a.count, chunks, i);
    const std::uint64_t end = chunk_begin(a.count, chunks, i + 1);
    if (a.layout != nullptr) return {a.data, end - begin, a.dtype, a.layout, a.first + begin};
    return {a.data + begin * dtype_size(a.dtype), end - begin, a.dtype};
}

}  // namespace gpusum
