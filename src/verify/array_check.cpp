// The independent checks of array sums. They share nothing with the fast
// paths but the chunking and the walk over a layout's rows: integers by
// plain adds into counters per block (64-bit elements by their 32-bit
// halves), 128-bit totals; floats by fixed-point windows into a long
// accumulator (float_check.cpp), rounded by the hardware's integer-to-double
// conversion rather than by hand.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <memory>
#include <type_traits>
#include <vector>

#include "support/parallel.hpp"
#include "support/progress.hpp"
#include "support/simd_targets.hpp"
#include "support/stop_signals.hpp"
#include "verify/array_check.hpp"
#include "verify/float_check.hpp"

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

// Sums of contiguous 64-bit elements: the low and high 32-bit halves summed
// apart in 64-bit words (2^31 halves cannot overflow one), joined per block.
// A loop the compiler vectorises, and arithmetic unlike the fast path's.
template <class T>
__attribute__((always_inline)) inline i128 sum_by_halves(const unsigned char* p, std::uint64_t n) {
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
__attribute__((always_inline)) inline i128 sum_narrow(const unsigned char* p, std::uint64_t n) {
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

// NumPy bools: the nonzero bytes, counted by a byte counter per 192 (fewer
// than 256, and whole vectors on every target, so no block ends in a
// partial one).
__attribute__((always_inline)) inline i128 count_trues(const unsigned char* p, std::uint64_t n) {
    constexpr std::uint64_t kBlock = 192;
    std::uint64_t count = 0;
    for (std::uint64_t b = 0; b < n; b += kBlock) {
        const std::uint64_t m = std::min(kBlock, n - b);
        std::uint8_t block = 0;
        for (std::uint64_t i = 0; i < m; ++i)
            block = static_cast<std::uint8_t>(block + (p[b + i] != 0 ? 1 : 0));
        count += block;
    }
    return count;
}

// Contiguous elements in this machine's byte order, compiled for each SIMD
// target (support/simd_targets.hpp) so that the plain loops above use the
// widest vectors this CPU has. A switch, not visit_dtype: a lambda's body
// would be compiled outside the target attribute.
#define GPUSUM_STAMP_INTEGER_CHECK(suffix, target_attr, vector_bytes)                      \
    target_attr i128 integers_##suffix(const unsigned char* p, std::uint64_t n, DType t) { \
        switch (t) {                                                                       \
            case DType::boolean:                                                           \
                return count_trues(p, n);                                                  \
            case DType::int8:                                                              \
                return sum_narrow<std::int8_t>(p, n);                                      \
            case DType::uint8:                                                             \
                return sum_narrow<std::uint8_t>(p, n);                                     \
            case DType::int16:                                                             \
                return sum_narrow<std::int16_t>(p, n);                                     \
            case DType::uint16:                                                            \
                return sum_narrow<std::uint16_t>(p, n);                                    \
            case DType::int32:                                                             \
                return sum_narrow<std::int32_t>(p, n);                                     \
            case DType::uint32:                                                            \
                return sum_narrow<std::uint32_t>(p, n);                                    \
            case DType::int64:                                                             \
                return sum_by_halves<std::int64_t>(p, n);                                  \
            case DType::uint64:                                                            \
                return sum_by_halves<std::uint64_t>(p, n);                                 \
            default:                                                                       \
                return 0;                                                                  \
        }                                                                                  \
    }
GPUSUM_SIMD_TARGETS(GPUSUM_STAMP_INTEGER_CHECK)
#undef GPUSUM_STAMP_INTEGER_CHECK

#define GPUSUM_INTEGER_CHECK(suffix, target_attr, vector_bytes) integers_##suffix,
constexpr i128 (*kIntegerChecks[])(const unsigned char*, std::uint64_t,
                                   DType) = {GPUSUM_SIMD_TARGETS(GPUSUM_INTEGER_CHECK)};
#undef GPUSUM_INTEGER_CHECK

// The exact sum of one run of integer elements (bools: the nonzero bytes).
template <class T>
i128 integer_run(DType dtype, const unsigned char* p, std::uint64_t n, std::int64_t stride,
                 bool swapped) {
    if (stride == static_cast<std::int64_t>(sizeof(T)) && !swapped)
        return simd::pick(kIntegerChecks)(p, n, dtype);
    i128 total = 0;
    if (dtype == DType::boolean)
        for (std::uint64_t i = 0; i < n; ++i, p += stride) total += *p == 0 ? 0 : 1;
    else
        for (std::uint64_t i = 0; i < n; ++i, p += stride) total += element<T>(p, swapped);
    return total;
}

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

// Both checks run at about memory speed (4 MiB: about 0.2 ms).
constexpr std::uint64_t kBytesPerWorker = std::uint64_t{1} << 22;

}  // namespace

i128 check_block_integers(ArrayView block) {
    return simd::pick(kIntegerChecks)(block.data, block.count, block.dtype);
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
    const CheckPlan plan = check_plan(a, workers, kBytesPerWorker);
    std::vector<i128> parts(plan.pieces);
    for_each_index(plan.pieces, plan.workers, [&](std::uint64_t piece) {
        throw_if_stopped();
        const ArrayView part = chunk_of(a, plan.pieces, piece);
        const bool swapped = part.swapped();
        visit_dtype(a.dtype, [&](auto t) {
            using T = decltype(t);
            if constexpr (std::is_integral_v<T>)
                for_each_run(part,
                             [&](const unsigned char* p, std::uint64_t n, std::int64_t stride) {
                                 parts[piece] += integer_run<T>(a.dtype, p, n, stride, swapped);
                             });
        });
        if (progress != nullptr) progress->advance(part.count);
    });
    i128 total = 0;
    for (const i128 p : parts) total += p;
    return total;
}

namespace {

// The float elements of one run into `sum`: dense runs in this machine's
// byte order as they are, others first gathered a block at a time into that
// form (bytes reversed one by one here; the fast path swaps whole words).
void add_float_run(DType dtype, const unsigned char* p, std::uint64_t n, std::int64_t stride,
                   bool swapped, LongAccumulator& sum) {
    const auto size = static_cast<std::int64_t>(dtype_size(dtype));
    if (stride == size && !swapped) {
        check_float_block(ArrayView{p, n, dtype}, sum);
        return;
    }
    constexpr std::uint64_t kGather = 1024;
    std::uint64_t buffer[kGather];
    auto* bytes = reinterpret_cast<unsigned char*>(buffer);
    for (std::uint64_t done = 0; done < n; done += kGather) {
        const std::uint64_t take = std::min(kGather, n - done);
        for (std::uint64_t i = 0; i < take; ++i, p += stride) {
            std::memcpy(bytes + i * size, p, size);
            if (swapped) std::reverse(bytes + i * size, bytes + (i + 1) * size);
        }
        check_float_block(ArrayView{bytes, take, dtype}, sum);
    }
}

LongAccumulator checked_total(ArrayView a, unsigned workers, Progress* progress) {
    const CheckPlan plan = check_plan(a, workers, kBytesPerWorker);
    std::vector<LongAccumulator> parts(plan.pieces);
    for_each_index(plan.pieces, plan.workers, [&](std::uint64_t piece) {
        throw_if_stopped();
        const ArrayView part = chunk_of(a, plan.pieces, piece);
        const bool swapped = part.swapped();
        for_each_run(part, [&](const unsigned char* p, std::uint64_t n, std::int64_t stride) {
            add_float_run(a.dtype, p, n, stride, swapped, parts[piece]);
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

void FloatCheck::add_block(ArrayView block) {
    check_float_block(block, total_->sum);
}

void FloatCheck::merge(const FloatCheck& other) {
    total_->sum.add(other.total_->sum);
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
