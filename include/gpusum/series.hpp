// Arithmetic series with Python `range` semantics, their element count, the
// exact closed form of their sum, and the one definition of "chunk i of n".
//
// Everything here is pure and constexpr so the CPU backends, the CUDA kernels
// and the tests share one implementation.
#pragma once

#include <cstdint>
#include <string>

#if defined(__CUDACC__)
#define GPUSUM_HD __host__ __device__
#else
#define GPUSUM_HD
#endif

namespace gpusum {

__extension__ using i128 = __int128;
__extension__ using u128 = unsigned __int128;

// Exact decimal, e.g. for printing a Sum.
std::string to_string(i128 value);

// What the user asked for: Python's range(start, stop, step). step != 0.
struct Range {
    std::int64_t start = 0;
    std::int64_t stop = 0;
    std::int64_t step = 1;
};

// The same elements in the form the backends use: first, first + step, ...
// `count` elements. Unlike `stop`, this form can always be represented, e.g.
// a series ending exactly at INT64_MAX.
struct Progression {
    std::int64_t first = 0;
    std::uint64_t count = 0;
    std::int64_t step = 1;

    // Element i, computed in wrapping unsigned arithmetic: exact for every
    // i < count because the element itself fits in int64.
    GPUSUM_HD constexpr std::int64_t at(std::uint64_t i) const {
        return static_cast<std::int64_t>(static_cast<std::uint64_t>(first) +
                                         i * static_cast<std::uint64_t>(step));
    }
    GPUSUM_HD constexpr std::int64_t last() const { return count == 0 ? first : at(count - 1); }
};

// |x| as uint64; defined for INT64_MIN too.
GPUSUM_HD constexpr std::uint64_t magnitude(std::int64_t x) {
    return x < 0 ? 0 - static_cast<std::uint64_t>(x) : static_cast<std::uint64_t>(x);
}

// len(range(start, stop, step)). Fits in uint64 for every int64 input.
GPUSUM_HD constexpr std::uint64_t element_count(Range r) {
    if (r.step > 0) {
        if (r.start >= r.stop) return 0;
        const std::uint64_t span =
            static_cast<std::uint64_t>(r.stop) - static_cast<std::uint64_t>(r.start);
        return (span - 1) / static_cast<std::uint64_t>(r.step) + 1;
    }
    if (r.start <= r.stop) return 0;
    const std::uint64_t span =
        static_cast<std::uint64_t>(r.start) - static_cast<std::uint64_t>(r.stop);
    return (span - 1) / magnitude(r.step) + 1;
}

GPUSUM_HD constexpr Progression to_progression(Range r) {
    return Progression{r.start, element_count(r), r.step};
}

// The exact sum, count * (first + last) / 2, without overflow: one of the two
// factors is always even, halve that one. The product equals the true sum,
// whose magnitude is below count * 2^63 < 2^127, so it fits in i128.
GPUSUM_HD constexpr i128 closed_form_sum(Progression p) {
    if (p.count == 0) return 0;
    const i128 ends = static_cast<i128>(p.first) + static_cast<i128>(p.last());
    if (p.count % 2 == 0) return static_cast<i128>(p.count / 2) * ends;
    return static_cast<i128>(p.count) * (ends / 2);
}

// Largest |element| of the series: the elements are monotone, so it is at an end.
GPUSUM_HD constexpr std::uint64_t largest_magnitude(Progression p) {
    const std::uint64_t a = magnitude(p.first);
    const std::uint64_t b = magnitude(p.last());
    return a > b ? a : b;
}

// How many consecutive elements of `p` can be added in wrapping int64 and
// still give the exact total: any block of n elements has |total| <= n * max|x|,
// so n = INT64_MAX / max|x| is safe. At least 1.
GPUSUM_HD constexpr std::uint64_t exact_int64_block(Progression p) {
    const std::uint64_t m = largest_magnitude(p);
    if (m == 0) return UINT64_MAX;
    const std::uint64_t n = static_cast<std::uint64_t>(INT64_MAX) / m;
    return n == 0 ? 1 : n;
}

// Chunks are the unit of scheduling everywhere. The number actually used:
// at least one, and never more than there are elements.
GPUSUM_HD constexpr std::uint64_t effective_chunks(std::uint64_t count, std::uint64_t requested) {
    if (requested == 0 || count == 0) return 1;
    return requested < count ? requested : count;
}

// Chunk i of n covers elements [begin(i), begin(i + 1)): the first
// count % n chunks hold one element more than the rest, so sizes differ by at
// most one and every element is in exactly one chunk. One division when made;
// each bound after that is a multiply (kernels take one made on the host).
struct EvenSplit {
    std::uint64_t chunks = 1;
    std::uint64_t size = 0;    // elements in a shorter chunk
    std::uint64_t longer = 0;  // how many chunks hold size + 1
    GPUSUM_HD constexpr EvenSplit(std::uint64_t count, std::uint64_t n)
        : chunks(n), size(count / n), longer(count % n) {}
    GPUSUM_HD constexpr std::uint64_t begin(std::uint64_t i) const {
        return i * size + (i < longer ? i : longer);
    }
};

GPUSUM_HD constexpr std::uint64_t chunk_begin(std::uint64_t count, std::uint64_t chunks,
                                              std::uint64_t i) {
    return EvenSplit(count, chunks).begin(i);
}

GPUSUM_HD constexpr Progression chunk_of(Progression p, const EvenSplit& split, std::uint64_t i) {
    const std::uint64_t begin = split.begin(i);
    return Progression{p.at(begin), split.begin(i + 1) - begin, p.step};
}

GPUSUM_HD constexpr Progression chunk_of(Progression p, std::uint64_t chunks, std::uint64_t i) {
    return chunk_of(p, EvenSplit(p.count, chunks), i);
}

}  // namespace gpusum
