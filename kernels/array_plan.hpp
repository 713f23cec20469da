// How a GPU thread reads and adds its part of an array, pure and
// host-callable so the CPU tests (and the kernel harness) run exactly what
// each thread runs. The recipe is CUB's: 16-byte loads, kLoadsInFlight of
// them issued before any is used, so each thread keeps 64 bytes on the way
// from memory; then per-dtype adds as cheap as exactness allows.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "device_lines.hpp"
#include "exact_halves.hpp"
#include "gpusum/series.hpp"

namespace GPUSUM_KERNELS {

// What one load reads.
struct alignas(16) Vector16 {
    std::uint32_t word[4];
};

// Loops over a vector's elements or a tile's vectors unroll on the device:
// their arrays then live in registers, never on the stack.
#if defined(__CUDA_ARCH__)
#define GPUSUM_UNROLL _Pragma("unroll")
#else
#define GPUSUM_UNROLL
#endif

// Element e of a vector of 32- or 64-bit T, taken from its words.
template <class T>
GPUSUM_HD T element(const Vector16& v, unsigned e) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8);
    T x;
    if constexpr (sizeof(T) == 8) {
        const unsigned low = 2 * e, high = 2 * e + 1;
        const std::uint64_t bits = v.word[low] | std::uint64_t{v.word[high]} << 32;
        std::memcpy(&x, &bits, 8);
    } else {
        std::memcpy(&x, &v.word[e], 4);
    }
    return x;
}

inline constexpr unsigned kLoadsInFlight = 4;

// One launch sums at most this many elements, which bounds every
// per-thread accumulator below (and ExactFloat's digits).
inline constexpr std::uint64_t kMaxArrayLaunchElements = kExactHalvesBlock;

// A 16-byte load through the read-only path: LDG.E.128.CONSTANT.
GPUSUM_HD inline Vector16 load16(const Vector16* p) {
#if defined(GPUSUM_DEVICE_LINES)
    const uint4 v = __ldg(reinterpret_cast<const uint4*>(p));
    return Vector16{{v.x, v.y, v.z, v.w}};
#else
    return *p;
#endif
}

// A NumPy bool as stored: one byte, True when nonzero (not only 1).
struct BoolByte {
    std::uint8_t bits;
};

// How many of the four bytes of `word` are nonzero: bit 7 of each byte is
// set by the byte's own bit 7 or by the carry out of its low 7 bits plus 0x7f.
GPUSUM_HD inline std::int32_t true_bytes(std::uint32_t word) {
    const std::uint32_t high = (((word & 0x7f7f7f7fU) + 0x7f7f7f7fU) | word) & 0x80808080U;
#if defined(GPUSUM_DEVICE_LINES)
    return __popc(high);
#else
    return std::popcount(high);
#endif
}

// c plus the 8- or 16-bit lanes of `word`, as T: on the device one
// dot-product instruction against ones (IDP.4A, IDP.2A).
template <class T>
GPUSUM_HD std::int32_t add_lanes(std::uint32_t word, std::int32_t c) {
    static_assert(sizeof(T) <= 2);
#if defined(GPUSUM_DEVICE_LINES)
    if constexpr (sizeof(T) == 1 && static_cast<T>(-1) < 0)
        return __dp4a(static_cast<int>(word), 0x01010101, c);
    else if constexpr (sizeof(T) == 1)
        return static_cast<std::int32_t>(__dp4a(word, 0x01010101u, static_cast<unsigned>(c)));
    else if constexpr (static_cast<T>(-1) < 0)
        return __dp2a_lo(static_cast<int>(word), 0x0101, c);
    else
        return static_cast<std::int32_t>(__dp2a_lo(word, 0x0101u, static_cast<unsigned>(c)));
#else
    T lanes[4 / sizeof(T)];
    std::memcpy(lanes, &word, 4);
    for (const T x : lanes) c += x;
    return c;
#endif
}

// A thread's exact running sum of T elements within one launch:
// - bool: the nonzero bytes counted, four at a time (true_bytes);
// - 8/16-bit: a tile's vectors by dot products into 32 bits (at most
//   kLoadsInFlight * 16 elements of 16 bits: below 2^22), settled into 64 bits;
// - 32-bit: widened into 64 bits (at most 2^30 elements of 2^32: below 2^62);
// - 64-bit: by halves (exact_halves.hpp), kMaxArrayLaunchElements = kExactHalvesBlock.
template <class T>
class ExactLanes {
  public:
    GPUSUM_HD void add(T x) {
        if constexpr (std::is_same_v<T, BoolByte>) {
            wide_ += x.bits != 0 ? 1 : 0;
        } else if constexpr (sizeof(T) == 8) {
            const auto u = static_cast<std::uint64_t>(x);
            wrapped_ += u;
            highs_ += u >> 32;
            negatives_ += u >> 63;
        } else {
            wide_ += x;
        }
    }
    GPUSUM_HD void add(const Vector16& v) {
        if constexpr (std::is_same_v<T, BoolByte>) {
            GPUSUM_UNROLL
            for (const std::uint32_t w : v.word) narrow_ += true_bytes(w);
        } else if constexpr (sizeof(T) <= 2) {
            GPUSUM_UNROLL
            for (const std::uint32_t w : v.word) narrow_ = add_lanes<T>(w, narrow_);
        } else {
            GPUSUM_UNROLL
            for (unsigned e = 0; e < 16 / sizeof(T); ++e) add(element<T>(v, e));
        }
    }
    // After each tile: the 32-bit lanes must not overflow.
    GPUSUM_HD void settle() {
        wide_ += narrow_;
        narrow_ = 0;
    }
    GPUSUM_HD i128 total() const {
        if constexpr (sizeof(T) == 8)
            return total_from_halves(wrapped_, highs_, negatives_, static_cast<T>(-1) < 0);
        else
            return wide_ + narrow_;
    }

  private:
    std::int32_t narrow_ = 0;
    std::int64_t wide_ = 0;
    std::uint64_t wrapped_ = 0, highs_ = 0, negatives_ = 0;
};

// Thread t of `threads` adds its part of elements [begin, end) of `data`
// (aligned to sizeof(T); fewer than kMaxArrayLaunchElements) into `sum`: the
// elements before the first 16-byte boundary and after the last one each
// (head and tail, under 16 bytes each), and the 16-byte vectors between, in
// tiles of kLoadsInFlight per thread, coalesced: vector t, t + threads, ...
// `Sum` has add(T), add(const Vector16&) and settle().
template <class T, class Sum>
GPUSUM_HD void add_span(const T* data, std::uint32_t begin, std::uint32_t end, std::uint32_t t,
                        std::uint32_t threads, Sum& sum) {
    constexpr std::uint32_t per_vector = 16 / sizeof(T);
    const auto misaligned =
        static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(data + begin) % 16 / sizeof(T));
    const std::uint32_t to_boundary = (per_vector - misaligned) % per_vector;
    const std::uint32_t head = end - begin < to_boundary ? end - begin : to_boundary;
    const std::uint32_t vectors = (end - begin - head) / per_vector;
    const std::uint32_t tail = begin + head + vectors * per_vector;
    for (std::uint32_t i = begin + t; i < begin + head; i += threads) sum.add(data[i]);
    for (std::uint32_t i = tail + t; i < end; i += threads) sum.add(data[i]);

    const auto* body = reinterpret_cast<const Vector16*>(data + begin + head);
    std::uint32_t v = t;
    for (; v + (kLoadsInFlight - 1) * threads < vectors; v += kLoadsInFlight * threads) {
        Vector16 loaded[kLoadsInFlight];
        GPUSUM_UNROLL
        for (unsigned k = 0; k < kLoadsInFlight; ++k)
            loaded[k] = load16(body + v + std::size_t{k} * threads);
        GPUSUM_UNROLL
        for (const Vector16& x : loaded) sum.add(x);
        sum.settle();
    }
    for (; v < vectors; v += threads) sum.add(load16(body + v));  // fewer than kLoadsInFlight
    sum.settle();
}

}  // namespace GPUSUM_KERNELS
