// Text in and out: exact decimal for 128-bit sums, strict integer parsing for
// the command line (and later for file headers), human-friendly numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gpusum/series.hpp"

namespace gpusum {

// The outcome of parsing one integer: the value, or why it is not one.
struct ParsedInt {
    std::optional<std::int64_t> value;
    std::string error;  // set when value is empty, e.g. "is not an integer"
};

// Accepts an optional sign, decimal digits with optional '_' between digits
// (as Python does: 1_000_000_000), a decimal point when the value is still a
// whole number (1.5e9, 2.50e1) and an optional exact power-of-ten suffix
// (1e9, 25e8). Rejects whitespace, empty text, fractions and values outside
// int64.
ParsedInt parse_int64(std::string_view text);

// A duration in seconds as a plain decimal: 2, 0.25, 1e3. Rejects signs other
// than a leading '-' (reported by the caller's range check), whitespace,
// empty text, nan and infinities.
struct ParsedSeconds {
    std::optional<double> value;
    std::string error;
};
ParsedSeconds parse_seconds(std::string_view text);

// `text` safe to print as one line: control characters, DEL and bytes that
// are not valid UTF-8 become \xNN escapes; valid UTF-8 passes unchanged.
std::string printable(std::string_view text);

// `text` itself if at most `longest` bytes, else its start, "...", its end and
// the full length: "'123456...7890' (100000 bytes)" style, never splitting a
// UTF-8 sequence.
std::string shortened(std::string_view text, std::size_t longest = 64);

// "1.23 G" style: three significant digits with an SI prefix.
std::string si(double value);

// "812.0 MB" / "8.0 GB" / "1.2 TB" style sizes, in decimal units.
std::string bytes_text(double bytes);

// Seconds in the unit that reads best: "812 us", "12.3 ms", "4.51 s".
std::string duration(double seconds);

// 1000000000 -> "1,000,000,000"
std::string grouped(std::uint64_t value);

}  // namespace gpusum
