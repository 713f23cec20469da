// Summing arrays: the vectorised fast paths, exact for every dtype, compiled
// for each target of support/simd_targets.hpp.
#include <bit>
#include <cmath>
#include <limits>
#include <type_traits>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

#include "backends/cpu/simd/loops.hpp"
#include "exact_halves.hpp"
#include "support/simd_targets.hpp"
#include "support/simd_vectors.hpp"

namespace gpusum {

namespace {

using simd::load;
using simd::VecOf;

// 2^30 values below 2^32 in magnitude sum to below 2^62: 64-bit lanes are exact.
constexpr std::uint64_t kIntegerBlock = kExactHalvesBlock;
constexpr std::uint64_t kUnroll = 4;  // independent accumulators per loop

// Elements of half a lane's width, read two to a lane and split by shifts
// (compilers lower a widening conversion of a whole vector to several
// narrower ones and shuffles): Wide words, the low half sign- or
// zero-extended by a shift up and back, the high half by one shift down.
template <class T, class Wide>
__attribute__((always_inline)) inline void add_halves(const Wide& words, Wide& acc) {
    constexpr int kBits = 8 * sizeof(T);
    acc += ((words << kBits) >> kBits) + (words >> kBits);
}

// 32-bit elements, two to each int64 lane (exact per block).
template <class T, unsigned Lanes>
__attribute__((always_inline)) inline i128 narrow_block(const unsigned char* q, std::uint64_t m) {
    using Lane = std::conditional_t<std::is_signed_v<T>, std::int64_t, std::uint64_t>;
    using wide = typename VecOf<Lane, Lanes>::type;
    constexpr std::uint64_t kStep = 2 * std::uint64_t{Lanes} * kUnroll;  // elements per round
    wide acc[kUnroll] = {};
    std::uint64_t i = 0;
    for (; i + kStep <= m; i += kStep) {
        for (std::uint64_t u = 0; u < kUnroll; ++u) {
            wide words;
            __builtin_memcpy(&words, q + (i + u * 2 * Lanes) * sizeof(T), sizeof words);
            add_halves<T>(words, acc[u]);
        }
    }
    std::int64_t total = 0;
    for (const auto& lanes : acc)
        for (unsigned l = 0; l < Lanes; ++l) total += static_cast<std::int64_t>(lanes[l]);
    for (; i < m; ++i) total += static_cast<std::int64_t>(load<T>(q, i));
    return total;
}

// 8-bit elements, 8 to a 64-bit word with no widening (compilers lower a
// byte-to-int32 conversion to per-byte moves): the bytes, signed ones biased
// by 128 to unsigned, are added pairwise into the word's four 16-bit fields.
// A field takes two bytes (at most 510) a round, so 128 rounds stay below
// 2^16 before the fields are emptied into 64 bits.
template <class T, unsigned Lanes>
__attribute__((always_inline)) inline i128 byte_block(const unsigned char* q, std::uint64_t m) {
    using lanes = typename VecOf<std::uint64_t, Lanes>::type;
    constexpr std::uint64_t kBias = std::is_signed_v<T> ? 0x8080808080808080U : 0;
    constexpr std::uint64_t kEven = 0x00ff00ff00ff00ffU;
    constexpr std::uint64_t kVector = std::uint64_t{Lanes} * 8, kStep = kVector * kUnroll;  // bytes
    std::uint64_t total = 0, i = 0;
    while (i + kStep <= m) {
        lanes fields[kUnroll] = {};
        const std::uint64_t rounds = std::min<std::uint64_t>(128, (m - i) / kStep);
        for (std::uint64_t r = 0; r < rounds; ++r, i += kStep) {
            for (std::uint64_t u = 0; u < kUnroll; ++u) {
                lanes w;
                __builtin_memcpy(&w, q + i + u * kVector, sizeof w);
                w ^= kBias;
                fields[u] += (w & kEven) + ((w >> 8) & kEven);
            }
        }
        for (const auto& f : fields)
            for (unsigned l = 0; l < Lanes; ++l)
                total += (f[l] & 0xffffU) + ((f[l] >> 16) & 0xffffU) + ((f[l] >> 32) & 0xffffU) +
                         (f[l] >> 48);
    }
    for (; i < m; ++i) total += static_cast<std::uint8_t>(q[i] ^ static_cast<unsigned char>(kBias));
    const i128 bias = std::is_signed_v<T> ? i128{128} * static_cast<i128>(m) : 0;
    return static_cast<i128>(total) - bias;
}

// 16-bit elements, two to each 32-bit lane (32 to an AVX-512 vector). A
// lane takes at most 2^15 pairs before it is emptied into 64 bits: their sum
// stays within [-2^31, 2^31) (unsigned: [0, 2^32)), so no lane wraps.
template <class T, unsigned Lanes>
__attribute__((always_inline)) inline i128 short_block(const unsigned char* q, std::uint64_t m) {
    using Lane = std::conditional_t<std::is_signed_v<T>, std::int32_t, std::uint32_t>;
    using wide = typename VecOf<Lane, Lanes>::type;
    constexpr std::uint64_t kRoundsPerFlush = std::uint64_t{1} << 15;
    constexpr std::uint64_t kStep = 2 * std::uint64_t{Lanes} * kUnroll;  // elements per round
    std::int64_t total = 0;
    std::uint64_t i = 0;
    while (i + kStep <= m) {
        wide acc[kUnroll] = {};
        const std::uint64_t rounds = std::min(kRoundsPerFlush, (m - i) / kStep);
        for (std::uint64_t r = 0; r < rounds; ++r, i += kStep) {
            for (std::uint64_t u = 0; u < kUnroll; ++u) {
                wide words;
                __builtin_memcpy(&words, q + (i + u * 2 * Lanes) * sizeof(T), sizeof words);
                add_halves<T>(words, acc[u]);
            }
        }
        for (const auto& lanes : acc)
            for (unsigned l = 0; l < Lanes; ++l) total += static_cast<std::int64_t>(lanes[l]);
    }
    for (; i < m; ++i) total += static_cast<std::int64_t>(load<T>(q, i));
    return total;
}

// The sum of the eight bytes of x.
__attribute__((always_inline)) inline std::uint64_t byte_sum(std::uint64_t x) {
    x = (x & 0x00ff00ff00ff00ffU) + ((x >> 8) & 0x00ff00ff00ff00ffU);
    return (x * 0x0001000100010001U) >> 48;
}

// NumPy bools: the count of nonzero bytes (any nonzero byte is True),
// 8 bytes to a 64-bit word. Bit 7 of each byte of ((w & 0x7f..) + 0x7f..) | w
// is set exactly when that byte is nonzero (no compare: clang 14 cannot
// select the vector compare a byte test becomes); those bits, shifted to
// bit 0, are added bytewise, at most 255 times before the counters are emptied.
template <unsigned Lanes>
__attribute__((always_inline)) inline i128 true_block(const unsigned char* q, std::uint64_t m) {
    using lanes = typename VecOf<std::uint64_t, Lanes>::type;
    constexpr std::uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fU, kTops = 0x8080808080808080U;
    constexpr std::uint64_t kVector = std::uint64_t{Lanes} * 8, kStep = kVector * kUnroll;  // bytes
    std::uint64_t total = 0, i = 0;
    while (i + kStep <= m) {
        lanes counts[kUnroll] = {};
        const std::uint64_t rounds = std::min<std::uint64_t>(255, (m - i) / kStep);
        for (std::uint64_t r = 0; r < rounds; ++r, i += kStep) {
            for (std::uint64_t u = 0; u < kUnroll; ++u) {
                lanes w;
                __builtin_memcpy(&w, q + i + u * kVector, sizeof w);
                counts[u] += ((((w & kLow7) + kLow7) | w) & kTops) >> 7;
            }
        }
        for (const auto& c : counts)
            for (unsigned l = 0; l < Lanes; ++l) total += byte_sum(c[l]);
    }
    for (; i < m; i += 8) {  // the tail, zero-padded to whole words
        std::uint64_t w = 0;
        __builtin_memcpy(&w, q + i, std::min<std::uint64_t>(8, m - i));
        total += byte_sum(((((w & kLow7) + kLow7) | w) & kTops) >> 7);
    }
    return total;
}

// 64-bit elements, exact for any values: per lane the wrapping sum S, the
// sum H of the high halves and the count N of negative values;
// total_from_halves() (exact_halves.hpp) turns them into the exact total.
template <class T, unsigned Lanes>
__attribute__((always_inline)) inline i128 halves_block(const unsigned char* q, std::uint64_t m) {
    using lanes = typename VecOf<std::uint64_t, Lanes>::type;
    lanes s[kUnroll] = {}, h[kUnroll] = {}, n[kUnroll] = {};
    std::uint64_t i = 0;
    for (; i + Lanes * kUnroll <= m; i += Lanes * kUnroll) {
        for (std::uint64_t u = 0; u < kUnroll; ++u) {
            lanes x;
            __builtin_memcpy(&x, q + (i + u * Lanes) * 8, sizeof x);
            s[u] += x;
            h[u] += x >> 32;
            n[u] += x >> 63;
        }
    }
    std::uint64_t S = 0, H = 0, N = 0;
    for (std::uint64_t u = 0; u < kUnroll; ++u) {
        for (unsigned l = 0; l < Lanes; ++l) {
            S += s[u][l];
            H += h[u][l];
            N += n[u][l];
        }
    }
    for (; i < m; ++i) {
        const std::uint64_t x = load<std::uint64_t>(q, i);
        S += x;
        H += x >> 32;
        N += x >> 63;
    }
    return total_from_halves(S, H, N, std::is_signed_v<T>);
}

// Most data is far from the 64-bit limits. A sub-block small enough to stay
// in L2 is first summed with wrapping adds while OR-ing (x + 2^32): if no
// value left [-2^32, 2^32) (unsigned: [0, 2^33)) the wrapped sum is exact,
// since 2^14 such values total below 2^47. Otherwise the sub-block is summed
// again, from cache, by halves. Two or three operations per element instead
// of five on typical data. Data with large values everywhere would pay
// both: after a sub-block that needed halves, the next ones go to halves
// directly, and the cheap try is made again every kRetryAfter sub-blocks.
constexpr std::uint64_t kSubBlock = std::uint64_t{1} << 14;

constexpr unsigned kRetryAfter = 16;

template <class T, unsigned Lanes>
__attribute__((always_inline)) inline i128 wide_block(const unsigned char* q, std::uint64_t m) {
    using lanes = typename VecOf<std::uint64_t, Lanes>::type;
    constexpr std::uint64_t bias = std::is_signed_v<T> ? std::uint64_t{1} << 32 : 0;
    i128 total = 0;
    unsigned by_halves = 0;  // sub-blocks left to sum by halves without trying
    for (std::uint64_t b = 0; b < m; b += kSubBlock) {
        const std::uint64_t count = std::min(kSubBlock, m - b);
        const unsigned char* p = q + b * 8;
        if (by_halves > 0) {
            --by_halves;
            total += halves_block<T, Lanes>(p, count);
            continue;
        }
        lanes s[kUnroll] = {}, seen[kUnroll] = {};
        std::uint64_t i = 0;
        for (; i + Lanes * kUnroll <= count; i += Lanes * kUnroll) {
            for (std::uint64_t u = 0; u < kUnroll; ++u) {
                lanes x;
                __builtin_memcpy(&x, p + (i + u * Lanes) * 8, sizeof x);
                s[u] += x;
                seen[u] |= x + bias;
            }
        }
        std::uint64_t S = 0, seen_all = 0;
        for (std::uint64_t u = 0; u < kUnroll; ++u) {
            for (unsigned l = 0; l < Lanes; ++l) {
                S += s[u][l];
                seen_all |= seen[u][l];
            }
        }
        for (; i < count; ++i) {
            const std::uint64_t x = load<std::uint64_t>(p, i);
            S += x;
            seen_all |= x + bias;
        }
        if (seen_all >> 33 == 0) {
            total += std::is_signed_v<T> ? i128{static_cast<std::int64_t>(S)} : i128{S};
        } else {
            total += halves_block<T, Lanes>(p, count);
            by_halves = kRetryAfter - 1;
        }
    }
    return total;
}

// VectorBytes: the target's vector width.
template <class T, unsigned VectorBytes, bool Trues = false>
__attribute__((always_inline)) inline i128 integer_body(const unsigned char* p, std::uint64_t n) {
    if constexpr (Trues) return true_block<VectorBytes / 8>(p, n);
    constexpr unsigned lanes = VectorBytes / 8;  // 64-bit lanes per vector
    i128 total = 0;
    for (std::uint64_t b = 0; b < n; b += kIntegerBlock) {
        const std::uint64_t m = std::min(kIntegerBlock, n - b);
        const unsigned char* q = p + b * sizeof(T);
        if constexpr (sizeof(T) == 1)
            total += byte_block<T, VectorBytes / 8>(q, m);
        else if constexpr (sizeof(T) == 2)
            total += short_block<T, VectorBytes / 4>(q, m);
        else if constexpr (sizeof(T) < 8)
            total += narrow_block<T, lanes>(q, m);
        else
            total += wide_block<T, lanes>(q, m);
    }
    return total;
}

// Floats: blocks small enough to stay in L1 are read twice. First for the
// largest magnitude, 2^e <= max|x| < 2^(e+1). Then every element is cut
// exactly into three slices on fixed grids below 2^(e+1): q1 a multiple of
// u1 = 2^(e-30), q2 of u1 2^-31, q3 of u1 2^-62, each taken by the add-and-
// subtract trick ((x + 1.5 * 2^52 u) - 1.5 * 2^52 u rounds x to a multiple of
// u and is exact), with the remainders x - q exact too. Slice sums stay below
// 2^42 u per lane, so adding them in double is exact; each block then adds
// its three slice totals to the exact sum (exact_float.hpp). What the slices
// leave of the elements (the remainders r3 = x - q1 - q2 - q3, nonzero for
// elements more than ~40 binades below the block's largest) is sliced again
// the same way, level by level, 93 more binades each; after kSliceLevels, or
// where a level's grid would leave the double range (NaN, infinity, extreme
// exponents), what is left goes through the per-element superaccumulator:
// slower, but still exact.
constexpr std::uint64_t kFloatBlock = 2048;
constexpr int kSliceLevels = 4;
constexpr std::int64_t kMagnitudeBits = 0x7fffffffffffffff;

// Lanes elements from i on, as doubles (an out parameter: a vector return
// value would be an ABI question for the compiler, even inlined).
template <class T, unsigned Lanes>
__attribute__((always_inline)) inline void load_doubles(const unsigned char* q, std::uint64_t i,
                                                        typename VecOf<double, Lanes>::type& out) {
    typename VecOf<T, Lanes>::type x;
    __builtin_memcpy(&x, q + i * sizeof(T), sizeof x);
    if constexpr (std::is_same_v<T, double>)
        out = x;
    else
        out = __builtin_convertvector(x, typename VecOf<double, Lanes>::type);
}

// Bits of the largest |x| of the block (NaN sorts above infinity).
template <class T, unsigned Lanes>
__attribute__((always_inline)) inline std::int64_t largest_magnitude(const unsigned char* q,
                                                                     std::uint64_t m) {
    using ints = typename VecOf<std::int64_t, Lanes>::type;
    ints top = {};
    std::uint64_t i = 0;
    for (; i + Lanes <= m; i += Lanes) {
        typename VecOf<double, Lanes>::type x;
        load_doubles<T, Lanes>(q, i, x);
        const ints bits = reinterpret_cast<ints>(x) & kMagnitudeBits;
        top = bits > top ? bits : top;
    }
    std::int64_t largest = 0;
    for (unsigned l = 0; l < Lanes; ++l) largest = std::max(largest, top[l]);
    for (; i < m; ++i)
        largest = std::max(largest,
                           static_cast<std::int64_t>(bits_of(static_cast<double>(load<T>(q, i)))) &
                               kMagnitudeBits);
    return largest;
}

template <class T>
__attribute__((always_inline)) inline void add_block_exactly(const unsigned char* q,
                                                             std::uint64_t m, ExactFloat& sum) {
    for (std::uint64_t i = 0; i < m; ++i) sum.add(static_cast<double>(load<T>(q, i)));
}

// x = q1 + q2 + q3 + r3, every step exact (see above); r3 = 0 when the
// slices hold x. Scalars or vectors.
template <class V>
struct Slices {
    V q1, q2, q3, r3;
};
template <class V>
__attribute__((always_inline)) inline void slice(const V& x, double c1, double c2, double c3,
                                                 Slices<V>& s) {
    s.q1 = (x + c1) - c1;
    const V r1 = x - s.q1;
    s.q2 = (r1 + c2) - c2;
    const V r2 = r1 - s.q2;
    s.q3 = (r2 + c3) - c3;
    s.r3 = r2 - s.q3;
}

// One level: adds the slices of the block's m elements to `sum` (3 adds)
// and writes their remainders to `rest` (which may be the block itself),
// returning whether any is nonzero; or, where the grids would leave the
// double range, adds the elements exactly (m adds) and returns false.
// `Prefetch`: the block is the caller's, followed by the next one to read.
template <class T, unsigned Lanes, bool Prefetch>
__attribute__((always_inline)) inline bool slice_level(const unsigned char* q, std::uint64_t m,
                                                       ExactFloat& sum, double* rest,
                                                       std::uint64_t& adds) {
    using doubles = typename VecOf<double, Lanes>::type;
    using ints = typename VecOf<std::int64_t, Lanes>::type;
    const std::int64_t largest = largest_magnitude<T, Lanes>(q, m);
    if (largest == 0) return false;  // all zeros
    const int e = static_cast<int>(largest >> 52) - 1023;
    // C1 = 1.5 * 2^(e+22) must be finite, C3 = 1.5 * 2^(e-40) normal.
    if (e < -982 || e > 1001) {
        add_block_exactly<T>(q, m, sum);
        adds += m;
        return false;
    }
    const double c1 = std::ldexp(1.5, e + 22), c2 = std::ldexp(1.5, e - 9),
                 c3 = std::ldexp(1.5, e - 40);
    doubles s1 = {}, s2 = {}, s3 = {};
    ints inexact = {};
    std::uint64_t i = 0;
    for (; i + Lanes <= m; i += Lanes) {
        doubles x;
        load_doubles<T, Lanes>(q, i, x);
        Slices<doubles> cut;
        slice(x, c1, c2, c3, cut);
        const auto& [q1, q2, q3, r3] = cut;
        s1 += q1;
        s2 += q2;
        s3 += q3;
        inexact |= reinterpret_cast<ints>(r3) & kMagnitudeBits;
        __builtin_memcpy(rest + i, &r3, sizeof r3);
        if constexpr (Prefetch) __builtin_prefetch(q + (i + kFloatBlock) * sizeof(T));
    }
    double t1 = 0, t2 = 0, t3 = 0;
    std::int64_t left = 0;
    for (unsigned l = 0; l < Lanes; ++l) {
        t1 += s1[l];
        t2 += s2[l];
        t3 += s3[l];
        left |= inexact[l];
    }
    for (; i < m; ++i) {
        Slices<double> one;
        slice(static_cast<double>(load<T>(q, i)), c1, c2, c3, one);
        const auto& [q1, q2, q3, r3] = one;
        t1 += q1;
        t2 += q2;
        t3 += q3;
        left |= static_cast<std::int64_t>(bits_of(r3)) & kMagnitudeBits;
        rest[i] = r3;
    }
    sum.add(t1);
    sum.add(t2);
    sum.add(t3);
    adds += 3;
    return left != 0;
}

// float32 blocks whose elements lie within kPlainSpan binades of each other
// (most data) need no slices: every element is a multiple of the smallest
// one's last place, 2^(f - 23), and below 2^(F + 1) for the largest one's
// exponent F, so Lanes lanes of at most kFloatBlock / 2 doubles each add
// them exactly when kFloatBlock * 2^(F + 1) <= 2^53 * 2^(f - 23), that is
// F - f <= 53 - 23 - 1 - 11. The exponents are read from the floats' own
// bits, 2 * Lanes at a time.
constexpr std::int64_t kPlainSpan = 18;

template <unsigned Lanes>
__attribute__((always_inline)) inline bool narrow_span(const unsigned char* q, std::uint64_t m) {
    using words = typename VecOf<std::uint32_t, 2 * Lanes>::type;
    constexpr std::uint32_t kMagnitude = 0x7fffffff;
    constexpr std::uint64_t kStep = 2 * std::uint64_t{Lanes};  // floats per vector of words
    words top = {}, bottom = words{} - 1;
    std::uint64_t i = 0;
    for (; i + kStep <= m; i += kStep) {
        words w;
        __builtin_memcpy(&w, q + i * 4, sizeof w);
        const words magnitude = w & kMagnitude;
        top = magnitude > top ? magnitude : top;
        const words less = magnitude - 1;  // a zero wraps to the largest value: ignored
        bottom = less < bottom ? less : bottom;
    }
    std::uint32_t largest = 0, smallest = UINT32_MAX;
    for (unsigned l = 0; l < 2 * Lanes; ++l) {
        largest = std::max(largest, top[l]);
        smallest = std::min(smallest, bottom[l]);
    }
    for (; i < m; ++i) {
        const std::uint32_t magnitude = bits_of(load<float>(q, i)) & kMagnitude;
        largest = std::max(largest, magnitude);
        smallest = std::min(smallest, magnitude - 1);
    }
    if (smallest == UINT32_MAX) return false;  // all zeros: the slices say so at once
    // Biased exponents; subnormals have the last place of exponent field 1.
    const auto high = static_cast<std::int64_t>(largest >> 23);
    const auto low = std::max<std::int64_t>((smallest + 1) >> 23, 1);
    return high != 0xff && high - low <= kPlainSpan;  // not NaN, infinity, or too wide
}

// Adds m float32 elements in Lanes double lanes, then the lanes to `sum`:
// exact where the caller knows the lanes hold their sums exactly (narrow
// spans; widened float16, all multiples of 2^-24 below 2^16, 2^13 to a
// lane). A NaN or infinity reaches `sum` through its lane by IEEE rules.
template <unsigned Lanes, bool Prefetch>
__attribute__((always_inline)) inline void add_plainly(const unsigned char* q, std::uint64_t m,
                                                       ExactFloat& sum, std::uint64_t& adds) {
    using doubles = typename VecOf<double, Lanes>::type;
    doubles total = {};
    std::uint64_t i = 0;
    for (; i + Lanes <= m; i += Lanes) {
        doubles x;
        load_doubles<float, Lanes>(q, i, x);
        total += x;
        if constexpr (Prefetch) __builtin_prefetch(q + (i + kFloatBlock) * sizeof(float));
    }
    for (unsigned l = 0; l < Lanes; ++l) sum.add(total[l]);
    for (; i < m; ++i) sum.add(static_cast<double>(load<float>(q, i)));
    adds += Lanes + m % Lanes;
}

// Adds the block plainly (float32, narrow spans), else by slices, level by
// level; returns the number of adds made to `sum`, at most kMaxBlockAdds.
template <class T, unsigned Lanes>
__attribute__((always_inline)) inline std::uint64_t add_block(const unsigned char* q,
                                                              std::uint64_t m, ExactFloat& sum) {
    std::uint64_t adds = 0;
    if constexpr (std::is_same_v<T, float>) {
        if (narrow_span<Lanes>(q, m)) {
            add_plainly<Lanes, true>(q, m, sum, adds);
            return adds;
        }
    }
    double rest[kFloatBlock];
    if (!slice_level<T, Lanes, true>(q, m, sum, rest, adds)) return adds;
    const auto* left = reinterpret_cast<const unsigned char*>(rest);
    for (int level = 1; level < kSliceLevels; ++level)
        if (!slice_level<double, Lanes, false>(left, m, sum, rest, adds)) return adds;
    add_block_exactly<double>(left, m, sum);
    return adds + m;
}
constexpr std::uint64_t kMaxBlockAdds = kFloatBlock + std::uint64_t{3} * kSliceLevels;

// Propagates the carries of `sum` when one more block could take its digits
// past their add budget (exact_float.hpp), counting afresh.
__attribute__((always_inline)) inline void carry_if_due(ExactFloat& sum, std::uint64_t& adds) {
    if (adds + kMaxBlockAdds > kFloatAddsBetweenCarries) {
        normalise(sum);
        adds = 0;
    }
}

template <class T, unsigned VectorBytes>
__attribute__((always_inline)) inline ExactFloat float_body(const unsigned char* p,
                                                            std::uint64_t n) {
    constexpr unsigned lanes = VectorBytes / 8;  // doubles per vector
    ExactFloat sum;
    std::uint64_t adds = 0;  // since the last carry
    for (std::uint64_t b = 0; b < n; b += kFloatBlock) {
        const std::uint64_t m = std::min(kFloatBlock, n - b);
        adds += add_block<T, lanes>(p + b * sizeof(T), m, sum);
        carry_if_due(sum, adds);
    }
    normalise(sum);
    return sum;
}

// float16 elements widened to float32 (exactly) by the target's own
// conversion instructions (AVX-512F, F16C, NEON), a block at a time into a
// buffer that stays in L1, then added plainly in double lanes: every finite
// half is a multiple of 2^-24 below 2^16, so 2^13 of them add exactly in one
// double, and no span need be checked. Each specialisation is
// compiled for its target and called (not inlined: GCC inlines only into a
// caller of the same target) once per block.
template <unsigned VectorBytes>
void widen_halves(const unsigned char* p, std::uint64_t n, float* out);

#if defined(__x86_64__)
template <>
__attribute__((target("avx512f"))) void widen_halves<64>(const unsigned char* p, std::uint64_t n,
                                                         float* out) {
    std::uint64_t i = 0;
    for (; i + 16 <= n; i += 16, __builtin_prefetch(p + 2 * (i + kFloatBlock)))
        _mm512_storeu_ps(
            out + i, _mm512_maskz_cvtph_ps(
                         0xffff, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2 * i))));
    for (; i < n; ++i) out[i] = half_to_float(load<std::uint16_t>(p, i));
}
template <>
__attribute__((target("avx2,f16c"))) void widen_halves<32>(const unsigned char* p, std::uint64_t n,
                                                           float* out) {
    std::uint64_t i = 0;
    for (; i + 8 <= n; i += 8, __builtin_prefetch(p + 2 * (i + kFloatBlock)))
        _mm256_storeu_ps(
            out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * i))));
    for (; i < n; ++i) out[i] = half_to_float(load<std::uint16_t>(p, i));
}
#endif
template <>
void widen_halves<16>(const unsigned char* p, std::uint64_t n, float* out) {
    std::uint64_t i = 0;
#if defined(__aarch64__)
    for (; i + 4 <= n; i += 4)
        vst1q_f32(out + i, vcvt_f32_f16(vreinterpret_f16_u16(
                               vld1_u16(reinterpret_cast<const std::uint16_t*>(p + 2 * i)))));
#endif
    for (; i < n; ++i) out[i] = half_to_float(load<std::uint16_t>(p, i));
}

template <unsigned VectorBytes>
__attribute__((always_inline)) inline ExactFloat half_body(const unsigned char* p,
                                                           std::uint64_t n) {
    constexpr unsigned lanes = VectorBytes / 8;
    ExactFloat sum;
    float buffer[kFloatBlock];
    std::uint64_t adds = 0;
    for (std::uint64_t b = 0; b < n; b += kFloatBlock) {
        const std::uint64_t m = std::min(kFloatBlock, n - b);
        widen_halves<VectorBytes>(p + 2 * b, m, buffer);
        add_plainly<lanes, false>(reinterpret_cast<const unsigned char*>(buffer), m, sum, adds);
        carry_if_due(sum, adds);
    }
    normalise(sum);
    return sum;
}

// One body per instruction set; the vectoriser uses each target's width.
// A plain switch, not visit_dtype: a lambda's body would be compiled outside
// the target attribute (seen: the int64 loop of the AVX2 version came out as
// SSE2 code), so every case calls an always_inline body directly.
#define GPUSUM_STAMP_ARRAY_LOOPS(suffix, target_attr, vector_bytes)                             \
    target_attr i128 integers_##suffix(ArrayView a) {                                           \
        switch (a.dtype) {                                                                      \
            case DType::int8:                                                                   \
                return integer_body<std::int8_t, vector_bytes>(a.data, a.count);                \
            case DType::int16:                                                                  \
                return integer_body<std::int16_t, vector_bytes>(a.data, a.count);               \
            case DType::int32:                                                                  \
                return integer_body<std::int32_t, vector_bytes>(a.data, a.count);               \
            case DType::int64:                                                                  \
                return integer_body<std::int64_t, vector_bytes>(a.data, a.count);               \
            case DType::uint8:                                                                  \
                return integer_body<std::uint8_t, vector_bytes>(a.data, a.count);               \
            case DType::boolean:                                                                \
                return integer_body<std::uint8_t, vector_bytes, true>(a.data, a.count);         \
            case DType::uint16:                                                                 \
                return integer_body<std::uint16_t, vector_bytes>(a.data, a.count);              \
            case DType::uint32:                                                                 \
                return integer_body<std::uint32_t, vector_bytes>(a.data, a.count);              \
            case DType::uint64:                                                                 \
                return integer_body<std::uint64_t, vector_bytes>(a.data, a.count);              \
            default:                                                                            \
                return 0;                                                                       \
        }                                                                                       \
    }                                                                                           \
    target_attr ExactFloat floats_##suffix(ArrayView a) {                                       \
        if (a.dtype == DType::float16) return half_body<vector_bytes>(a.data, a.count);         \
        if (a.dtype == DType::float32) return float_body<float, vector_bytes>(a.data, a.count); \
        return float_body<double, vector_bytes>(a.data, a.count);                               \
    }

GPUSUM_SIMD_TARGETS(GPUSUM_STAMP_ARRAY_LOOPS)
#undef GPUSUM_STAMP_ARRAY_LOOPS

#define GPUSUM_INTEGER_LOOP(suffix, target_attr, vector_bytes) integers_##suffix,
constexpr i128 (*kIntegerLoops[])(ArrayView) = {GPUSUM_SIMD_TARGETS(GPUSUM_INTEGER_LOOP)};
#undef GPUSUM_INTEGER_LOOP
#define GPUSUM_FLOAT_LOOP(suffix, target_attr, vector_bytes) floats_##suffix,
constexpr ExactFloat (*kFloatLoops[])(ArrayView) = {GPUSUM_SIMD_TARGETS(GPUSUM_FLOAT_LOOP)};
#undef GPUSUM_FLOAT_LOOP

// Views the dense loops cannot read directly (gaps, the other byte order,
// float16) are summed a block at a time: gathered into a buffer that stays
// in L1, in this machine's byte order, float16 widened to float32 (exactly),
// then summed by the dense loops. Memory use stays flat: no copy of the data.
constexpr std::uint64_t kGatherBlock = 2048;

template <class T, bool Swapped>
T from_bits(const unsigned char* p) {
    using Bits = std::conditional_t<
        sizeof(T) == 1, std::uint8_t,
        std::conditional_t<sizeof(T) == 2, std::uint16_t,
                           std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>;
    Bits bits;
    __builtin_memcpy(&bits, p, sizeof bits);
    if constexpr (Swapped && sizeof(T) == 2) bits = __builtin_bswap16(bits);
    if constexpr (Swapped && sizeof(T) == 4) bits = __builtin_bswap32(bits);
    if constexpr (Swapped && sizeof(T) == 8) bits = __builtin_bswap64(bits);
    return std::bit_cast<T>(bits);
}

// n elements from p on, `stride` bytes apart, into `out` in this machine's
// byte order (float16 widened).
template <class Stored, class Out, bool Swapped>
void gather(const unsigned char* p, std::uint64_t n, std::int64_t stride, Out* out) {
    for (std::uint64_t i = 0; i < n; ++i, p += stride) {
        const auto v = from_bits<Stored, Swapped>(p);
        if constexpr (std::is_same_v<Stored, Out>)
            out[i] = v;
        else
            out[i] = half_to_float(v);
    }
}

// Calls sum_block(view) for each gathered block of `a`, whose elements are
// stored as Stored and summed as Out (the same but for float16).
template <class Stored, class Out, class SumBlock>
void gather_blocks(const ArrayView& a, DType out_type, SumBlock&& sum_block) {
    Out buffer[kGatherBlock];
    std::uint64_t filled = 0;
    auto flush = [&] {
        sum_block(ArrayView{reinterpret_cast<const unsigned char*>(buffer), filled, out_type});
        filled = 0;
    };
    const bool swapped = a.swapped();
    for_each_run(a, [&](const unsigned char* p, std::uint64_t n, std::int64_t stride) {
        while (n > 0) {
            const std::uint64_t take = std::min(n, kGatherBlock - filled);
            if (swapped)
                gather<Stored, Out, true>(p, take, stride, buffer + filled);
            else
                gather<Stored, Out, false>(p, take, stride, buffer + filled);
            filled += take;
            n -= take;
            p += static_cast<std::int64_t>(take) * stride;
            if (filled == kGatherBlock) flush();
        }
    });
    if (filled > 0) flush();
}

template <class SumBlock>
void for_each_gathered_block(const ArrayView& a, SumBlock&& sum_block) {
    if (a.dtype == DType::float16) {
        gather_blocks<std::uint16_t, float>(a, DType::float32, sum_block);
        return;
    }
    visit_dtype(a.dtype, [&](auto t) {
        using T = decltype(t);
        gather_blocks<T, T>(a, a.dtype, sum_block);
    });
}

}  // namespace

i128 sum_integers(ArrayView a) {
    const auto loop = simd::pick(kIntegerLoops);
    if (a.dense()) return loop(a);
    i128 total = 0;
    for_each_gathered_block(a, [&](ArrayView block) { total += loop(block); });
    return total;
}
ExactFloat sum_floats(ArrayView a) {
    const auto loop = simd::pick(kFloatLoops);
    if (a.layout == nullptr) return loop(a);  // float16 included: widened by the loop
    ExactFloat total;
    for_each_gathered_block(a, [&](ArrayView block) { merge(total, loop(block)); });
    return total;
}

}  // namespace gpusum
