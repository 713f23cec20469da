#include "support/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <locale>
#include <sstream>

namespace gpusum {

std::string to_string(i128 value) {
    // Work with the magnitude as unsigned so INT128_MIN needs no special case.
    u128 mag = value < 0 ? u128{0} - static_cast<u128>(value) : static_cast<u128>(value);
    std::string digits;
    do {
        digits.push_back(static_cast<char>('0' + static_cast<int>(mag % 10)));
        mag /= 10;
    } while (mag != 0);
    if (value < 0) digits.push_back('-');
    std::reverse(digits.begin(), digits.end());
    return digits;
}

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Parses "digits[_digits...]" into mag; false if malformed or above limit
// (or, with `saturate`, clamps mag to limit instead).
bool parse_digits(std::string_view text, u128 limit, u128& mag, std::string& error,
                  bool saturate = false) {
    if (text.empty() || !is_digit(text.front()) || !is_digit(text.back())) {
        error = "is not an integer";
        return false;
    }
    mag = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '_' && is_digit(text[i - 1]) && is_digit(text[i + 1])) continue;
        if (!is_digit(c)) {
            error = "is not an integer";
            return false;
        }
        mag = mag * 10 + static_cast<unsigned>(c - '0');
        if (mag > limit && saturate) {
            mag = limit;
        } else if (mag > limit) {
            error = "is out of range for a 64-bit signed integer";
            return false;
        }
    }
    return true;
}

}  // namespace

ParsedInt parse_int64(std::string_view text) {
    ParsedInt out;
    bool negative = false;
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
        negative = text.front() == '-';
        text.remove_prefix(1);
    }
    std::string_view mantissa = text;
    unsigned exponent = 0;
    if (const auto e = text.find_first_of("eE"); e != std::string_view::npos) {
        mantissa = text.substr(0, e);
        const std::string_view exp_text = text.substr(e + 1);
        // Any exponent beyond 19 (plus the digits after a decimal point)
        // overflows a nonzero mantissa, so that bound stands for all of them
        // (0e99 is still 0).
        const u128 largest = 40 + mantissa.size();
        u128 exp_value = 0;
        if (exp_text.empty() || !parse_digits(exp_text, largest, exp_value, out.error, true)) {
            out.error = "is not an integer (exponent must be a non-negative integer)";
            return out;
        }
        exponent = static_cast<unsigned>(exp_value);
    }
    // A decimal point, as in 1.5e9: the digits after it are taken as part of
    // the mantissa and paid for from the exponent; any left over must be zeros.
    std::string digits(mantissa);
    if (const auto point = mantissa.find('.'); point != std::string_view::npos) {
        const std::string_view whole = mantissa.substr(0, point);
        std::string_view fraction = mantissa.substr(point + 1);
        u128 ignored = 0;
        if (!parse_digits(whole, ~u128{0}, ignored, out.error, true) ||
            !parse_digits(fraction, ~u128{0}, ignored, out.error, true)) {
            out.error = "is not an integer";
            return out;
        }
        std::string tail(fraction);
        tail.erase(std::remove(tail.begin(), tail.end(), '_'), tail.end());
        while (!tail.empty() && tail.size() > exponent && tail.back() == '0') tail.pop_back();
        if (tail.size() > exponent) {
            out.error = "is not an integer";
            return out;
        }
        exponent -= static_cast<unsigned>(tail.size());
        digits = std::string(whole);
        digits += tail;
    }
    const u128 limit = negative ? u128{1} << 63 : (u128{1} << 63) - 1;
    u128 mag = 0;
    if (!parse_digits(digits, limit, mag, out.error)) return out;
    for (unsigned i = 0; i < exponent && mag != 0; ++i) {
        mag *= 10;
        if (mag > limit) {
            out.error = "is out of range for a 64-bit signed integer";
            return out;
        }
    }
    out.value =
        negative ? static_cast<std::int64_t>(u128{0} - mag) : static_cast<std::int64_t>(mag);
    return out;
}

std::string shortened(std::string_view text, std::size_t longest) {
    if (text.size() <= longest) return std::string(text);
    const auto continuation = [&](std::size_t i) {
        return (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80;
    };
    std::size_t head = longest * 2 / 3, tail = text.size() - longest / 3;
    while (head > 0 && continuation(head)) --head;
    while (tail < text.size() && continuation(tail)) ++tail;
    return std::string(text.substr(0, head)) + "..." + std::string(text.substr(tail)) + " (" +
           std::to_string(text.size()) + " bytes)";
}

namespace {

// [-]digits[.digits][(e|E)[+|-]digits], at least one digit in the mantissa:
// plain decimal notation, no spaces, signs of plus, hex, inf or nan.
bool is_plain_decimal(std::string_view s) {
    std::size_t i = 0, digits = 0;
    const auto is_digit = [&] { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
    if (i < s.size() && s[i] == '-') ++i;
    for (; is_digit(); ++i) ++digits;
    if (i < s.size() && s[i] == '.')
        for (++i; is_digit(); ++i) ++digits;
    if (digits == 0) return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        std::size_t exponent_digits = 0;
        for (; is_digit(); ++i) ++exponent_digits;
        if (exponent_digits == 0) return false;
    }
    return i == s.size();
}

}  // namespace

// Checked by grammar first, then converted in the classic locale (a host
// program's locale cannot change the decimal point): std::from_chars for
// double is missing from libc++ before LLVM 20.
ParsedSeconds parse_seconds(std::string_view text) {
    ParsedSeconds out;
    if (!is_plain_decimal(text)) {
        out.error = "is not a number of seconds";
        return out;
    }
    std::istringstream in{std::string(text)};
    in.imbue(std::locale::classic());
    double value = 0;
    in >> value;
    if (in.fail() || !std::isfinite(value)) {
        out.error = "is out of range";
        return out;
    }
    out.value = value;
    return out;
}

namespace {

// Length of the valid UTF-8 sequence at the start of `s`, or 0 if there is none.
std::size_t utf8_sequence(std::string_view s) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char lead = byte(0);
    std::size_t length;
    std::uint32_t code;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2, code = lead & 0x1Fu;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3, code = lead & 0x0Fu;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4, code = lead & 0x07u;
    } else {
        return 0;
    }
    if (s.size() < length) return 0;
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xC0u) != 0x80u) return 0;
        code = (code << 6) | (byte(i) & 0x3Fu);
    }
    // Overlong forms, UTF-16 surrogates and values beyond U+10FFFF are not UTF-8.
    static constexpr std::uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kSmallest[length] || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF) return 0;
    return length;
}

}  // namespace

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        const auto c = static_cast<unsigned char>(text.front());
        std::size_t take = 1;
        if (c >= 0x80) take = utf8_sequence(text);
        if (c < 0x20 || c == 0x7F || take == 0) {
            char escaped[5];
            std::snprintf(escaped, sizeof escaped, "\\x%02X", c);
            out += escaped;
            take = 1;
        } else {
            out.append(text.substr(0, take));
        }
        text.remove_prefix(take);
    }
    return out;
}

std::string si(double value) {
    static constexpr const char* prefixes[] = {"", " k", " M", " G", " T", " P", " E"};
    std::size_t p = 0;
    double v = value;
    while (std::fabs(v) >= 999.5 && p + 1 < std::size(prefixes)) {
        v /= 1000;
        ++p;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g%s", v, prefixes[p]);
    return buf;
}

std::string duration(double seconds) {
    char buf[32];
    if (seconds < 1e-3)
        std::snprintf(buf, sizeof buf, "%.3g us", seconds * 1e6);
    else if (seconds < 1)
        std::snprintf(buf, sizeof buf, "%.3g ms", seconds * 1e3);
    else
        std::snprintf(buf, sizeof buf, "%.3g s", seconds);
    return buf;
}

std::string grouped(std::uint64_t value) {
    const std::string digits = std::to_string(value);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string bytes_text(double bytes) {
    char buf[32];
    if (bytes >= 1e12)
        std::snprintf(buf, sizeof buf, "%.1f TB", bytes / 1e12);
    else if (bytes >= 1e9)
        std::snprintf(buf, sizeof buf, "%.1f GB", bytes / 1e9);
    else
        std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
    return buf;
}

}  // namespace gpusum
