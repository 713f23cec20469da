// Accumulators: any split of the data, added and merged in any order, through
// their bytes or not, gives the bits of one sum() of the whole; integer
// totals beyond 64 and 128 bits stay exact; bytes that are not an
// accumulator's are refused.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "gpusum/accumulator.hpp"
#include "helpers/reference.hpp"

using gpusum::Accumulator;
using gpusum::i128;

namespace {

// The pieces of [0, n), cut at random places.
std::vector<std::pair<std::size_t, std::size_t>> random_pieces(std::size_t n,
                                                               std::mt19937_64& rng) {
    std::vector<std::size_t> cuts{0, n};
    for (int c = static_cast<int>(rng() % 8); c > 0; --c) cuts.push_back(rng() % (n + 1));
    std::sort(cuts.begin(), cuts.end());
    std::vector<std::pair<std::size_t, std::size_t>> pieces;
    for (std::size_t i = 0; i + 1 < cuts.size(); ++i) pieces.emplace_back(cuts[i], cuts[i + 1]);
    std::shuffle(pieces.begin(), pieces.end(), rng);
    return pieces;
}

// The pieces of v added to a few accumulators, some sent through their
// bytes, then all merged in a random order.
template <class T>
Accumulator split_and_merged(const std::vector<T>& v, std::mt19937_64& rng) {
    std::vector<Accumulator> parts(1 + rng() % 4);
    for (const auto& [begin, end] : random_pieces(v.size(), rng)) {
        Accumulator& a = parts[rng() % parts.size()];
        a.add(std::span<const T>(v.data() + begin, end - begin),
              {.backend = rng() % 2 == 0 ? "auto" : "serial"});
        if (rng() % 3 == 0) a = Accumulator::from_bytes(a.to_bytes());
    }
    std::shuffle(parts.begin(), parts.end(), rng);
    Accumulator total;
    for (const Accumulator& p : parts) total.merge(Accumulator::from_bytes(p.to_bytes()));
    return total;
}

std::uint64_t bits(double x) {
    std::uint64_t b;
    std::memcpy(&b, &x, sizeof b);
    return b;
}

// The decimal digits of `decimal` times m (a small positive factor).
std::string times(const std::string& decimal, unsigned m) {
    const bool negative = decimal.front() == '-';
    const std::string digits = negative ? decimal.substr(1) : decimal;
    std::string out;
    unsigned carry = 0;
    for (std::size_t k = digits.size(); k-- > 0;) {
        const unsigned v = static_cast<unsigned>(digits[k] - '0') * m + carry;
        out.push_back(static_cast<char>('0' + v % 10));
        carry = v / 10;
    }
    for (; carry != 0; carry /= 10) out.push_back(static_cast<char>('0' + carry % 10));
    if (negative) out.push_back('-');
    return {out.rbegin(), out.rend()};
}

}  // namespace

TEST_CASE("integer accumulators: any split, order and round trip gives the exact total") {
    std::mt19937_64 rng(51);
    for (int round = 0; round < 40; ++round) {
        const std::size_t n = rng() % 20'000;
        std::vector<std::int64_t> v(n);
        i128 expected = 0;
        for (auto& x : v) {
            x = static_cast<std::int64_t>(rng());  // any int64: totals beyond 64 bits
            expected += x;
        }
        CAPTURE(round);
        const Accumulator total = split_and_merged(v, rng);
        CHECK_FALSE(total.is_float());
        CHECK(total.elements() == n);
        CHECK(total.integer_text() == ref::decimal(expected));
        CHECK(total.integer() == expected);
        CHECK(bits(total.value()) == bits(static_cast<double>(expected)));
    }
}

TEST_CASE("integer totals beyond 128 bits stay exact, and integer() says they do not fit") {
    // 1000 int64 near the negative limit (about -2^73), doubled by merging
    // an accumulator with itself 60 times: about -2^133.
    Accumulator a;
    a.add(gpusum::Range{INT64_MIN, INT64_MIN + 1000, 1});
    const std::string single = a.integer_text();
    CHECK(single == ref::decimal(ref::naive_sum(gpusum::Range{INT64_MIN, INT64_MIN + 1000, 1})));
    std::string expected = single;
    Accumulator many = a;
    for (int i = 0; i < 60; ++i) {
        const Accumulator copy = many;
        many.merge(copy);
        expected = times(expected, 2);
    }
    CHECK(many.integer_text() == expected);
    CHECK(expected.size() > 41);  // beyond 2^128 (39 digits and a sign)
    CHECK_THROWS_AS(static_cast<void>(many.integer()), gpusum::InputError);
    CHECK(Accumulator::from_bytes(many.to_bytes()).integer_text() == expected);
    // Its near-opposite, INT64_MAX - i for each INT64_MIN + i, doubled as
    // often, leaves -1000 * 2^60 exactly.
    Accumulator opposite;
    opposite.add(gpusum::Range{INT64_MAX, INT64_MAX - 1000, -1});
    std::string left = "-1000";
    for (int i = 0; i < 60; ++i) {
        const Accumulator copy = opposite;
        opposite.merge(copy);
        left = times(left, 2);
    }
    Accumulator both = many;
    both.merge(opposite);
    CHECK(both.integer_text() == left);
    CHECK(both.integer() == -1000 * (i128{1} << 60));
    CHECK(Accumulator().integer_text() == "0");
    CHECK(Accumulator().to_bytes().size() == 24);
}

TEST_CASE("float accumulators: any split, order and round trip gives the bits of one sum") {
    std::mt19937_64 rng(52);
    std::normal_distribution<double> normal;
    for (int round = 0; round < 40; ++round) {
        const std::size_t n = rng() % 20'000;
        const int spread = static_cast<int>(rng() % 150);
        std::vector<double> v(n);
        for (auto& x : v)
            x = std::ldexp(normal(rng),
                           spread == 0 ? 0 : static_cast<int>(rng() % spread) - spread / 2);
        if (n > 0 && round % 5 == 0) v[rng() % n] = -v[0] * 0x1p60;  // a large cancellation
        CAPTURE(round);
        const double whole = gpusum::sum(std::span<const double>(v)).value;
        const Accumulator total = split_and_merged(v, rng);
        CHECK(total.is_float());
        CHECK(total.elements() == n);
        CHECK(bits(total.value()) == bits(whole));
        CHECK_THROWS_AS(static_cast<void>(total.integer_text()), gpusum::InputError);
    }
    // float32 and float64 pieces of one total, specials included.
    Accumulator mixed;
    const std::vector<float> f{1e30F, 1.0F, -1e30F};
    mixed.add(std::span<const float>(f));
    CHECK(mixed.value() == 1.0);
    const std::vector<double> inf{std::numeric_limits<double>::infinity()};
    Accumulator infinite = mixed;
    infinite.add(std::span<const double>(inf));
    CHECK(std::isinf(Accumulator::from_bytes(infinite.to_bytes()).value()));
    const std::vector<double> minus_inf{-std::numeric_limits<double>::infinity()};
    infinite.add(std::span<const double>(minus_inf));
    CHECK(std::isnan(Accumulator::from_bytes(infinite.to_bytes()).value()));
}

TEST_CASE("integers added to a float accumulator are exact") {
    // 0.5, then 2^53 + 1 (not a double), then -2^53: exactly 1.5. Had the
    // integer been rounded to a double on the way in, 0.5.
    Accumulator a;
    const std::vector<double> half{0.5};
    a.add(std::span<const double>(half));
    const std::int64_t two53 = std::int64_t{1} << 53;
    a.add(gpusum::Range{two53 + 1, two53 + 2, 1});
    a.add(gpusum::Range{-two53, -two53 + 1, 1});
    CHECK(a.is_float());
    CHECK(a.value() == 1.5);
    // Many integers, then their negation and one float: only the float is left.
    Accumulator b;
    b.add(gpusum::Range{INT64_MAX - 1000, INT64_MAX, 1});
    const std::vector<double> tiny{0x1p-1074};
    b.add(std::span<const double>(tiny));
    b.add(gpusum::Range{-(INT64_MAX - 1000), -INT64_MAX, -1});
    CHECK(b.value() == 0x1p-1074);
}

TEST_CASE("accumulator bytes are portable, and bytes that are not one are refused") {
    // The layout, little-endian: "GSUM", version 1, flags, 8-byte element
    // count, first digit and digit count, the digits, the 8-byte top digit.
    Accumulator a;
    a.add(gpusum::Range{0, 10, 1});  // 45 = 45 * 2^1074 units: digit 33, bit 18
    const std::string b = a.to_bytes();
    const std::string expected =
        std::string("GSUM\x01\x00", 6) + std::string("\x0a\x00\x00\x00\x00\x00\x00\x00", 8) +
        std::string("\x21\x01", 2) + std::string("\x00\x00\xb4\x00", 4) + std::string(8, '\0');
    CHECK(b == expected);
    CHECK(Accumulator::from_bytes(b).integer_text() == "45");
    using gpusum::InputError;
    CHECK_THROWS_AS(Accumulator::from_bytes(""), InputError);
    CHECK_THROWS_AS(Accumulator::from_bytes("GSUM"), InputError);
    CHECK_THROWS_AS(Accumulator::from_bytes(b.substr(0, b.size() - 1)), InputError);
    CHECK_THROWS_AS(Accumulator::from_bytes(b + "x"), InputError);
    std::string version = b;
    version[4] = 2;
    CHECK_THROWS_WITH_AS(Accumulator::from_bytes(version),
                         doctest::Contains("version 2, this gpusum reads version 1"), InputError);
    std::string fraction = b;
    fraction[16] = '\x01';  // a bit below the units of an integer total
    CHECK_THROWS_AS(Accumulator::from_bytes(fraction), InputError);
    std::string flags = b;
    flags[5] = '\x10';
    CHECK_THROWS_AS(Accumulator::from_bytes(flags), InputError);
}
