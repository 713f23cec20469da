// Vector types for the loops stamped per target (simd_targets.hpp): N lanes
// of T, as GCC and clang's vector extensions spell them, and unaligned loads.
// The loops that use them write plain arithmetic on whole vectors; each
// target's compiler picks the instructions.
#pragma once

#include <cstdint>

namespace gpusum::simd {

// Element i of p, from memory of any alignment.
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
#define GPUSUM_VECTORS_OF(T)                                         \
    template <>                                                      \
    struct VecOf<T, 2> {                                             \
        typedef T type __attribute__((vector_size(2 * sizeof(T))));  \
    };                                                               \
    template <>                                                      \
    struct VecOf<T, 4> {                                             \
        typedef T type __attribute__((vector_size(4 * sizeof(T))));  \
    };                                                               \
    template <>                                                      \
    struct VecOf<T, 8> {                                             \
        typedef T type __attribute__((vector_size(8 * sizeof(T))));  \
    };                                                               \
    template <>                                                      \
    struct VecOf<T, 16> {                                            \
        typedef T type __attribute__((vector_size(16 * sizeof(T)))); \
    };                                                               \
    template <>                                                      \
    struct VecOf<T, 32> {                                            \
        typedef T type __attribute__((vector_size(32 * sizeof(T)))); \
    };
GPUSUM_VECTORS_OF(std::int8_t)
GPUSUM_VECTORS_OF(std::int16_t)
GPUSUM_VECTORS_OF(std::int32_t)
GPUSUM_VECTORS_OF(std::int64_t)
GPUSUM_VECTORS_OF(std::uint8_t)
GPUSUM_VECTORS_OF(std::uint16_t)
GPUSUM_VECTORS_OF(std::uint32_t)
GPUSUM_VECTORS_OF(std::uint64_t)
GPUSUM_VECTORS_OF(float)
GPUSUM_VECTORS_OF(double)
#undef GPUSUM_VECTORS_OF

template <class T, unsigned N>
using Vec = typename VecOf<T, N>::type;

// N lanes loaded from p + i elements, any alignment (an out parameter: a
// vector return value would be an ABI question for the compiler, even inlined).
template <class T, unsigned N>
__attribute__((always_inline)) inline void load_lanes(const unsigned char* p, std::uint64_t i,
                                                      Vec<T, N>& out) {
    __builtin_memcpy(&out, p + i * sizeof(T), sizeof out);
}

}  // namespace gpusum::simd
