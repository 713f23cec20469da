// The native baselines a C++ user would write, timed on the same work as
// gpusum: an OpenMP reduction loop and std::reduce(std::execution::par_unseq)
// (TBB underneath). Both add in int64 and wrap silently on overflow.
// Usage: gpusum_native_peers MODE N REPEAT    (MODE: range | array)
// Prints one JSON object per peer, one per line.
#include <algorithm>
#include <chrono>
#include <compare>
#include <cstdint>
#include <cstdio>
#include <execution>
#include <iterator>
#include <numeric>
#include <string>
#include <vector>

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <class F>
void report(const char* name, const std::string& mode, std::int64_t n, int repeat, F&& run) {
    std::vector<double> times;
    std::int64_t sum = 0;
    for (int r = 0; r < repeat; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        sum = run();
        times.push_back(seconds_since(t0));
    }
    std::sort(times.begin(), times.end());
    std::printf(
        "{\"peer\": \"%s\", \"mode\": \"%s\", \"n\": %lld, \"repetitions\": %d, \"min\": %.9g, "
        "\"median\": %.9g, \"max\": %.9g, \"sum\": \"%lld\"}\n",
        name, mode.c_str(), static_cast<long long>(n), repeat, times.front(),
        times[times.size() / 2], times.back(), static_cast<long long>(sum));
}

// A counting iterator, so std::reduce can walk the range without an array.
struct Index {
    using iterator_category = std::random_access_iterator_tag;
    using value_type = std::int64_t;
    using difference_type = std::int64_t;
    using pointer = const std::int64_t*;
    using reference = std::int64_t;
    std::int64_t i;
    std::int64_t operator*() const { return i; }
    std::int64_t operator[](std::int64_t k) const { return i + k; }
    Index& operator++() {
        ++i;
        return *this;
    }
    Index operator++(int) { return {i++}; }
    Index& operator--() {
        --i;
        return *this;
    }
    Index operator--(int) { return {i--}; }
    Index& operator+=(std::int64_t k) {
        i += k;
        return *this;
    }
    Index& operator-=(std::int64_t k) {
        i -= k;
        return *this;
    }
    Index operator+(std::int64_t k) const { return {i + k}; }
    friend Index operator+(std::int64_t k, Index a) { return {a.i + k}; }
    Index operator-(std::int64_t k) const { return {i - k}; }
    std::int64_t operator-(Index o) const { return i - o.i; }
    bool operator==(const Index& o) const = default;
    auto operator<=>(const Index& o) const = default;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: gpusum_native_peers range|array N REPEAT\n");
        return 2;
    }
    const std::string mode = argv[1];
    const std::int64_t n = std::stoll(argv[2]);
    const int repeat = std::stoi(argv[3]);
    if (mode == "range") {
        report("openmp", mode, n, repeat, [&] {
            std::int64_t s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static)
            for (std::int64_t i = 0; i < n; ++i) s += i;
            return s;
        });
        report("std_reduce_par_unseq", mode, n, repeat, [&] {
            return std::reduce(std::execution::par_unseq, Index{0}, Index{n}, std::int64_t{0});
        });
    } else {
        std::vector<std::int64_t> a(static_cast<std::size_t>(n));
        std::iota(a.begin(), a.end(), 0);
        report("openmp", mode, n, repeat, [&] {
            std::int64_t s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static)
            for (std::int64_t i = 0; i < n; ++i) s += a[static_cast<std::size_t>(i)];
            return s;
        });
        report("std_reduce_par_unseq", mode, n, repeat, [&] {
            return std::reduce(std::execution::par_unseq, a.begin(), a.end(), std::int64_t{0});
        });
    }
    return 0;
}
