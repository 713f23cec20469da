#include "support/simd_targets.hpp"

namespace gpusum::simd {

namespace {

struct Choice {
    Target target;
    std::string_view level;
};

Choice choose() {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
        return {Target::avx512, "avx512f"};
    if (__builtin_cpu_supports("avx2")) return {Target::avx2, "avx2"};
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
