// The independent checks of array sums. They share nothing with the fast
// paths but the chunking and the walk over a layout's rows: integers by
// plain adds into 64-bit words per block (64-bit elements by their 32-bit
// halves), 128-bit totals; floats by
// a long accumulator of 64-bit limbs with every carry propagated at once (a
// Kulisch accumulator), elements decomposed with frexp rather than by their
// bits, and the total rounded by the hardware's integer-to-double conversion
// rather than by hand.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "support/parallel.hpp"
#include "support/progress.hpp"
#include "support/stop_signals.hpp"
#include "verify/array_check.hpp"

namespace gpusum {

namespace {

// An element in this machine's byte order: the bytes reversed one by one
// here (the fast path swaps whole words).
template <class T>
T element(const unsigned char* p, bool swapped) {
    unsigned char bytes[sizeof(T)];
    std::memcpy(bytes, p, sizeof bytes);
    if (swapped) std::reverse(std::begin(bytes), std::end(bytes));
    T v;
    std::memcpy(&v, bytes, sizeof v);
    return v;
}

// A float16's value from its fields, by arithmetic (the fast path moves
// bits): (1024 + fraction) * 2^(exponent - 25), or fraction * 2^-24.
double half_value(std::uint16_t bits) {
    // 2^(e - 25) for the exponent fields e = 1..30; e = 0 (subnormal) is 2^-24 too.
    static constexpr auto kScales = [] {
        std::array<double, 31> scales{};
        double scale = 0x1p-24;
        scales[0] = scale;
        for (std::size_t e = 1; e < scales.size(); ++e, scale *= 2) scales[e] = scale;
        return scales;
    }();
    const unsigned exponent = (bits >> 10) & 0x1fU;
    const unsigned fraction = bits & 0x3ffU;
    double magnitude = 0;
    if (exponent == 0x1f)
        magnitude = fraction == 0 ? std::numeric_limits<double>::infinity()
                                  : std::numeric_limits<double>::quiet_NaN();
    else
        magnitude = (exponent == 0 ? fraction : 1024 + fraction) * kScales[exponent];
    return (bits & 0x8000) != 0 ? -magnitude : magnitude;
}

// Sums of contiguous 64-bit elements: the low and high 32-bit halves summed
// apart in 64-bit words (2^31 halves cannot overflow one), joined per block.
// A loop the compiler vectorises, and arithmetic unlike the fast path's.
template <class T>
i128 sum_by_halves(const unsigned char* p, std::uint64_t n) {
    constexpr std::uint64_t kBlock = std::uint64_t{1} << 31;
    using High = std::conditional_t<std::is_signed_v<T>, std::int32_t, std::uint32_t>;
    i128 total = 0;
    for (std::uint64_t b = 0; b < n; b += kBlock) {
        const std::uint64_t m = std::min(kBlock, n - b);
        std::uint64_t lows = 0;
        std::int64_t highs = 0;
        for (std::uint64_t i = 0; i < m; ++i) {
            std::uint64_t x;
            std::memcpy(&x, p + (b + i) * 8, 8);
            lows += x & 0xffffffffU;
            highs += static_cast<High>(x >> 32);
        }
        total += i128{highs} * (i128{1} << 32) + lows;
    }
    return total;
}

// Contiguous elements of up to 32 bits in this machine's byte order, added
// in plain loops the compiler vectorises by itself (unlike the fast path's
// hand-written lanes and byte fields), each block's counter as narrow as
// its total allows (unsigned for unsigned elements): 8-bit elements 256 to a
// 16-bit counter, 16-bit ones 2^16 to a 32-bit one, 32-bit ones 2^31 to an
// int64; the blocks then into 128 bits.
template <class T>
i128 sum_narrow(const unsigned char* p, std::uint64_t n) {
    using Narrow = std::conditional_t<std::is_signed_v<T>, std::int32_t, std::uint32_t>;
    using Byte = std::conditional_t<std::is_signed_v<T>, std::int16_t, std::uint16_t>;
    using Block = std::conditional_t<sizeof(T) == 1, Byte,
                                     std::conditional_t<sizeof(T) == 2, Narrow, std::int64_t>>;
    constexpr std::uint64_t kBlock = std::uint64_t{1} << (sizeof(T) == 1   ? 8
                                                          : sizeof(T) == 2 ? 16
                                                                           : 31);
    i128 total = 0;
    for (std::uint64_t b = 0; b < n; b += kBlock) {
        const std::uint64_t m = std::min(kBlock, n - b);
        Block block = 0;
        for (std::uint64_t i = 0; i < m; ++i) {
            T x;
            std::memcpy(&x, p + (b + i) * sizeof(T), sizeof x);
            block = static_cast<Block>(block + x);
        }
        total += block;
    }
    return total;
}

// The exact sum of one run of integer elements (bools: the nonzero bytes).
template <class T>
i128 integer_run(const unsigned char* p, std::uint64_t n, std::int64_t stride, bool swapped,
                 bool trues) {
    if (trues) {
        std::uint64_t count = 0;
        if (stride == 1) {
            constexpr std::uint64_t kBlock = 255;  // byte counts
            for (std::uint64_t b = 0; b < n; b += kBlock) {
                std::uint8_t block = 0;
                for (std::uint64_t i = b; i < std::min(n, b + kBlock); ++i)
                    block = static_cast<std::uint8_t>(block + (p[i] != 0 ? 1 : 0));
                count += block;
            }
        } else
            for (std::uint64_t i = 0; i < n; ++i, p += stride) count += *p == 0 ? 0 : 1;
        return count;
    }
    if (stride == static_cast<std::int64_t>(sizeof(T)) && !swapped) {
        if constexpr (sizeof(T) == 8)
            return sum_by_halves<T>(p, n);
        else
            return sum_narrow<T>(p, n);
    }
    i128 total = 0;
    for (std::uint64_t i = 0; i < n; ++i, p += stride) total += element<T>(p, swapped);
    return total;
}

// Two magnitudes, positive and negative elements apart, least significant
// limb first, in units of 2^-1074: 2240 bits hold 2^64 elements of the
// largest double. Kept apart so that a carry stops at the first limb that
// does not overflow: one two's complement total would carry through every
// limb each time mixed-sign data crosses zero. They meet once, in value().
class LongAccumulator {
  public:
    static constexpr int kLimbs = 35;
    using Limbs = std::uint64_t[kLimbs];

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
        const double fraction = std::frexp(std::fabs(x), &exponent);    // [0.5, 1)
        auto mantissa = static_cast<std::uint64_t>(fraction * 0x1p53);  // exact: a power of 2
        int position = exponent - 53 + 1074;  // of the mantissa's lowest bit
        if (position < 0) {                   // subnormal: the bits shifted out are zeros
            mantissa >>= -position;
            position = 0;
        }
        const u128 placed = static_cast<u128>(mantissa) << (position % 64);
        add_at(x < 0 ? negative_ : positive_, position / 64, placed);
    }

    void add(const LongAccumulator& other) {
        add_limbs(positive_, other.positive_);
        add_limbs(negative_, other.negative_);
        nan_ = nan_ || other.nan_;
        positive_inf_ = positive_inf_ || other.positive_inf_;
        negative_inf_ = negative_inf_ || other.negative_inf_;
    }

    double value() const {
        if (nan_ || (positive_inf_ && negative_inf_))
            return std::numeric_limits<double>::quiet_NaN();
        if (positive_inf_) return std::numeric_limits<double>::infinity();
        if (negative_inf_) return -std::numeric_limits<double>::infinity();
        // |positive - negative|, the larger minus the smaller.
        const bool negative =
            std::lexicographical_compare(std::rbegin(positive_), std::rend(positive_),
                                         std::rbegin(negative_), std::rend(negative_));
        const Limbs& larger = negative ? negative_ : positive_;
        const Limbs& smaller = negative ? positive_ : negative_;
        std::uint64_t magnitude[kLimbs];
        unsigned borrow = 0;
        for (int k = 0; k < kLimbs; ++k) {
            const u128 v = static_cast<u128>(larger[k]) - smaller[k] - borrow;
            magnitude[k] = static_cast<std::uint64_t>(v);
            borrow = static_cast<unsigned>(v >> 127);
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
    // A placed mantissa spans limbs k and k + 1 (k <= 31: the largest double's
    // lowest bit is at 2^2045 units); a carry out of k + 1 is rare and
    // usually stops at the next limb.
    static void add_at(Limbs& limbs, int k, u128 value) {
        const u128 low = static_cast<u128>(limbs[k]) + static_cast<std::uint64_t>(value);
        limbs[k] = static_cast<std::uint64_t>(low);
        const u128 high = static_cast<u128>(limbs[k + 1]) +
                          static_cast<std::uint64_t>(value >> 64) +
                          static_cast<std::uint64_t>(low >> 64);
        limbs[k + 1] = static_cast<std::uint64_t>(high);
        for (int j = k + 2; (high >> 64) != 0 && j < kLimbs && ++limbs[j] == 0; ++j) {
        }
    }

    static void add_limbs(Limbs& limbs, const Limbs& other) {
        unsigned carry = 0;
        for (int k = 0; k < kLimbs; ++k) {
            const u128 v = static_cast<u128>(limbs[k]) + other[k] + carry;
            limbs[k] = static_cast<std::uint64_t>(v);
            carry = static_cast<unsigned>(v >> 64);
        }
    }

    Limbs positive_ = {};
    Limbs negative_ = {};
    bool nan_ = false, positive_inf_ = false, negative_inf_ = false;
};

// How the check divides its work: up to 256 pieces (enough to keep every
// worker busy), each of at least 64 KiB (a small array is one piece); and
// helper threads only where they pay for starting (tens of microseconds):
// one worker per `bytes_per_worker`, up to `workers`.
struct CheckPlan {
    std::uint64_t pieces;
    unsigned workers;
};

CheckPlan check_plan(const ArrayView& a, unsigned workers, std::uint64_t bytes_per_worker) {
    constexpr std::uint64_t kMaxPieces = 256, kBytesPerPiece = std::uint64_t{1} << 16;
    return {std::clamp<std::uint64_t>(a.bytes() / kBytesPerPiece, 1, kMaxPieces),
            static_cast<unsigned>(
                std::clamp<std::uint64_t>(a.bytes() / bytes_per_worker, 1, std::max(workers, 1U)))};
}

// Integers are checked at memory speed (4 MiB: about 0.2 ms), floats at
// 4-7 ns per element (256 KiB of float64: 0.13-0.23 ms).
constexpr std::uint64_t kIntegerBytesPerWorker = std::uint64_t{1} << 22;
constexpr std::uint64_t kFloatBytesPerWorker = std::uint64_t{1} << 18;

}  // namespace

i128 check_block_integers(ArrayView block) {
    i128 total = 0;
    visit_dtype(block.dtype, [&](auto t) {
        using T = decltype(t);
        if constexpr (std::is_integral_v<T>)
            total = integer_run<T>(block.data, block.count, sizeof(T), false,
                                   block.dtype == DType::boolean);
    });
    return total;
}

bool tiles(std::vector<ElementRange> walked, std::uint64_t count) {
    std::sort(walked.begin(), walked.end());
    std::uint64_t next = 0;
    for (const ElementRange& r : walked) {
        if (r.first != next || r.count > count - next) return false;
        next += r.count;
    }
    return next == count;
}

i128 check_sum_integers(ArrayView a, unsigned workers, Progress* progress) {
    const CheckPlan plan = check_plan(a, workers, kIntegerBytesPerWorker);
    std::vector<i128> parts(plan.pieces);
    for_each_index(plan.pieces, plan.workers, [&](std::uint64_t piece) {
        throw_if_stopped();
        const ArrayView part = chunk_of(a, plan.pieces, piece);
        const bool swapped = part.swapped();
        const bool trues = a.dtype == DType::boolean;
        visit_dtype(a.dtype, [&](auto t) {
            using T = decltype(t);
            if constexpr (std::is_integral_v<T>)
                for_each_run(part,
                             [&](const unsigned char* p, std::uint64_t n, std::int64_t stride) {
                                 parts[piece] += integer_run<T>(p, n, stride, swapped, trues);
                             });
        });
        if (progress != nullptr) progress->advance(part.count);
    });
    i128 total = 0;
    for (const i128 p : parts) total += p;
    return total;
}

namespace {

LongAccumulator checked_total(ArrayView a, unsigned workers, Progress* progress) {
    const CheckPlan plan = check_plan(a, workers, kFloatBytesPerWorker);
    std::vector<LongAccumulator> parts(plan.pieces);
    for_each_index(plan.pieces, plan.workers, [&](std::uint64_t piece) {
        throw_if_stopped();
        const ArrayView part = chunk_of(a, plan.pieces, piece);
        const bool swapped = part.swapped();
        LongAccumulator& sum = parts[piece];
        for_each_run(part, [&](const unsigned char* p, std::uint64_t n, std::int64_t stride) {
            for (std::uint64_t i = 0; i < n; ++i, p += stride) {
                if (a.dtype == DType::float16)
                    sum.add(half_value(element<std::uint16_t>(p, swapped)));
                else if (a.dtype == DType::float32)
                    sum.add(element<float>(p, swapped));
                else
                    sum.add(element<double>(p, swapped));
            }
        });
        if (progress != nullptr) progress->advance(part.count);
    });
    for (std::uint64_t p = 1; p < plan.pieces; ++p) parts[0].add(parts[p]);
    return parts[0];
}

}  // namespace

double check_sum_floats(ArrayView a, unsigned workers, Progress* progress) {
    return checked_total(a, workers, progress).value();
}

struct FloatCheck::Total {
    LongAccumulator sum;
};

FloatCheck::FloatCheck() : total_(std::make_unique<Total>()) {}
FloatCheck::~FloatCheck() = default;

void FloatCheck::add(ArrayView piece, unsigned workers) {
    total_->sum.add(checked_total(piece, workers, nullptr));
}

double FloatCheck::value() const {
    return total_->sum.value();
}

bool same_float(double a, double b) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    std::uint64_t x, y;
    std::memcpy(&x, &a, sizeof x);
    std::memcpy(&y, &b, sizeof y);
    return x == y;
}

}  // namespace gpusum
