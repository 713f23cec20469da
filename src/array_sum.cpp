// Summing arrays: the vectorised fast paths and the scalar checks.
#include <cmath>
#include <limits>
#include <type_traits>

#include "gpusum/array.hpp"
#include "gpusum/cpu.hpp"
#include "gpusum/exact.hpp"

namespace gpusum {

namespace {

constexpr DType kAllTypes[] = {DType::int8,    DType::int16,  DType::int32,  DType::int64,
                               DType::uint8,   DType::uint16, DType::uint32, DType::uint64,
                               DType::float32, DType::float64};

// Element i, from memory of any alignment.
template <class T>
__attribute__((always_inline)) inline T load(const unsigned char* p, std::uint64_t i) {
    T v;
    __builtin_memcpy(&v, p + i * sizeof(T), sizeof(T));
    return v;
}

// VecOf<T, N>::type: N lanes of T. GCC applies vector_size only to concrete
// types, hence one specialisation per element type.
template <class T, unsigned N>
struct VecOf;
#define GPUSUM_VECTORS_OF(T)                                        \
    template <>                                                     \
    struct VecOf<T, 2> {                                            \
        typedef T type __attribute__((vector_size(2 * sizeof(T)))); \
    };                                                              \
    template <>                                                     \
    struct VecOf<T, 4> {                                            \
        typedef T type __attribute__((vector_size(4 * sizeof(T)))); \
    };                                                              \
    template <>                                                     \
    struct VecOf<T, 8> {                                            \
        typedef T type __attribute__((vector_size(8 * sizeof(T)))); \
    };
GPUSUM_VECTORS_OF(std::int8_t)
GPUSUM_VECTORS_OF(std::int16_t)
GPUSUM_VECTORS_OF(std::int32_t)
GPUSUM_VECTORS_OF(std::int64_t)
GPUSUM_VECTORS_OF(std::uint8_t)
GPUSUM_VECTORS_OF(std::uint16_t)
GPUSUM_VECTORS_OF(std::uint32_t)
GPUSUM_VECTORS_OF(std::uint64_t)
#undef GPUSUM_VECTORS_OF

// 2^30 values below 2^32 in magnitude sum to below 2^62: 64-bit lanes are exact.
constexpr std::uint64_t kIntegerBlock = kExactHalvesBlock;
constexpr std::uint64_t kUnroll = 4;  // independent accumulators per loop

// Elements narrower than 64 bits, widened into int64 lanes (exact per block).
template <class T, unsigned Lanes>
__attribute__((always_inline)) inline i128 narrow_block(const unsigned char* q, std::uint64_t m) {
    using narrow = typename VecOf<T, Lanes>::type;
    using wide = typename VecOf<std::int64_t, Lanes>::type;
    wide acc[kUnroll] = {};
    std::uint64_t i = 0;
    for (; i + Lanes * kUnroll <= m; i += Lanes * kUnroll) {
        for (std::uint64_t u = 0; u < kUnroll; ++u) {
            narrow x;
            __builtin_memcpy(&x, q + (i + u * Lanes) * sizeof(T), sizeof x);
            acc[u] += __builtin_convertvector(x, wide);
        }
    }
    std::int64_t total = 0;
    for (const auto& lanes : acc)
        for (unsigned l = 0; l < Lanes; ++l) total += lanes[l];
    for (; i < m; ++i) total += static_cast<std::int64_t>(load<T>(q, i));
    return total;
}

// 64-bit elements, exact for any values: per lane the wrapping sum S, the
// sum H of the high halves and the count N of negative values;
// total_from_halves() (exact.hpp) turns them into the exact total.
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
// of five on typical data.
constexpr std::uint64_t kSubBlock = std::uint64_t{1} << 14;

template <class T, unsigned Lanes>
__attribute__((always_inline)) inline i128 wide_block(const unsigned char* q, std::uint64_t m) {
    using lanes = typename VecOf<std::uint64_t, Lanes>::type;
    constexpr std::uint64_t bias = std::is_signed_v<T> ? std::uint64_t{1} << 32 : 0;
    i128 total = 0;
    for (std::uint64_t b = 0; b < m; b += kSubBlock) {
        const std::uint64_t count = std::min(kSubBlock, m - b);
        const unsigned char* p = q + b * 8;
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
        if (seen_all >> 33 == 0)
            total += std::is_signed_v<T> ? i128{static_cast<std::int64_t>(S)} : i128{S};
        else
            total += halves_block<T, Lanes>(p, count);
    }
    return total;
}

// VectorBytes: the target's vector width.
template <class T, unsigned VectorBytes>
__attribute__((always_inline)) inline i128 integer_body(const unsigned char* p, std::uint64_t n) {
    constexpr unsigned lanes = VectorBytes / 8;  // 64-bit lanes per vector
    i128 total = 0;
    for (std::uint64_t b = 0; b < n; b += kIntegerBlock) {
        const std::uint64_t m = std::min(kIntegerBlock, n - b);
        const unsigned char* q = p + b * sizeof(T);
        if constexpr (sizeof(T) < 8)
            total += narrow_block<T, lanes>(q, m);
        else
            total += wide_block<T, lanes>(q, m);
    }
    return total;
}

constexpr std::uint64_t kLanes = 16;
constexpr std::uint64_t kFloatBlock = 2048;
constexpr double kUnit = std::numeric_limits<double>::epsilon() / 2;  // unit roundoff u

// gamma_k = k u / (1 - k u): the classic bound factor for k rounding steps.
double gamma(double k) {
    return k * kUnit / (1 - k * kUnit);
}

int ceil_log2(std::uint64_t n) {
    int levels = 0;
    while ((std::uint64_t{1} << levels) < n) ++levels;
    return levels;
}

// Adds values pairwise in the order they arrive, holding at most one partial
// per tree level (a binary counter), so the tree depth stays log2(count).
class PairwiseSum {
  public:
    void add(double value, double magnitude) {
        int level = 0;
        while (level < depth_ && filled_[level]) {
            value += values_[level];
            magnitude += magnitudes_[level];
            filled_[level] = false;
            ++level;
        }
        if (level == depth_) ++depth_;
        values_[level] = value;
        magnitudes_[level] = magnitude;
        filled_[level] = true;
        ++count_;
    }
    // Sum of everything added; bound_levels() rounding steps deep at most.
    FloatSum result() const {
        FloatSum out;
        for (int level = 0; level < depth_; ++level) {
            if (!filled_[level]) continue;
            out.value += values_[level];
            out.magnitude += magnitudes_[level];
        }
        return out;
    }
    // Levels of the tree, plus as many for folding the leftover partials.
    int bound_levels() const { return 2 * ceil_log2(count_ + 1); }

  private:
    static constexpr int kMaxDepth = 64;
    double values_[kMaxDepth] = {};
    double magnitudes_[kMaxDepth] = {};
    bool filled_[kMaxDepth] = {};
    int depth_ = 0;
    std::uint64_t count_ = 0;
};

template <class T>
__attribute__((always_inline)) inline FloatSum float_body(const unsigned char* p, std::uint64_t n) {
    PairwiseSum blocks;
    for (std::uint64_t b = 0; b < n; b += kFloatBlock) {
        const std::uint64_t m = std::min(kFloatBlock, n - b);
        const unsigned char* q = p + b * sizeof(T);
        double acc[kLanes] = {};
        double mag[kLanes] = {};
        std::uint64_t i = 0;
        for (; i + kLanes <= m; i += kLanes) {
            for (std::uint64_t l = 0; l < kLanes; ++l) {
                const double x = load<T>(q, i + l);
                acc[l] += x;
                mag[l] += std::fabs(x);
            }
        }
        for (; i < m; ++i) {
            const double x = load<T>(q, i);
            acc[0] += x;
            mag[0] += std::fabs(x);
        }
        for (std::uint64_t width = kLanes / 2; width > 0; width /= 2) {
            for (std::uint64_t l = 0; l < width; ++l) {
                acc[l] += acc[l + width];
                mag[l] += mag[l + width];
            }
        }
        blocks.add(acc[0], mag[0]);
    }
    FloatSum out = blocks.result();
    // Lane 0 adds at most kFloatBlock / kLanes + kLanes terms in sequence, then
    // log2(kLanes) lane levels, then the tree over blocks.
    const std::uint64_t lane_terms = kFloatBlock / kLanes + kLanes;
    const auto steps = static_cast<double>(lane_terms + ceil_log2(kLanes) + blocks.bound_levels());
    // The magnitude is itself rounded: inflate it by its own worst case.
    out.error_bound = rounding_bound(steps, out.magnitude);
    return out;
}

struct BlockSums {
    i128 (*integers)(ArrayView);
    FloatSum (*floats)(ArrayView);
};

// One body per instruction set; the vectoriser uses each target's width.
// A plain switch, not visit_dtype: a lambda's body would be compiled outside
// the target attribute (seen: the int64 loop of the AVX2 version came out as
// SSE2 code), so every case calls an always_inline body directly.
#define GPUSUM_STAMP_ARRAY_LOOPS(suffix, target_attr, vector_bytes)                \
    target_attr i128 integers_##suffix(ArrayView a) {                              \
        switch (a.dtype) {                                                         \
            case DType::int8:                                                      \
                return integer_body<std::int8_t, vector_bytes>(a.data, a.count);   \
            case DType::int16:                                                     \
                return integer_body<std::int16_t, vector_bytes>(a.data, a.count);  \
            case DType::int32:                                                     \
                return integer_body<std::int32_t, vector_bytes>(a.data, a.count);  \
            case DType::int64:                                                     \
                return integer_body<std::int64_t, vector_bytes>(a.data, a.count);  \
            case DType::uint8:                                                     \
                return integer_body<std::uint8_t, vector_bytes>(a.data, a.count);  \
            case DType::uint16:                                                    \
                return integer_body<std::uint16_t, vector_bytes>(a.data, a.count); \
            case DType::uint32:                                                    \
                return integer_body<std::uint32_t, vector_bytes>(a.data, a.count); \
            case DType::uint64:                                                    \
                return integer_body<std::uint64_t, vector_bytes>(a.data, a.count); \
            default:                                                               \
                return 0;                                                          \
        }                                                                          \
    }                                                                              \
    target_attr FloatSum floats_##suffix(ArrayView a) {                            \
        if (a.dtype == DType::float32) return float_body<float>(a.data, a.count);  \
        return float_body<double>(a.data, a.count);                                \
    }

#if defined(__x86_64__)
GPUSUM_STAMP_ARRAY_LOOPS(avx512, __attribute__((target("avx512f,avx512bw"))), 64)
GPUSUM_STAMP_ARRAY_LOOPS(avx2, __attribute__((target("avx2"))), 32)
#endif
GPUSUM_STAMP_ARRAY_LOOPS(baseline, , 16)

BlockSums select_block_sums() {
#if defined(__x86_64__)
    if (simd_level() == "avx512f") return {integers_avx512, floats_avx512};
    if (simd_level() == "avx2") return {integers_avx2, floats_avx2};
#endif
    return {integers_baseline, floats_baseline};
}

const BlockSums kBlockSums = select_block_sums();

}  // namespace

std::string_view dtype_name(DType t) {
    static constexpr std::string_view names[] = {"int8",    "int16",  "int32",  "int64",
                                                 "uint8",   "uint16", "uint32", "uint64",
                                                 "float32", "float64"};
    return names[static_cast<int>(t)];
}

std::optional<DType> parse_dtype(std::string_view name) {
    for (DType t : kAllTypes)
        if (dtype_name(t) == name) return t;
    return std::nullopt;
}

std::size_t dtype_size(DType t) {
    return visit_dtype(t, [](auto v) { return sizeof(v); });
}

bool is_float(DType t) {
    return t == DType::float32 || t == DType::float64;
}

ArrayView chunk_of(ArrayView a, std::uint64_t chunks, std::uint64_t i) {
    const std::uint64_t begin = chunk_begin(a.count, chunks, i);
    const std::uint64_t end = chunk_begin(a.count, chunks, i + 1);
    return {a.data + begin * dtype_size(a.dtype), end - begin, a.dtype};
}

double rounding_bound(double steps, double magnitude) {
    return gamma(steps) * magnitude * (1 + gamma(steps));
}

i128 sum_integers(ArrayView a) {
    return kBlockSums.integers(a);
}
FloatSum sum_floats(ArrayView a) {
    return kBlockSums.floats(a);
}

FloatSum combine_float_sums(const std::vector<FloatSum>& parts) {
    PairwiseSum tree;
    double bounds = 0;
    for (const FloatSum& p : parts) {
        tree.add(p.value, p.magnitude);
        bounds += p.error_bound;
    }
    FloatSum out = tree.result();
    const double levels = tree.bound_levels();
    out.error_bound = (bounds + gamma(levels) * out.magnitude) * (1 + gamma(levels + 1));
    return out;
}

i128 check_sum_integers(ArrayView a) {
    return visit_dtype(a.dtype, [&](auto t) -> i128 {
        using T = decltype(t);
        i128 total = 0;
        if constexpr (std::is_integral_v<T>)
            for (std::uint64_t i = 0; i < a.count; ++i) total += load<T>(a.data, i);
        return total;
    });
}

FloatSum check_sum_floats(ArrayView a) {
    return visit_dtype(a.dtype, [&](auto t) -> FloatSum {
        using T = decltype(t);
        long double sum = 0, compensation = 0, magnitude = 0;
        if constexpr (std::is_floating_point_v<T>) {
            for (std::uint64_t i = 0; i < a.count; ++i) {
                const long double x = load<T>(a.data, i);
                const long double s = sum + x;
                compensation += std::fabs(sum) >= std::fabs(x) ? (sum - s) + x : (x - s) + sum;
                sum = s;
                magnitude += std::fabs(x);
            }
        }
        FloatSum out;
        out.value = static_cast<double>(sum + compensation);
        out.magnitude = static_cast<double>(magnitude);
        // Neumaier: |error| <= 2 u' |S| + 2 n u'^2 sum|x| in long double (u'),
        // plus rounding the result to double.
        const long double u = std::numeric_limits<long double>::epsilon() / 2;
        const long double n = static_cast<long double>(a.count);
        out.error_bound = static_cast<double>((2 * u + 2 * n * u * u) * magnitude * (1 + 4 * u)) +
                          kUnit * std::fabs(out.value) * (1 + 4 * kUnit);
        return out;
    });
}

bool agree(const FloatSum& a, const FloatSum& b) {
    if (!std::isfinite(a.value) || !std::isfinite(b.value))
        return (std::isnan(a.value) && std::isnan(b.value)) || a.value == b.value;
    return std::fabs(a.value - b.value) <= a.error_bound + b.error_bound;
}

}  // namespace gpusum
