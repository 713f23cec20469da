#include <doctest/doctest.h>

#include "gpusum/text.hpp"

using gpusum::i128;
using gpusum::parse_int64;

TEST_CASE("to_string prints every 128-bit value exactly") {
    CHECK(gpusum::to_string(0) == "0");
    CHECK(gpusum::to_string(-1) == "-1");
    CHECK(gpusum::to_string(i128{INT64_MAX} * 1000 + 7) == "9223372036854775807007");
    const i128 min = static_cast<i128>(gpusum::u128{1} << 127);
    CHECK(gpusum::to_string(min) == "-170141183460469231731687303715884105728");
    CHECK(gpusum::to_string(~min) == "170141183460469231731687303715884105727");  // the maximum
}

TEST_CASE("parse_int64 accepts exact integers in Python-like spellings") {
    CHECK(parse_int64("0").value == 0);
    CHECK(parse_int64("-17").value == -17);
    CHECK(parse_int64("+17").value == 17);
    CHECK(parse_int64("1_000_000_000").value == 1'000'000'000);
    CHECK(parse_int64("1e9").value == 1'000'000'000);
    CHECK(parse_int64("-25E8").value == -2'500'000'000);
    CHECK(parse_int64("0e5").value == 0);
    CHECK(parse_int64("9223372036854775807").value == INT64_MAX);
    CHECK(parse_int64("-9223372036854775808").value == INT64_MIN);
}

TEST_CASE("parse_int64 rejects everything else with a reason") {
    for (const char* bad : {"", " 1", "1 ", "abc", "1.5", "--1", "+-1", "_1", "1_", "1__0", "0x10",
                            "1e", "1e-3", "e9", "-", "1e9.0", "١"}) {
        CAPTURE(bad);
        const auto parsed = parse_int64(bad);
        CHECK_FALSE(parsed.value.has_value());
        CHECK(parsed.error.find("not an integer") != std::string::npos);
    }
    for (const char* big : {"9223372036854775808", "-9223372036854775809", "1e19",
                            "99999999999999999999999", "10e18"}) {
        CAPTURE(big);
        const auto parsed = parse_int64(big);
        CHECK_FALSE(parsed.value.has_value());
        CHECK(parsed.error.find("out of range") != std::string::npos);
    }
}

TEST_CASE("human-readable numbers") {
    CHECK(gpusum::grouped(0) == "0");
    CHECK(gpusum::grouped(999) == "999");
    CHECK(gpusum::grouped(1000) == "1,000");
    CHECK(gpusum::grouped(1'000'000'000) == "1,000,000,000");
    CHECK(gpusum::si(3.14e10) == "31.4 G");
    CHECK(gpusum::si(12) == "12");
    CHECK(gpusum::duration(0.0123) == "12.3 ms");
    CHECK(gpusum::duration(4.51) == "4.51 s");
    CHECK(gpusum::duration(8e-5) == "80 us");
}
