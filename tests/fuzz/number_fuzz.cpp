// libFuzzer target: the command line's number parsing and the error-line
// escaping. parse_int64 is checked against a second, deliberately naive
// parser; printable must leave one clean line and be idempotent.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gpusum/text.hpp"

namespace {

using gpusum::i128;

// Digits with single '_' between digits, read into a saturating value.
std::optional<i128> naive_digits(std::string_view s) {
    if (s.empty() || s.front() == '_' || s.back() == '_') return std::nullopt;
    i128 v = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '_') {
            if (s[i - 1] == '_') return std::nullopt;
            continue;
        }
        if (s[i] < '0' || s[i] > '9') return std::nullopt;
        v = std::min<i128>(v * 10 + (s[i] - '0'), i128{1} << 80);
    }
    return v;
}

// The exact value `text` spells, saturated far beyond int64, or nothing.
std::optional<i128> naive_value(std::string_view text) {
    bool negative = false;
    if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
        negative = text[0] == '-';
        text.remove_prefix(1);
    }
    std::string_view mantissa = text, exponent = "0";
    if (const auto e = text.find_first_of("eE"); e != std::string_view::npos) {
        mantissa = text.substr(0, e);
        exponent = text.substr(e + 1);
    }
    const auto m = naive_digits(mantissa);
    const auto x = naive_digits(exponent);
    if (!m || !x) return std::nullopt;
    i128 v = *m;
    for (i128 i = 0; i < *x && v != 0 && v < (i128{1} << 80); ++i) v *= 10;
    return negative ? -v : v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    const gpusum::ParsedInt parsed = gpusum::parse_int64(text);
    const auto expected = naive_value(text);
    const bool fits = expected && *expected >= INT64_MIN && *expected <= INT64_MAX;
    if (parsed.value.has_value() != fits) __builtin_trap();
    if (parsed.value && *parsed.value != *expected) __builtin_trap();
    if (!parsed.value && parsed.error.empty()) __builtin_trap();

    const gpusum::ParsedSeconds seconds = gpusum::parse_seconds(text);
    if (seconds.value && !std::isfinite(*seconds.value)) __builtin_trap();

    const std::string line = gpusum::printable(text);
    for (const char c : line)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) __builtin_trap();
    if (gpusum::printable(line) != line) __builtin_trap();  // what it keeps is valid UTF-8
    return 0;
}
