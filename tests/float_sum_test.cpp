// Float sums: exactly rounded, identical however the work is split, and the
// two exact methods (the sliced fast path with its superaccumulator, and the
// check's fixed-point windows into a long accumulator) agree bit for bit
// with each other and with answers known by construction.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "backends/cpu/simd/loops.hpp"
#include "gpusum/array.hpp"
#include "verify/array_check.hpp"

using gpusum::ArrayView;
using gpusum::DType;

namespace {

template <class T>
ArrayView view_of(const std::vector<T>& v) {
    return {reinterpret_cast<const unsigned char*>(v.data()), v.size(),
            sizeof(T) == 4 ? DType::float32 : DType::float64};
}

double fast_sum(const ArrayView& a) {
    return gpusum::rounded(gpusum::sum_floats(a));
}

std::uint64_t bits(double x) {
    std::uint64_t b;
    std::memcpy(&b, &x, sizeof b);
    return b;
}

// Both methods give `expected`, to the bit.
template <class T>
void check_sum(const std::vector<T>& v, double expected) {
    const ArrayView a = view_of(v);
    const double fast = fast_sum(a);
    const double check = gpusum::check_sum_floats(a, 2);
    CAPTURE(fast);
    CAPTURE(check);
    CAPTURE(expected);
    CHECK(gpusum::same_float(fast, expected));
    CHECK(gpusum::same_float(check, expected));
}

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr float kFloatMax = std::numeric_limits<float>::max();
constexpr double kDoubleMax = std::numeric_limits<double>::max();

// Values spread over the whole double range, with every kind of element.
double wild_value(std::mt19937_64& rng) {
    double x = 0;
    do {
        const std::uint64_t b = rng();
        std::memcpy(&x, &b, sizeof x);
    } while (!std::isfinite(x));
    return x;
}

}  // namespace

TEST_CASE("float sums are exactly rounded: answers known by construction") {
    check_sum(std::vector<double>{}, 0.0);
    check_sum(std::vector<double>{1e16, 1.0, -1e16}, 1.0);
    std::vector<double> repeated;
    for (int i = 0; i < 1000; ++i) repeated.insert(repeated.end(), {1e16, 1.0, -1e16});
    check_sum(repeated, 1000.0);
    // Ties round to even; anything beyond the tie rounds up.
    const double two53 = 9007199254740992.0;
    check_sum(std::vector<double>{two53, 1.0}, two53);
    check_sum(std::vector<double>{two53, 1.0, 0x1p-1000}, two53 + 2);
    // The bit beyond the tie in the lowest word, or in the word of the
    // rounding window's last bit.
    check_sum(std::vector<double>{two53, 1.0, 0x1p-1074}, two53 + 2);
    check_sum(std::vector<double>{1.0, 0x1p-53, 0x1p-64}, 1.0 + 0x1p-52);
    check_sum(std::vector<double>{1.0, 0x1p-53}, 1.0);
    check_sum(std::vector<double>{two53, 3.0}, two53 + 4);
    check_sum(std::vector<double>{two53 + 2, 1.0}, two53 + 4);
    check_sum(std::vector<double>{two53 + 2, 1.0, -0x1p-1074}, two53 + 2);
    // A long cancellation that leaves one tiny value.
    std::vector<double> cancel;
    for (int i = 0; i < 5000; ++i) cancel.insert(cancel.end(), {1e300, 0x1p-1074, -1e300});
    check_sum(cancel, 5000 * 0x1p-1074);
    // Subnormals add exactly.
    check_sum(std::vector<double>{0x1p-1074, 0x1p-1074, 0x1.8p-1022, -0x1p-1022},
              0x1p-1073 + 0x1p-1023);
    // float32 elements are widened exactly.
    check_sum(std::vector<float>{1e8f, 1.0f, -1e8f, 0.5f, 3.25f}, 4.75);
    check_sum(std::vector<float>{kFloatMax, kFloatMax, 0x1p-149f}, 2.0 * kFloatMax + 0x1p-149);
    // Integer multiples of 2^-20 in bulk: the exact total is known as an integer.
    std::mt19937_64 rng(11);
    std::uniform_int_distribution<std::int64_t> mantissa(-(INT64_C(1) << 40), INT64_C(1) << 40);
    for (std::size_t n : {1, 15, 16, 17, 2047, 2048, 2049, 100'000, 300'001}) {
        std::vector<double> v(n);
        gpusum::i128 units = 0;
        for (auto& x : v) {
            const std::int64_t m = mantissa(rng);
            units += m;
            x = std::ldexp(static_cast<double>(m), -20);
        }
        CAPTURE(n);
        // |units| < 2^59: one rounding from i128 to double, then exact scaling.
        check_sum(v, std::ldexp(static_cast<double>(units), -20));
    }
}

TEST_CASE("float sums follow IEEE for NaN, infinities and overflow") {
    check_sum(std::vector<double>{1.0, kInf, 2.0}, kInf);
    check_sum(std::vector<double>{1.0, -kInf, -kInf}, -kInf);
    check_sum(std::vector<double>{kInf, 1.0, -kInf}, kNaN);
    check_sum(std::vector<double>{1.0, kNaN, 2.0}, kNaN);
    check_sum(std::vector<double>{-kNaN, kInf}, kNaN);
    // No spurious overflow of intermediates; overflow of the exact total is inf.
    check_sum(std::vector<double>{1.7e308, 1.7e308, -1.7e308}, 1.7e308);
    check_sum(std::vector<double>{kDoubleMax, kDoubleMax}, kInf);
    check_sum(std::vector<double>{-kDoubleMax, -kDoubleMax, kDoubleMax}, -kDoubleMax);
    // Just below half an ulp above the largest double stays finite; the tie rounds to
    // even, which is 2^1024: inf.
    check_sum(std::vector<double>{kDoubleMax, 0x1p969}, kDoubleMax);
    check_sum(std::vector<double>{kDoubleMax, 0x1p970}, kInf);
    check_sum(std::vector<double>{kDoubleMax, 0x1p970, -0x1p-1074}, kDoubleMax);
    check_sum(std::vector<float>{std::numeric_limits<float>::infinity(), 1.0f},
              kInf);  // float32 inf
    // Signed zeros and zero totals come out as +0.
    check_sum(std::vector<double>{-0.0, -0.0}, 0.0);
    CHECK(bits(fast_sum(view_of(std::vector<double>{-0.0}))) == 0);
}

TEST_CASE("float sums are identical bit for bit however the array is split") {
    std::mt19937_64 rng(21);
    std::normal_distribution<double> normal(0, 1);
    // Three kinds of data: one scale (the sliced path), every scale at once
    // (blocks the slices cannot hold), and mixtures with specials sprinkled in.
    std::vector<std::vector<double>> sets(3, std::vector<double>(60'000));
    for (auto& x : sets[0]) x = normal(rng) * 1e6;
    for (auto& x : sets[1]) x = wild_value(rng);
    for (std::size_t i = 0; i < sets[2].size(); ++i)
        sets[2][i] = i % 7 == 0 ? wild_value(rng)
                                : std::ldexp(normal(rng), -1070 + static_cast<int>(i % 2000));
    for (const auto& v : sets) {
        const ArrayView a = view_of(v);
        const double whole = fast_sum(a);
        CHECK(gpusum::same_float(whole, gpusum::check_sum_floats(a, 1)));
        CHECK(gpusum::same_float(whole, gpusum::check_sum_floats(a, 3)));
        // One element at a time, the plainest use of the superaccumulator.
        gpusum::ExactFloat scalar;
        for (const double x : v) scalar.add(x);
        CHECK(gpusum::same_float(whole, gpusum::rounded(scalar)));
        for (std::uint64_t chunks : {2, 3, 37, 1000, 60'000}) {
            gpusum::ExactFloat merged;
            for (std::uint64_t c = 0; c < chunks; ++c)
                gpusum::merge(merged, gpusum::sum_floats(gpusum::chunk_of(a, chunks, c)));
            CAPTURE(chunks);
            CHECK(bits(gpusum::rounded(merged)) == bits(whole));
        }
    }
}

TEST_CASE("the check and the fast path agree on many random arrays") {
    std::mt19937_64 rng(31);
    for (int round = 0; round < 300; ++round) {
        const std::size_t n = rng() % 5000;
        const int spread = static_cast<int>(rng() % 120);  // binades between elements
        const int base = static_cast<int>(rng() % 2000) - 1000;
        std::vector<double> v(n);
        for (auto& x : v) {
            const auto m = static_cast<double>(static_cast<std::int64_t>(rng() >> 11) -
                                               (std::int64_t{1} << 52));
            x = std::ldexp(m, base - 52 + (spread > 0 ? static_cast<int>(rng() % spread) : 0));
            if (rng() % 997 == 0) x = wild_value(rng);
        }
        const ArrayView a = view_of(v);
        CAPTURE(round);
        CHECK(gpusum::same_float(fast_sum(a), gpusum::check_sum_floats(a, 1)));
    }
}

// Element by element into the superaccumulator: the plainest exact sum.
template <class T>
double one_by_one(const std::vector<T>& v) {
    gpusum::ExactFloat sum;
    for (const T x : v) sum.add(static_cast<double>(x));
    return gpusum::rounded(sum);
}

TEST_CASE("every path of both methods, at the edges of its span, agrees with the plainest sum") {
    // Blocks whose elements span from a few binades to far more than one
    // slice level (93) or one check window (64 binades for float64, 30 for
    // float32) holds: float32 blocks are summed plainly in doubles up to 18
    // binades and sliced beyond; float64 ones by as many levels and windows
    // as they need. The larger third of the elements is cancelled by its
    // negatives further on, so the total rests on the small ones, down to
    // their last bits. Both signs, whole blocks (2048) and ragged ends.
    std::mt19937_64 rng(41);
    for (int round = 0; round < 400; ++round) {
        const int span = static_cast<int>(rng() % 200);
        const std::size_t n = 2 * (round % 3 == 0 ? 2048 : rng() % 3000);
        const int top = static_cast<int>(rng() % 60) - 30;
        std::vector<double> d(n);
        std::vector<float> f(n);
        auto random_element = [&](int highest, int lowest, double& x, float& y) {
            const auto m = static_cast<double>(static_cast<std::int64_t>(rng() >> 11) -
                                               (std::int64_t{1} << 52));
            const int e = highest - static_cast<int>(rng() % (highest - lowest + 1));
            x = std::ldexp(m, e - 52);
            y = static_cast<float>(std::ldexp(m, std::max(e, -100) - 52));
            return e;
        };
        const int cut = top - span / 3;
        for (std::size_t i = 0; i < n / 2; ++i) {
            if (random_element(top, top - span, d[i], f[i]) > cut) {
                d[n / 2 + i] = -d[i];
                f[n / 2 + i] = -f[i];
            } else {
                random_element(cut, top - span, d[n / 2 + i], f[n / 2 + i]);
            }
        }
        CAPTURE(round);
        CAPTURE(span);
        check_sum(d, one_by_one(d));
        check_sum(f, one_by_one(f));
    }
}

TEST_CASE("the check carries through its long accumulator and subtracts exactly") {
    // 2^65 is 2^1139 units: bit 51 of limb 17. 2^13 of them fill that limb
    // and carry into the next; with 2^22 elements each of the check's 256
    // pieces carries twice. The negative copies meet them only in the final
    // subtraction.
    constexpr std::size_t kCopies = std::size_t{1} << 22;
    std::vector<double> v(kCopies, 0x1p65);
    CHECK(gpusum::check_sum_floats(view_of(v), 1) == 0x1p87);
    v.push_back(-0x1p-1074);
    CHECK(gpusum::check_sum_floats(view_of(v), 1) == 0x1p87);  // rounds back up to 2^87
    v.insert(v.end(), kCopies, -0x1p65);
    CHECK(gpusum::check_sum_floats(view_of(v), 2) == -0x1p-1074);
}

TEST_CASE(
    "a float placed from its own 32 bits lands on the digits of the float widened to double") {
    // place_of_single (the GPU's float32 path) against place_of on the
    // widened double: zeros, subnormals, every exponent, the largest, both
    // infinities, NaN, and random bit patterns.
    std::vector<std::uint32_t> patterns = {0x00000000, 0x80000000, 0x00000001, 0x807fffff,
                                           0x00800000, 0x7f7fffff, 0xff7fffff, 0x7f800000,
                                           0xff800000, 0x7fc00001, 0x3f800000, 0xbf800001};
    std::mt19937_64 rng(32);
    for (std::uint32_t e = 0; e < 256; ++e)
        for (int i = 0; i < 8; ++i)
            patterns.push_back(e << 23 | static_cast<std::uint32_t>(rng() & 0x807fffff));
    for (int i = 0; i < 20000; ++i) patterns.push_back(static_cast<std::uint32_t>(rng()));
    for (const std::uint32_t bits : patterns) {
        float f;
        std::memcpy(&f, &bits, sizeof f);
        gpusum::ExactFloat direct, widened;
        const gpusum::FloatPlace at = gpusum::place_of_single(bits);
        direct.digits[at.digit] += at.low;
        direct.digits[at.digit + 1] += at.middle;
        direct.digits[at.digit + 2] += at.high;
        direct.specials |= at.special;
        widened.add(static_cast<double>(f));
        gpusum::normalise(direct);
        gpusum::normalise(widened);
        CAPTURE(bits);
        CHECK(std::equal(std::begin(direct.digits), std::end(direct.digits),
                         std::begin(widened.digits)));
        CHECK(direct.specials == widened.specials);
    }
}

TEST_CASE("the float check taken in pieces (device memory copied back) equals it taken whole") {
    // Values over many scales that cancel: a piece rounded on its own would
    // lose what the next piece needs.
    std::mt19937_64 rng(404);
    std::vector<double> v(100'003);
    for (std::size_t i = 0; i < v.size(); ++i)
        v[i] = std::ldexp(static_cast<double>(rng() >> 11), static_cast<int>(rng() % 200) - 100) *
               (i % 2 == 0 ? 1 : -1);
    v.push_back(1e300);
    v.push_back(-1e300);
    v.push_back(0x1p-1074);
    const auto* bytes = reinterpret_cast<const unsigned char*>(v.data());
    const gpusum::ArrayView whole{bytes, v.size(), gpusum::DType::float64};
    const double expected = gpusum::check_sum_floats(whole, 2);
    CHECK(gpusum::same_float(expected, gpusum::rounded(gpusum::sum_floats(whole))));
    for (const std::uint64_t pieces : {1, 2, 7, 1000}) {
        CAPTURE(pieces);
        gpusum::FloatCheck check;
        for (std::uint64_t i = 0; i < pieces; ++i) check.add(gpusum::chunk_of(whole, pieces, i), 2);
        CHECK(gpusum::same_float(check.value(), expected));
    }
}
