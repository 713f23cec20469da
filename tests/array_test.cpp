#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "gpusum/array.hpp"
#include "gpusum/text.hpp"
#include "reference.hpp"

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
