#include <doctest/doctest.h>

#include <algorithm>

#include "support/progress.hpp"
#include "support/text.hpp"

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
    CHECK(parse_int64("0e44").value == 0);  // found by the fuzzer: zero times any power is 0
    CHECK(parse_int64("-0e999999999999999999999999999999").value == 0);
    CHECK(parse_int64("9223372036854775807").value == INT64_MAX);
    CHECK(parse_int64("-9223372036854775808").value == INT64_MIN);
    // A decimal point where the value is still whole.
    CHECK(parse_int64("1.5e9").value == 1'500'000'000);
    CHECK(parse_int64("2.5e10").value == 25'000'000'000);
    CHECK(parse_int64("-2.5e1").value == -25);
    CHECK(parse_int64("1.50e1").value == 15);
    CHECK(parse_int64("2.0").value == 2);
    CHECK(parse_int64("1_0.2_5e2").value == 1025);
    CHECK(parse_int64("9.223372036854775807e18").value == INT64_MAX);
    CHECK(parse_int64("-9.223372036854775808e18").value == INT64_MIN);
    CHECK_FALSE(parse_int64("9.223372036854775808e18").value.has_value());
}

TEST_CASE("shortened keeps short text and cuts long text to one readable piece") {
    CHECK(gpusum::shortened("abc") == "abc");
    const std::string long_text(100'000, '9');
    const std::string cut = gpusum::shortened(long_text);
    CHECK(cut.size() < 100);
    CHECK(cut.find("...") != std::string::npos);
    CHECK(cut.find("(100000 bytes)") != std::string::npos);
    // Never half a UTF-8 sequence: every byte kept from the middle is whole.
    std::string accents;
    for (int i = 0; i < 100; ++i) accents += "\xc3\xa9";  // é
    const std::string cut_utf8 = gpusum::shortened(accents, 41);
    CHECK(gpusum::printable(cut_utf8) == cut_utf8);
}

TEST_CASE("parse_int64 rejects everything else with a reason") {
    for (const char* bad : {"",   " 1",     "1 ",   "abc",  "1.5",    "--1",     "+-1",   "_1",
                            "1_", "1__0",   "0x10", "1e",   "1e-3",   "e9",      "-",     "1e9.0",
                            "١",  "1.55e1", ".5e1", "1.e3", "1._5e2", "1.5.5e3", "1.5e-3"}) {
        CAPTURE(bad);
        const auto parsed = parse_int64(bad);
        CHECK_FALSE(parsed.value.has_value());
        CHECK(parsed.error.find("not an integer") != std::string::npos);
    }
    for (const char* big : {"9223372036854775808", "-9223372036854775809", "1e19",
                            "99999999999999999999999", "10e18", "1e41", "1e99999999999999999999"}) {
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

TEST_CASE("parse_seconds takes plain decimals and rejects the rest") {
    CHECK(gpusum::parse_seconds("2").value == 2.0);
    CHECK(gpusum::parse_seconds("0.25").value == 0.25);
    CHECK(gpusum::parse_seconds("1e3").value == 1000.0);
    CHECK(gpusum::parse_seconds("1.5E-1").value == 0.15);
    CHECK(gpusum::parse_seconds(".5").value == 0.5);
    CHECK(gpusum::parse_seconds("-1").value == -1.0);  // the caller's range check rejects it
    for (const char* bad : {"", " 1", "1 ", "1s", "+1", "nan", "inf", "-inf", "0x10", "1,5", ".",
                            "-", "-.", "1e", "1e+", "e5", "1.2.3", "--1", "1e5.0"}) {
        CAPTURE(bad);
        const auto parsed = gpusum::parse_seconds(bad);
        CHECK_FALSE(parsed.value.has_value());
        CHECK(parsed.error == "is not a number of seconds");
    }
    CHECK(gpusum::parse_seconds("1e999").error == "is out of range");
}

TEST_CASE("printable keeps UTF-8 and escapes control bytes and invalid sequences") {
    CHECK(gpusum::printable("plain text") == "plain text");
    CHECK(gpusum::printable("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") ==
          "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    CHECK(gpusum::printable("a\nb\tc\x7f") == "a\\x0Ab\\x09c\\x7F");
    CHECK(gpusum::printable("\xff\xfe") == "\\xFF\\xFE");
    CHECK(gpusum::printable("\xc3") == "\\xC3");                             // truncated sequence
    CHECK(gpusum::printable("\xc0\xaf") == "\\xC0\\xAF");                    // overlong '/'
    CHECK(gpusum::printable("\xed\xa0\x80") == "\\xED\\xA0\\x80");           // a UTF-16 surrogate
    CHECK(gpusum::printable("\xf4\x90\x80\x80") == "\\xF4\\x90\\x80\\x80");  // above U+10FFFF
    CHECK(gpusum::printable(std::string_view("a\0b", 3)) == "a\\x00b");
}

TEST_CASE("the progress line fits any terminal and gives a time left only once measured") {
    for (const int columns : {1, 10, 20, 40, 60, 74, 75, 80, 200}) {
        for (const double fraction : {0.0, 0.5, 1.0}) {
            CAPTURE(columns);
            CAPTURE(fraction);
            const std::string line =
                gpusum::progress_line("sum", fraction, 12, fraction > 0, columns);
            CHECK(static_cast<int>(line.size()) <= std::max(columns - 1, 0));  // never wraps
        }
    }
    const std::string wide = gpusum::progress_line("check", 0.5, 10, true, 120);
    CHECK(wide.find("check [###############               ]") != std::string::npos);
    CHECK(wide.find("about 10 s left") != std::string::npos);
    // Before anything is done there is no rate, so no time left is claimed.
    const std::string early = gpusum::progress_line("sum", 0.0, 30, false, 120);
    CHECK(early.find("left") == std::string::npos);
    CHECK(early.find("measuring the rate") != std::string::npos);
}

TEST_CASE("a stream's progress line: bytes and rate, a bar and the time left only with a length") {
    for (const int columns : {1, 10, 20, 40, 80, 200}) {
        for (const std::uint64_t total : {std::uint64_t{0}, std::uint64_t{4'000'000'000}}) {
            CAPTURE(columns);
            const std::string line =
                gpusum::stream_progress_line("read", 1'000'000'000, total, 2, columns);
            CHECK(static_cast<int>(line.size()) <= std::max(columns - 1, 0));  // never wraps
        }
    }
    const std::string known =
        gpusum::stream_progress_line("read", 1'000'000'000, 4'000'000'000, 2, 120);
    CHECK(known.find("read [#######                       ]  25.0%  1.0 GB at 500.0 MB/s, "
                     "about 6 s left") != std::string::npos);
    const std::string unknown = gpusum::stream_progress_line("read", 1'000'000'000, 0, 2, 120);
    CHECK(unknown == "  read 1.0 GB at 500.0 MB/s, 2 s");
}
