#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>

#include "backends/cpu/simd/loops.hpp"
#include "gpusum/array.hpp"
#include "gpusum/errors.hpp"
#include "helpers/reference.hpp"
#include "support/text.hpp"
#include "verify/array_check.hpp"

using gpusum::ArrayView;
using gpusum::DType;
using gpusum::i128;

namespace {

template <class T>
std::vector<T> random_values(std::mt19937_64& rng, std::size_t n) {
    std::vector<T> v(n);
    for (auto& x : v) x = static_cast<T>(rng());  // the full range of T
    return v;
}

template <class T>
i128 reference_sum(const std::vector<T>& v) {
    i128 total = 0;
    for (const T x : v) total += x;
    return total;
}

// The same values placed at an odd address: files need not be aligned.
template <class T>
ArrayView unaligned_view(const std::vector<T>& v, std::vector<unsigned char>& storage, DType t) {
    storage.assign(v.size() * sizeof(T) + 1, 0);
    const auto* bytes = reinterpret_cast<const unsigned char*>(v.data());
    std::copy(bytes, bytes + v.size() * sizeof(T), storage.begin() + 1);
    return {storage.data() + 1, v.size(), t};
}

template <class T>
void check_integer_type(DType t) {
    std::mt19937_64 rng(static_cast<unsigned>(t) + 10);
    for (std::size_t n : {0, 1, 7, 31, 64, 100, 1000, 4097, 100'000}) {
        const auto values = random_values<T>(rng, n);
        std::vector<unsigned char> storage;
        const ArrayView view = unaligned_view(values, storage, t);
        const std::string expected = gpusum::to_string(reference_sum(values));
        CAPTURE(n);
        CHECK(gpusum::to_string(gpusum::sum_integers(view)) == expected);
        CHECK(gpusum::to_string(gpusum::check_sum_integers(view)) == expected);
    }
}

}  // namespace

TEST_CASE("integer arrays of every type sum exactly, totals beyond 64 bits included") {
    check_integer_type<std::int8_t>(DType::int8);
    check_integer_type<std::int16_t>(DType::int16);
    check_integer_type<std::int32_t>(DType::int32);
    check_integer_type<std::int64_t>(DType::int64);
    check_integer_type<std::uint8_t>(DType::uint8);
    check_integer_type<std::uint16_t>(DType::uint16);
    check_integer_type<std::uint32_t>(DType::uint32);
    check_integer_type<std::uint64_t>(DType::uint64);
}

TEST_CASE("8- and 16-bit extremes: lanes and counters are emptied before they could wrap") {
    // Over twice the 2^16 values a lane takes on the widest target (64 lanes
    // in flight), and a ragged tail.
    const std::size_t n = (std::size_t{1} << 16) * 64 * 2 + 13;
    const auto check_all = [&]<class T>(T value, DType t) {
        const std::vector<T> v(n, value);
        const ArrayView view{reinterpret_cast<const unsigned char*>(v.data()), v.size(), t};
        CAPTURE(static_cast<long>(value));
        CHECK(gpusum::sum_integers(view) == i128{value} * static_cast<i128>(n));
        CHECK(gpusum::check_sum_integers(view) == i128{value} * static_cast<i128>(n));
        CHECK(gpusum::check_block_integers(view) == i128{value} * static_cast<i128>(n));
    };
    check_all(std::int16_t{INT16_MIN}, DType::int16);
    check_all(std::int16_t{INT16_MAX}, DType::int16);
    check_all(std::uint16_t{UINT16_MAX}, DType::uint16);
    check_all(std::int8_t{INT8_MIN}, DType::int8);
    check_all(std::int8_t{INT8_MAX}, DType::int8);
    check_all(std::uint8_t{UINT8_MAX}, DType::uint8);
    // Bools: every byte true (0xff), counted once each.
    const std::vector<std::uint8_t> trues(n, 0xff);
    const ArrayView bools{trues.data(), n, DType::boolean};
    CHECK(gpusum::sum_integers(bools) == static_cast<i128>(n));
    CHECK(gpusum::check_sum_integers(bools) == static_cast<i128>(n));
    CHECK(gpusum::check_block_integers(bools) == static_cast<i128>(n));
}

TEST_CASE("int64 extremes: every element INT64_MIN or INT64_MAX") {
    for (std::int64_t value : {INT64_MIN, INT64_MAX}) {
        const std::vector<std::int64_t> v(1000, value);
        const ArrayView view{reinterpret_cast<const unsigned char*>(v.data()), v.size(),
                             DType::int64};
        CHECK(gpusum::sum_integers(view) == i128{value} * 1000);
    }
    const std::vector<std::uint64_t> u(999, UINT64_MAX);
    const ArrayView uview{reinterpret_cast<const unsigned char*>(u.data()), u.size(),
                          DType::uint64};
    CHECK(gpusum::sum_integers(uview) == static_cast<i128>(UINT64_MAX) * 999);
}

TEST_CASE("64-bit arrays: small-value fast path and exact fallback, sub-block by sub-block") {
    std::mt19937_64 rng(16);
    std::uniform_int_distribution<std::int64_t> small(-(INT64_C(1) << 32), (INT64_C(1) << 32) - 1);
    std::vector<std::int64_t> v(100'000);
    for (auto& x : v) x = small(rng);
    // The edges of the fast path, and a few values beyond it in some sub-blocks.
    v[5] = -(INT64_C(1) << 32);
    v[6] = (INT64_C(1) << 32) - 1;
    v[20'000] = INT64_C(1) << 32;
    v[50'000] = INT64_MIN;
    v[50'001] = INT64_MIN;
    v[99'999] = INT64_MAX;
    const ArrayView view{reinterpret_cast<const unsigned char*>(v.data()), v.size(), DType::int64};
    CHECK(gpusum::to_string(gpusum::sum_integers(view)) == gpusum::to_string(reference_sum(v)));

    std::vector<std::uint64_t> u(70'000);
    for (auto& x : u) x = rng() >> 31;  // below 2^33: the fast path
    u[40'000] = UINT64_MAX;
    const ArrayView uview{reinterpret_cast<const unsigned char*>(u.data()), u.size(),
                          DType::uint64};
    CHECK(gpusum::to_string(gpusum::sum_integers(uview)) == gpusum::to_string(reference_sum(u)));
}

TEST_CASE("dtype names round-trip") {
    for (const char* name : {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                             "uint64", "float32", "float64"}) {
        const auto t = gpusum::parse_dtype(name);
        REQUIRE(t.has_value());
        CHECK(gpusum::dtype_name(*t) == name);
    }
    CHECK_FALSE(gpusum::parse_dtype("int128").has_value());
    CHECK(gpusum::dtype_size(DType::uint16) == 2);
}

namespace {

// Element k (C order) of a layout, by dividing k into its multi-index: the
// plain way, unlike for_each_run's odometer.
const unsigned char* address_of(const gpusum::Layout& l, const unsigned char* origin,
                                std::uint64_t k) {
    const unsigned char* p = origin;
    for (std::size_t d = l.shape.size(); d-- > 0;) {
        p += static_cast<std::int64_t>(k % l.shape[d]) * l.strides[d];
        k /= l.shape[d];
    }
    return p;
}

template <class T>
T read_element(const unsigned char* p, bool swapped) {
    unsigned char bytes[sizeof(T)];
    std::copy(p, p + sizeof(T), bytes);
    if (swapped) std::reverse(std::begin(bytes), std::end(bytes));
    T v;
    std::memcpy(&v, bytes, sizeof v);
    return v;
}

// Views of a 3-d block of 6 x 5 x 40 elements of T: gaps in every
// dimension, negative strides, a column, a 0-d view; each in this machine's
// byte order and swapped. The fast path, the check and every chunking of
// them agree with a sum over address_of.
template <class T>
void check_layouts(DType t) {
    constexpr std::uint64_t kD0 = 6, kD1 = 5, kD2 = 40;
    constexpr auto s2 = static_cast<std::int64_t>(sizeof(T));
    constexpr std::int64_t s1 = s2 * kD2, s0 = s1 * kD1;
    std::mt19937_64 rng(static_cast<unsigned>(t) + 40);
    std::vector<unsigned char> native(kD0 * kD1 * kD2 * sizeof(T));
    for (auto& b : native) b = static_cast<unsigned char>(rng());
    std::vector<unsigned char> swapped(native.size());
    for (std::size_t i = 0; i < native.size(); i += sizeof(T))
        std::reverse_copy(native.begin() + static_cast<std::ptrdiff_t>(i),
                          native.begin() + static_cast<std::ptrdiff_t>(i + sizeof(T)),
                          swapped.begin() + static_cast<std::ptrdiff_t>(i));
    struct Case {
        const char* what;
        std::vector<std::uint64_t> shape;
        std::vector<std::int64_t> strides;
        std::int64_t origin;  // bytes from the block's start to element [0, ..., 0]
    };
    const Case cases[] = {
        {"a[::2, :, ::3]", {3, 5, 14}, {2 * s0, s1, 3 * s2}, 0},
        {"a[::-1, ::-2, 1::7]", {6, 3, 6}, {-s0, -2 * s1, 7 * s2}, 5 * s0 + 4 * s1 + s2},
        {"a[:, 2, ::-1]", {6, 40}, {s0, -s2}, 2 * s1 + 39 * s2},
        {"a[1:, :, 5] (a column)", {5, 5}, {s0, s1}, s0 + 5 * s2},
        {"a[3, 4, 7] as a 0-d array", {}, {}, 3 * s0 + 4 * s1 + 7 * s2},
        {"a.T", {40, 5, 6}, {s2, s1, s0}, 0},
    };
    for (const Case& c : cases) {
        for (const bool swap : {false, true}) {
            CAPTURE(c.what);
            CAPTURE(swap);
            const gpusum::Layout layout{c.shape, c.strides, swap};
            const unsigned char* origin = (swap ? swapped : native).data() + c.origin;
            std::uint64_t count = 1;
            for (const auto n : c.shape) count *= n;
            i128 expected = 0;
            for (std::uint64_t k = 0; k < count; ++k)
                expected += read_element<T>(address_of(layout, origin, k), swap);
            const ArrayView view{origin, count, t, &layout};
            CHECK(gpusum::to_string(gpusum::sum_integers(view)) == gpusum::to_string(expected));
            CHECK(gpusum::to_string(gpusum::check_sum_integers(view, 2)) ==
                  gpusum::to_string(expected));
            for (const std::uint64_t chunks : {2, 7, 1000}) {
                i128 total = 0;
                for (std::uint64_t i = 0; i < chunks; ++i)
                    total += gpusum::sum_integers(gpusum::chunk_of(view, chunks, i));
                CHECK(gpusum::to_string(total) == gpusum::to_string(expected));
            }
        }
    }
}

}  // namespace

TEST_CASE("views with gaps, negative strides or swapped bytes are summed in place") {
    check_layouts<std::int8_t>(DType::int8);
    check_layouts<std::int16_t>(DType::int16);
    check_layouts<std::uint32_t>(DType::uint32);
    check_layouts<std::int64_t>(DType::int64);
    check_layouts<std::uint64_t>(DType::uint64);
}

TEST_CASE("strided_view: one dense block in any dimension order, else a merged layout") {
    std::vector<std::int32_t> m(12);  // a 3 x 4 matrix
    for (std::size_t i = 0; i < m.size(); ++i) m[i] = static_cast<std::int32_t>(i + 1);
    const auto* origin = reinterpret_cast<const unsigned char*>(m.data());
    gpusum::Layout layout;
    const std::int64_t c_shape[] = {3, 4}, c_strides[] = {16, 4};
    ArrayView v = gpusum::strided_view(origin, DType::int32, c_shape, c_strides, false, layout);
    CHECK(v.dense());
    CHECK(v.count == 12);
    const std::int64_t t_shape[] = {4, 3}, t_strides[] = {4, 16};  // transposed
    CHECK(gpusum::strided_view(origin, DType::int32, t_shape, t_strides, false, layout).dense());
    // Reversed rows: element [0, 0] is the last row's first; the block starts at m[0].
    const std::int64_t r_strides[] = {-16, 4};
    v = gpusum::strided_view(origin + 32, DType::int32, c_shape, r_strides, false, layout);
    CHECK(v.dense());
    CHECK(v.data == origin);
    // The first column (gaps): a layout of 3 elements 16 bytes apart.
    const std::int64_t col_shape[] = {3, 1}, col_strides[] = {16, 4};
    v = gpusum::strided_view(origin, DType::int32, col_shape, col_strides, false, layout);
    REQUIRE(!v.dense());
    CHECK(layout.shape == std::vector<std::uint64_t>{3});
    CHECK(layout.strides == std::vector<std::int64_t>{16});
    CHECK(gpusum::to_string(gpusum::check_sum_integers(v)) == "15");
    // Rows that continue each other merge into one longer run: [:, ::2].
    const std::int64_t gap_shape[] = {3, 2}, gap_strides[] = {16, 8};
    v = gpusum::strided_view(origin, DType::int32, gap_shape, gap_strides, false, layout);
    CHECK(layout.shape == std::vector<std::uint64_t>{6});  // every other element
    CHECK(layout.strides == std::vector<std::int64_t>{8});
    CHECK(gpusum::to_string(gpusum::sum_integers(v)) == "36");  // 1+3+5+7+9+11
    const std::int64_t bad_shape[] = {-1, 4};
    CHECK_THROWS_AS(gpusum::strided_view(origin, DType::int32, bad_shape, c_strides, false, layout),
                    gpusum::InputError);
    const std::int64_t one_stride[] = {4};
    CHECK_THROWS_AS(gpusum::strided_view(origin, DType::int32, c_shape, one_stride, false, layout),
                    gpusum::InputError);
}

TEST_CASE("float16: every value widens exactly, and arrays of them sum exactly") {
    std::vector<std::uint16_t> finite;
    for (std::uint32_t bits = 0; bits < 0x10000; ++bits) {
        const auto h = static_cast<std::uint16_t>(bits);
        const int exponent = (h >> 10) & 0x1f;
        const int fraction = h & 0x3ff;
        const float v = gpusum::half_to_float(h);
        CAPTURE(bits);
        if (exponent == 0x1f) {
            CHECK((fraction == 0 ? std::isinf(v) : std::isnan(v)));
            continue;
        }
        const double magnitude =
            exponent == 0 ? std::ldexp(fraction, -24) : std::ldexp(1024 + fraction, exponent - 25);
        CHECK(static_cast<double>(v) == ((h & 0x8000) != 0 ? -magnitude : magnitude));
        CHECK(std::signbit(v) == ((h & 0x8000) != 0));
        finite.push_back(h);
    }
    // Every finite half once: +x and -x cancel, so the sum is exactly 0.
    const ArrayView all{reinterpret_cast<const unsigned char*>(finite.data()), finite.size(),
                        DType::float16};
    CHECK(gpusum::rounded(gpusum::sum_floats(all)) == 0);
    CHECK(gpusum::check_sum_floats(all, 2) == 0);
    // The positive ones alone, in both byte orders, against a reference in
    // integer units of 2^-24 (every half is a whole number of them).
    std::vector<std::uint16_t> positive, swapped;
    i128 units = 0;
    for (const auto h : finite) {
        if ((h & 0x8000) != 0) continue;
        positive.push_back(h);
        swapped.push_back(static_cast<std::uint16_t>((h >> 8) | (h << 8)));
        units += static_cast<i128>(std::ldexp(gpusum::half_to_float(h), 24));
    }
    // The conversion rounds correctly, and the scaling is exact.
    const double expected = std::ldexp(static_cast<double>(units), -24);
    const gpusum::Layout other_order{{positive.size()}, {2}, true};
    for (const ArrayView& v : {ArrayView{reinterpret_cast<const unsigned char*>(positive.data()),
                                         positive.size(), DType::float16},
                               ArrayView{reinterpret_cast<const unsigned char*>(swapped.data()),
                                         swapped.size(), DType::float16, &other_order}}) {
        CHECK(gpusum::rounded(gpusum::sum_floats(v)) == expected);
        CHECK(gpusum::check_sum_floats(v, 2) == expected);
    }
}

TEST_CASE("float16 infinities and NaN follow IEEE wherever they fall among the lanes") {
    // Halves are added in double lanes, several lanes to a vector: an
    // infinity and its opposite in one lane or in two, or a NaN, must all end
    // as IEEE says, on both methods.
    constexpr std::uint16_t kPlusInf = 0x7c00, kMinusInf = 0xfc00, kNaN = 0x7e00, kOne = 0x3c00;
    for (const std::size_t n : {3, 17, 100, 2048, 5000}) {
        for (const std::size_t gap : {1, 8, 13}) {
            if (gap + 1 >= n) continue;
            std::vector<std::uint16_t> v(n, kOne);
            const ArrayView a{reinterpret_cast<const unsigned char*>(v.data()), n, DType::float16};
            CAPTURE(n);
            CAPTURE(gap);
            v[1] = kPlusInf;
            CHECK(gpusum::rounded(gpusum::sum_floats(a)) ==
                  std::numeric_limits<double>::infinity());
            CHECK(gpusum::check_sum_floats(a, 2) == std::numeric_limits<double>::infinity());
            v[1 + gap] = kMinusInf;
            CHECK(std::isnan(gpusum::rounded(gpusum::sum_floats(a))));
            CHECK(std::isnan(gpusum::check_sum_floats(a, 2)));
            v[1] = kOne;
            CHECK(gpusum::rounded(gpusum::sum_floats(a)) ==
                  -std::numeric_limits<double>::infinity());
            v[1 + gap] = kNaN;
            CHECK(std::isnan(gpusum::rounded(gpusum::sum_floats(a))));
            CHECK(std::isnan(gpusum::check_sum_floats(a, 2)));
        }
    }
}

// NumPy's bool is a byte, True when it is nonzero: bytes other than 0 and 1
// (from np.frombuffer, a view of uint8 data, a raw file) count once each.
TEST_CASE("bool arrays count nonzero bytes, not byte values, on every path") {
    std::mt19937_64 rng(99);
    for (const std::size_t n : {1, 15, 64, 1000, 4097, 100'000}) {
        std::vector<unsigned char> bytes(n + 1);
        for (auto& b : bytes) b = static_cast<unsigned char>(rng() % 4 == 0 ? 0 : rng());
        const auto trues = static_cast<i128>(
            std::count_if(bytes.begin() + 1, bytes.end(), [](unsigned char b) { return b != 0; }));
        CAPTURE(n);
        const ArrayView dense{bytes.data() + 1, n, DType::boolean};
        CHECK(gpusum::to_string(gpusum::sum_integers(dense)) == gpusum::to_string(trues));
        CHECK(gpusum::to_string(gpusum::check_sum_integers(dense, 2)) == gpusum::to_string(trues));
        // The same bytes as a reversed, gathered view.
        const gpusum::Layout reversed{{n}, {-1}, false};
        const ArrayView gathered{bytes.data() + n, n, DType::boolean, &reversed};
        CHECK(gpusum::to_string(gpusum::sum_integers(gathered)) == gpusum::to_string(trues));
        CHECK(gpusum::to_string(gpusum::check_sum_integers(gathered)) == gpusum::to_string(trues));
    }
    const unsigned char twos[] = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2};
    CHECK(gpusum::sum_integers(ArrayView{twos, 10, DType::boolean}) == 10);
}
