// The one dispatch point of the CPU loops, as Highway's dynamic dispatch and
// NumPy's *.dispatch.* files have it: the instruction sets every loop is
// compiled for, listed once here, and the one this CPU runs, picked once.
// A loop file stamps its body for each target with GPUSUM_SIMD_TARGETS and
// calls the picked one through simd::pick(table).
#pragma once

#include <cstddef>
#include <string_view>

// X(name, target attribute, vector bytes) for each target, widest first; the
// last is the baseline every CPU of the architecture has (SSE2 on x86-64,
// NEON on arm64). AVX-512 code uses byte and word lanes too (BW); AVX2 code
// the float16 conversions (F16C, which every AVX2 CPU has).
#if defined(__x86_64__)
#define GPUSUM_SIMD_TARGETS(X)                                 \
    X(avx512, __attribute__((target("avx512f,avx512bw"))), 64) \
    X(avx2, __attribute__((target("avx2,f16c"))), 32)          \
    X(baseline, , 16)
#else
#define GPUSUM_SIMD_TARGETS(X) X(baseline, , 16)
#endif

namespace gpusum::simd {

enum class Target {
#define GPUSUM_SIMD_ENUMERATOR(name, target_attr, vector_bytes) name,
    GPUSUM_SIMD_TARGETS(GPUSUM_SIMD_ENUMERATOR)
#undef GPUSUM_SIMD_ENUMERATOR
        count
};

// The target this CPU runs: picked on first use, not at static
// initialisation (other files' initialisers may ask first, in an order the
// linker decides; the Python module's did, and got the baseline).
Target picked();

// Its name in reports: "avx512f", "avx2", "sse2", "neon" or "generic".
std::string_view level();

// The entry of `table` (one per target, in GPUSUM_SIMD_TARGETS order) for
// the picked target.
template <class Fn, std::size_t N>
Fn pick(Fn const (&table)[N]) {
    static_assert(N == static_cast<std::size_t>(Target::count), "one entry per target");
    return table[static_cast<std::size_t>(picked())];
}

}  // namespace gpusum::simd
