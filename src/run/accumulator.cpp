// Exact sums that merge (gpusum/accumulator.hpp): each piece is summed and
// checked by the facade, and its exact total (integers as i128, floats as
// the fast path's digits, both verified) joins one ExactFloat. An integer n
// is n * 2^1074 in the digits' units, so integer and float data share one
// exact total and integers never round.
#include "gpusum/accumulator.hpp"

#include <algorithm>
#include <vector>

#include "run/facade.hpp"
#include "support/exact_magnitude.hpp"

namespace gpusum {

namespace {

constexpr int kIntegerBit = 1074;  // where an integer's units digit lies
constexpr int kTop = kFloatDigits - 1;
constexpr std::uint64_t kDigitMask = 0xffffffffU;

// An i128 as a normalised exact total: its magnitude shifted to bit 1074,
// cut into 32-bit pieces, added negated for a negative value.
ExactFloat exact_of(i128 value) {
    ExactFloat e;
    const bool negative = value < 0;
    const u128 magnitude = negative ? -static_cast<u128>(value) : static_cast<u128>(value);
    constexpr int kDigit = kIntegerBit / 32, kShift = kIntegerBit % 32;  // 33, 18
    const u128 low = magnitude << kShift;
    const std::uint64_t pieces[] = {
        static_cast<std::uint64_t>(low) & kDigitMask,
        static_cast<std::uint64_t>(low >> 32) & kDigitMask,
        static_cast<std::uint64_t>(low >> 64) & kDigitMask,
        static_cast<std::uint64_t>(low >> 96) & kDigitMask,
        static_cast<std::uint64_t>(magnitude >> (128 - kShift)),
    };
    for (int k = 0; k < 5; ++k) e.digits[kDigit + k] = negative ? 0 - pieces[k] : pieces[k];
    normalise(e);
    return e;
}

// The integer a total of integer data is: its words from bit 1074 on.
// InputError if bits below it are set (float data).
std::vector<std::uint64_t> integer_words(const Magnitude& m) {
    constexpr int kDigit = kIntegerBit / 32, kShift = kIntegerBit % 32;
    for (int k = 0; k < kDigit; ++k)
        if (m.word[k] != 0) throw InputError("the accumulator's total is not an integer");
    if ((m.word[kDigit] & ((std::uint64_t{1} << kShift) - 1)) != 0)
        throw InputError("the accumulator's total is not an integer");
    std::vector<std::uint64_t> out;
    for (int k = kDigit; k < Magnitude::kWords; ++k) {
        const std::uint64_t next = k + 1 < Magnitude::kWords ? m.word[k + 1] : 0;
        out.push_back(((m.word[k] >> kShift) | (next << (32 - kShift))) & kDigitMask);
    }
    while (!out.empty() && out.back() == 0) out.pop_back();
    return out;
}

void put(std::string& out, std::uint64_t value, int bytes) {
    for (int b = 0; b < bytes; ++b) out.push_back(static_cast<char>((value >> (8 * b)) & 0xff));
}

std::uint64_t take(std::string_view& in, int bytes) {
    std::uint64_t value = 0;
    for (int b = 0; b < bytes; ++b)
        value |= std::uint64_t{static_cast<unsigned char>(in[b])} << (8 * b);
    in.remove_prefix(bytes);
    return value;
}

constexpr std::string_view kMagic = "GSUM";
constexpr std::uint8_t kVersion = 1;
enum Flag : std::uint8_t { kFloat = 1, kNaN = 2, kPlusInf = 4, kMinusInf = 8 };
constexpr std::size_t kFixedBytes = 4 + 1 + 1 + 8 + 1 + 1 + 8;  // all but the digits

}  // namespace

void Accumulator::add_total(const ExactFloat& total, std::uint64_t elements, bool real) {
    gpusum::merge(total_, total);
    elements_ = elements > UINT64_MAX - elements_ ? UINT64_MAX : elements_ + elements;
    is_float_ = is_float_ || real;
}

void Accumulator::add(Range range, const Options& options) {
    const Outcome o = checked_sum(range, options);
    add_total(exact_of(o.result.sum), o.elements, false);
}

void Accumulator::add(ArrayView array, const Options& options) {
    const Outcome o = checked_sum(array, options);
    add_total(o.real ? o.result.real : exact_of(o.result.sum), o.elements, o.real);
}

void Accumulator::add(DeviceArray array, const Options& options) {
    const Outcome o = checked_sum(array, options);
    add_total(o.real ? o.result.real : exact_of(o.result.sum), o.elements, o.real);
}

void Accumulator::merge(const Accumulator& other) {
    add_total(other.total_, other.elements_, other.is_float_);
}

double Accumulator::value() const {
    return rounded(total_);
}

std::string Accumulator::integer_text() const {
    if (is_float_) throw InputError("the accumulator holds float data: its result is a float");
    const Magnitude m = magnitude_of(total_);
    std::vector<std::uint64_t> words = integer_words(m);
    if (words.empty()) return "0";
    std::string digits;  // least significant first
    while (!words.empty()) {
        std::uint64_t remainder = 0;  // divide by 10^9, most significant word first
        for (std::size_t k = words.size(); k-- > 0;) {
            const std::uint64_t v = (remainder << 32) | words[k];
            words[k] = v / 1'000'000'000;
            remainder = v % 1'000'000'000;
        }
        while (!words.empty() && words.back() == 0) words.pop_back();
        for (int d = 0; d < 9 && (remainder != 0 || !words.empty()); ++d, remainder /= 10)
            digits.push_back(static_cast<char>('0' + remainder % 10));
    }
    if (m.negative) digits.push_back('-');
    return {digits.rbegin(), digits.rend()};
}

i128 Accumulator::integer() const {
    if (is_float_) throw InputError("the accumulator holds float data: its result is a float");
    const Magnitude m = magnitude_of(total_);
    const std::vector<std::uint64_t> words = integer_words(m);
    const u128 limit = (u128{1} << 127) - (m.negative ? 0 : 1);
    u128 magnitude = 0;
    for (std::size_t k = 0; k < words.size(); ++k) {
        if (k >= 4) throw InputError("the accumulator's total does not fit 128 bits");
        magnitude |= static_cast<u128>(words[k]) << (32 * k);
    }
    if (magnitude > limit) throw InputError("the accumulator's total does not fit 128 bits");
    return m.negative ? static_cast<i128>(0 - magnitude) : static_cast<i128>(magnitude);
}

std::string Accumulator::to_bytes() const {
    int first = 0, last = kTop;  // the nonzero digits below the top: [first, last)
    while (first < kTop && total_.digits[first] == 0) ++first;
    while (last > first && total_.digits[last - 1] == 0) --last;
    std::string out(kMagic);
    put(out, kVersion, 1);
    put(out,
        (is_float_ ? kFloat : 0) | ((total_.specials & kSawNaN) != 0 ? kNaN : 0) |
            ((total_.specials & kSawPositiveInf) != 0 ? kPlusInf : 0) |
            ((total_.specials & kSawNegativeInf) != 0 ? kMinusInf : 0),
        1);
    put(out, elements_, 8);
    put(out, static_cast<std::uint64_t>(first), 1);
    put(out, static_cast<std::uint64_t>(last - first), 1);
    for (int k = first; k < last; ++k) put(out, total_.digits[k], 4);
    put(out, total_.digits[kTop], 8);
    return out;
}

Accumulator Accumulator::from_bytes(std::string_view bytes) {
    const auto bad = [](const std::string& why) {
        return InputError("not a gpusum accumulator's bytes: " + why);
    };
    if (bytes.size() < kFixedBytes || bytes.substr(0, 4) != kMagic)
        throw bad("they do not start with its header");
    bytes.remove_prefix(4);
    if (const auto version = take(bytes, 1); version != kVersion)
        throw bad("version " + std::to_string(version) + ", this gpusum reads version " +
                  std::to_string(kVersion));
    const auto flags = take(bytes, 1);
    if ((flags & ~std::uint64_t{kFloat | kNaN | kPlusInf | kMinusInf}) != 0)
        throw bad("unknown flags");
    Accumulator a;
    a.is_float_ = (flags & kFloat) != 0;
    a.total_.specials = ((flags & kNaN) != 0 ? unsigned{kSawNaN} : 0U) |
                        ((flags & kPlusInf) != 0 ? unsigned{kSawPositiveInf} : 0U) |
                        ((flags & kMinusInf) != 0 ? unsigned{kSawNegativeInf} : 0U);
    a.elements_ = take(bytes, 8);
    const auto first = take(bytes, 1), count = take(bytes, 1);
    if (first + count > kTop || bytes.size() != 4 * count + 8)
        throw bad("the digits do not fit the length");
    for (std::uint64_t k = first; k < first + count; ++k) a.total_.digits[k] = take(bytes, 4);
    a.total_.digits[kTop] = take(bytes, 8);
    if (!a.is_float_) {
        if (a.total_.specials != 0) throw bad("integer data with NaN or infinities");
        try {
            (void)integer_words(magnitude_of(a.total_));
        } catch (const InputError&) {
            throw bad("integer data with a fraction");
        }
    }
    return a;
}

}  // namespace gpusum
