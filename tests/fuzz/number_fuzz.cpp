// libFuzzer target: the command line's number parsing and the error-line
// escaping. parse_int64 is checked against a second, deliberately naive
// parser; printable must leave one clean line and be idempotent.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "support/text.hpp"

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
    // A decimal point: W.F is the integer WF over 10^(digits of F), then
    // scaled by the exponent; whatever is left below 1 must be zero.
    std::string_view whole = mantissa, fraction;
    if (const auto point = mantissa.find('.'); point != std::string_view::npos) {
        whole = mantissa.substr(0, point);
        fraction = mantissa.substr(point + 1);
        if (!naive_digits(fraction)) return std::nullopt;
    }
    const auto w = naive_digits(whole);
    const auto x = naive_digits(exponent);
    if (!w || !x) return std::nullopt;
    i128 v = *w, scale = *x;
    for (const char c : fraction) {
        if (c == '_') continue;
        if (scale > 0) {
            if (v < (i128{1} << 80)) v = v * 10 + (c - '0');
            --scale;
        } else if (c != '0') {
            return std::nullopt;  // a nonzero digit below the units
        }
    }
    for (i128 i = 0; i < scale && v != 0 && v < (i128{1} << 80); ++i) v *= 10;
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
