#include "support/simd_targets.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace gpusum::simd {

namespace {

struct Choice {
    Target target;
    std::string_view level;
};

#if defined(__x86_64__)
// F16C, from CPUID leaf 1 (clang's __builtin_cpu_supports does not know it).
bool has_f16c() {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}
#endif

Choice choose() {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
        return {Target::avx512, "avx512f"};
    if (__builtin_cpu_supports("avx2") && has_f16c()) return {Target::avx2, "avx2"};
    return {Target::baseline, "sse2"};
#elif defined(__aarch64__)
    return {Target::baseline, "neon"};  // Advanced SIMD is part of every arm64 core
#else
    return {Target::baseline, "generic"};
#endif
}

const Choice& chosen() {
    static const Choice choice = choose();
    return choice;
}

}  // namespace

Target picked() {
    return chosen().target;
}

std::string_view level() {
    return chosen().level;
}

}  // namespace gpusum::simd
