// The library's front door, as a C++ program calls it.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "gpusum/gpusum.hpp"
#include "helpers/reference.hpp"
#include "support/text.hpp"

namespace {

template <class T>
gpusum::i128 plain_sum(const std::vector<T>& v) {
    gpusum::i128 total = 0;
    for (const T x : v) total += static_cast<gpusum::i128>(x);
    return total;
}

template <class T>
void check_every_backend(const std::vector<T>& v) {
    for (const char* backend : {"auto", "serial", "threads", "process"}) {
        CAPTURE(backend);
        const gpusum::Sum s =
            gpusum::sum(std::span<const T>(v), {.backend = backend, .workers = 2});
        CHECK(s.verified);
        CHECK_FALSE(s.is_float);
        CHECK(gpusum::to_string(s.sum) == gpusum::to_string(plain_sum(v)));
        CHECK(s.elements == v.size());
        CHECK(s.error_bound == 0);
    }
}

}  // namespace

TEST_CASE("facade: a range sums exactly, beyond 64 bits, with the backend and its reason") {
    const gpusum::Sum s = gpusum::sum(gpusum::Range{0, 1'000'000, 1});
    CHECK(s.verified);
    CHECK(s.sum == gpusum::i128{499'999'500'000});
    CHECK(s.expected == s.sum);
    CHECK_FALSE(s.backend.empty());
    CHECK_FALSE(s.reason.empty());
    CHECK(s.elements == 1'000'000);
    const std::int64_t big = std::numeric_limits<std::int64_t>::max();
    const gpusum::Sum wide = gpusum::sum(gpusum::Range{big - 999, big, 1}, {.backend = "serial"});
    CHECK(wide.sum == gpusum::closed_form_sum(gpusum::to_progression({big - 999, big, 1})));
    CHECK(wide.sum > gpusum::i128{std::numeric_limits<std::int64_t>::max()});
    CHECK(gpusum::sum(gpusum::Range{10, 0, -3}).sum == 10 + 7 + 4 + 1);
    CHECK(gpusum::sum(gpusum::Range{5, 5, 1}).sum == 0);
}

TEST_CASE("facade: spans of every integer type, near their limits, on every CPU backend") {
    std::mt19937_64 rng(7);
    auto fill = [&](auto& v, std::int64_t low, std::int64_t high) {
        std::uniform_int_distribution<std::int64_t> pick(low, high);
        for (auto& x : v) x = static_cast<std::decay_t<decltype(x)>>(pick(rng));
    };
    std::vector<std::int8_t> i8(100'003);
    fill(i8, -128, 127);
    check_every_backend(i8);
    std::vector<std::uint16_t> u16(70'001);
    fill(u16, 0, 65535);
    check_every_backend(u16);
    std::vector<std::int32_t> i32(50'000);
    fill(i32, -2'000'000'000, 2'000'000'000);
    check_every_backend(i32);
    // int64 and uint64 at their limits: NumPy's sum wraps here.
    check_every_backend(std::vector<std::int64_t>(4097, std::numeric_limits<std::int64_t>::max()));
    check_every_backend(
        std::vector<std::uint64_t>(4097, std::numeric_limits<std::uint64_t>::max()));
    const bool flags[] = {true, false, true, true};
    CHECK(gpusum::sum(std::span<const bool>(flags)).sum == 3);
    CHECK(gpusum::sum(std::span<const std::int16_t>()).sum == 0);  // empty
}

TEST_CASE("facade: floats come back correctly rounded with their bound") {
    const std::vector<double> v = {1e16, 1.0, -1e16, 0x1p-1074};
    const gpusum::Sum s = gpusum::sum(std::span<const double>(v));
    CHECK(s.is_float);
    CHECK(s.value == 1.0);  // 1 + 2^-1074, rounded
    CHECK(s.error_bound == (std::nextafter(1.0, 2.0) - 1.0) / 2);
    const std::vector<float> f = {0.1f, 0.2f, 0.3f};
    const gpusum::Sum t = gpusum::sum(std::span<const float>(f));
    CHECK(t.value ==
          static_cast<double>(0.1f) + static_cast<double>(0.2f) + static_cast<double>(0.3f));
}

TEST_CASE("facade: a column of big-endian int64 and float16 elements, on every CPU backend") {
    // A 1000 x 3 matrix of big-endian int64 (row r holds r, -2r, 2^62 + r), read
    // down its third column in reverse: a layout with gaps and swapped bytes.
    std::vector<std::uint64_t> matrix;
    for (std::int64_t r = 0; r < 1000; ++r)
        for (const std::int64_t v : {r, -2 * r, (INT64_C(1) << 62) + r})
            matrix.push_back(__builtin_bswap64(static_cast<std::uint64_t>(v)));
    const gpusum::Layout column{{1000}, {-24}, true};
    const std::uint64_t* last_row_third = &matrix[std::size_t{999} * 3 + 2];
    const gpusum::ArrayView third{reinterpret_cast<const unsigned char*>(last_row_third), 1000,
                                  gpusum::DType::int64, &column};
    const gpusum::i128 expected = gpusum::i128{1000} * (INT64_C(1) << 62) + 499'500;
    // float16: 1.5, 65504, 2^-24 and -2 (their sum is exact in double).
    const std::vector<std::uint16_t> halves = {0x3e00, 0x7bff, 0x0001, 0xc000};
    const gpusum::ArrayView half_view{reinterpret_cast<const unsigned char*>(halves.data()),
                                      halves.size(), gpusum::DType::float16};
    for (const char* backend : {"auto", "serial", "threads", "process"}) {
        CAPTURE(backend);
        const gpusum::Options options{.backend = backend, .workers = 2, .chunks = 7};
        const gpusum::Sum s = gpusum::sum(third, options);
        CHECK(gpusum::to_string(s.sum) == gpusum::to_string(expected));
        CHECK(s.expected == s.sum);
        const gpusum::Sum h = gpusum::sum(half_view, options);
        CHECK(h.value == 1.5 + 65504 + 0x1p-24 - 2);
    }
}

TEST_CASE(
    "facade: small arrays are summed inline, checked; larger ones or a named backend run a job") {
    std::vector<std::int16_t> small(1000, INT16_MIN);
    small[7] = 12;
    const gpusum::Sum s = gpusum::sum(std::span<const std::int16_t>(small));
    CHECK(s.backend == "serial");
    CHECK(s.reason.rfind("inline:", 0) == 0);
    CHECK(s.verified);
    CHECK(s.check.find("second CPU path") != std::string::npos);
    CHECK(gpusum::to_string(s.sum) == gpusum::to_string(plain_sum(small)));
    const std::vector<double> reals{1e16, 1.0, -1e16, 0.5};
    const gpusum::Sum f = gpusum::sum(std::span<const double>(reals));
    CHECK(f.reason.rfind("inline:", 0) == 0);
    CHECK(f.value == 1.5);
    CHECK(f.expected_value == 1.5);
    // Limits are still the library's to enforce.
    CHECK_THROWS_AS(gpusum::sum(std::span<const std::int16_t>(small), {.workers = 1U << 20}),
                    gpusum::InputError);
    // A backend asked for by name runs as asked.
    CHECK(gpusum::sum(std::span<const std::int16_t>(small), {.backend = "threads"}).backend ==
          "threads");
    const std::vector<std::int64_t> large((std::size_t{1} << 20) / 8 + 1, 3);
    CHECK(gpusum::sum(std::span<const std::int64_t>(large)).reason.rfind("inline:", 0) ==
          std::string::npos);
}

TEST_CASE("facade: bad arguments are InputError, an unusable backend Unavailable") {
    CHECK_THROWS_AS(gpusum::sum(gpusum::Range{0, 10, 0}), gpusum::InputError);
    CHECK_THROWS_WITH_AS(gpusum::sum(gpusum::Range{0, 10, 1}, {.backend = "gpu"}),
                         doctest::Contains("unknown backend 'gpu'"), gpusum::InputError);
    CHECK_THROWS_AS(gpusum::sum(gpusum::Range{0, 10, 1}, {.workers = 100'000}), gpusum::InputError);
    CHECK_THROWS_AS(gpusum::sum(gpusum::Range{0, 10, 1}, {.device = -1}), gpusum::InputError);
    CHECK_THROWS_AS(gpusum::sum(gpusum::ArrayView{nullptr, 3, gpusum::DType::int64}),
                    gpusum::InputError);
    CHECK_THROWS_AS(gpusum::sum(gpusum::Range{0, 10, 1}, {.backend = "mpi"}), gpusum::Unavailable);
}

TEST_CASE("facade: a view that claims more elements than its layout holds is an InputError") {
    // Each of these once spun forever or read past the data.
    const std::int32_t values[6] = {1, 2, 3, 4, 5, 6};
    const auto* data = reinterpret_cast<const unsigned char*>(values);
    const gpusum::Layout two_by_three{{2, 3}, {12, 4}, false};
    const gpusum::Layout extra_stride{{6}, {4, 4}, false};
    const gpusum::Layout huge{{std::uint64_t{1} << 40, std::uint64_t{1} << 40}, {0, 0}, false};
    using gpusum::ArrayView;
    using gpusum::DType;
    const ArrayView fits{data, 6, DType::int32, &two_by_three};
    CHECK(gpusum::sum(fits, {.backend = "serial"}).sum == 21);
    for (const ArrayView& bad : {ArrayView{data, 7, DType::int32, &two_by_three},
                                 ArrayView{data, 2, DType::int32, &two_by_three, 5},
                                 ArrayView{data, 6, DType::int32, &extra_stride},
                                 ArrayView{data, 6, DType::int32, &huge}}) {
        for (const char* backend : {"serial", "threads", "process"}) {
            CAPTURE(backend);
            CHECK_THROWS_AS(gpusum::sum(bad, {.backend = backend}), gpusum::InputError);
        }
    }
}
