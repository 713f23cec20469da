// The independent checks of array sums. They share nothing with the fast
// paths but the chunking: integers by one 128-bit add per element; floats by
// a long accumulator of 64-bit limbs with every carry propagated at once (a
// Kulisch accumulator), elements decomposed with frexp rather than by their
// bits, and the total rounded by the hardware's integer-to-double conversion
// rather than by hand.
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "gpusum/array.hpp"
#include "gpusum/progress.hpp"
#include "parallel.hpp"
#include "stop_signals.hpp"

namespace gpusum {

namespace {

template <class T>
T element(const unsigned char* p, std::uint64_t i) {
    T v;
    std::memcpy(&v, p + i * sizeof(T), sizeof(T));
    return v;
}

// Two's complement, least significant limb first, in units of 2^-1074:
// 2240 bits hold 2^64 elements of the largest double with room for the sign.
class LongAccumulator {
  public:
    static constexpr int kLimbs = 35;

    void add(double x) {
        if (std::isnan(x)) {
            nan_ = true;
            return;
        }
        if (std::isinf(x)) {
            (x > 0 ? positive_inf_ : negative_inf_) = true;
            return;
        }
        if (x == 0) return;
        int exponent = 0;
        const double fraction = std::frexp(std::fabs(x), &exponent);  // [0.5, 1)
        auto mantissa = static_cast<std::uint64_t>(std::ldexp(fraction, 53));
        int position = exponent - 53 + 1074;  // of the mantissa's lowest bit
        if (position < 0) {                   // subnormal: the bits shifted out are zeros
            mantissa >>= -position;
            position = 0;
        }
        const u128 placed = static_cast<u128>(mantissa) << (position % 64);
        add_at(position / 64, static_cast<std::uint64_t>(placed),
               static_cast<std::uint64_t>(placed >> 64), x < 0);
    }

    void add(const LongAccumulator& other) {
        unsigned carry = 0;
        for (int k = 0; k < kLimbs; ++k) {
            const u128 v = static_cast<u128>(limb_[k]) + other.limb_[k] + carry;
            limb_[k] = static_cast<std::uint64_t>(v);
            carry = static_cast<unsigned>(v >> 64);
        }
        nan_ = nan_ || other.nan_;
        positive_inf_ = positive_inf_ || other.positive_inf_;
        negative_inf_ = negative_inf_ || other.negative_inf_;
    }

    double value() const {
        if (nan_ || (positive_inf_ && negative_inf_))
            return std::numeric_limits<double>::quiet_NaN();
        if (positive_inf_) return std::numeric_limits<double>::infinity();
        if (negative_inf_) return -std::numeric_limits<double>::infinity();
        std::uint64_t magnitude[kLimbs];
        const bool negative = (limb_[kLimbs - 1] >> 63) != 0;
        unsigned carry = negative ? 1 : 0;  // -v = ~v + 1
        for (int k = 0; k < kLimbs; ++k) {
            const u128 v = static_cast<u128>(negative ? ~limb_[k] : limb_[k]) + carry;
            magnitude[k] = static_cast<std::uint64_t>(v);
            carry = static_cast<unsigned>(v >> 64);
        }
        int top = kLimbs - 1;
        while (top > 0 && magnitude[top] == 0) --top;
        double v = 0;
        if (top == 0) {
            // Below 2^64 units: one conversion rounds it, and the scaling is
            // exact (a subnormal result has no bits below 2^-1074 to lose).
            v = std::ldexp(static_cast<double>(magnitude[0]), -1074);
        } else {
            // The leading 64 bits, with the lowest set if anything below them
            // is nonzero: the conversion then rounds exactly as the whole would.
            const int zeros = __builtin_clzll(magnitude[top]);
            std::uint64_t lead = magnitude[top] << zeros;
            std::uint64_t below = 0;
            if (zeros > 0) {
                lead |= magnitude[top - 1] >> (64 - zeros);
                below = magnitude[top - 1] << zeros;
            } else {
                below = magnitude[top - 1];
            }
            for (int k = 0; k < top - 1; ++k) below |= magnitude[k];
            if (below != 0) lead |= 1;
            const int lowest = 64 * (top - 1) + (64 - zeros);  // bit position of lead's lsb
            v = std::ldexp(static_cast<double>(lead), lowest - 1074);
        }
        return negative ? -v : v;
    }

  private:
    void add_at(int k, std::uint64_t low, std::uint64_t high, bool subtract) {
        if (!subtract) {
            const u128 a = static_cast<u128>(limb_[k]) + low;
            limb_[k] = static_cast<std::uint64_t>(a);
            u128 carry = (a >> 64) + high;
            for (int j = k + 1; j < kLimbs && carry != 0; ++j) {
                const u128 b = static_cast<u128>(limb_[j]) + carry;
                limb_[j] = static_cast<std::uint64_t>(b);
                carry = b >> 64;
            }
        } else {
            const bool borrow_low = limb_[k] < low;
            limb_[k] -= low;
            u128 borrow = static_cast<u128>(high) + (borrow_low ? 1 : 0);
            for (int j = k + 1; j < kLimbs && borrow != 0; ++j) {
                const std::uint64_t b = static_cast<std::uint64_t>(borrow);
                const bool under = limb_[j] < b;
                limb_[j] -= b;
                borrow = under ? 1 : 0;
            }
        }
    }

    std::uint64_t limb_[kLimbs] = {};
    bool nan_ = false, positive_inf_ = false, negative_inf_ = false;
};

// Enough pieces to keep every worker busy, few enough to cost nothing.
constexpr std::uint64_t kCheckPieces = 256;

}  // namespace

i128 check_sum_integers(ArrayView a, unsigned workers, Progress* progress) {
    std::vector<i128> parts(kCheckPieces);
    for_each_index(kCheckPieces, workers, [&](std::uint64_t piece) {
        throw_if_stopped();
        const ArrayView part = chunk_of(a, kCheckPieces, piece);
        parts[piece] = visit_dtype(a.dtype, [&](auto t) -> i128 {
            using T = decltype(t);
            i128 total = 0;
            if constexpr (std::is_integral_v<T>)
                for (std::uint64_t i = 0; i < part.count; ++i) total += element<T>(part.data, i);
            return total;
        });
        if (progress != nullptr) progress->advance(part.count);
    });
    i128 total = 0;
    for (const i128 p : parts) total += p;
    return total;
}

double check_sum_floats(ArrayView a, unsigned workers, Progress* progress) {
    std::vector<LongAccumulator> parts(kCheckPieces);
    for_each_index(kCheckPieces, workers, [&](std::uint64_t piece) {
        throw_if_stopped();
        const ArrayView part = chunk_of(a, kCheckPieces, piece);
        visit_dtype(a.dtype, [&](auto t) {
            using T = decltype(t);
            if constexpr (std::is_floating_point_v<T>)
                for (std::uint64_t i = 0; i < part.count; ++i)
                    parts[piece].add(static_cast<double>(element<T>(part.data, i)));
        });
        if (progress != nullptr) progress->advance(part.count);
    });
    for (std::uint64_t p = 1; p < kCheckPieces; ++p) parts[0].add(parts[p]);
    return parts[0].value();
}

bool same_float(double a, double b) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    std::uint64_t x, y;
    std::memcpy(&x, &a, sizeof x);
    std::memcpy(&y, &b, sizeof y);
    return x == y;
}

}  // namespace gpusum
