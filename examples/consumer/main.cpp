// Sums the seed's range and an array through the installed library, says
// what ran, and merges two accumulators through their bytes. Exits 1 if an
// answer is not the known one.
#include <gpusum/accumulator.hpp>
#include <gpusum/gpusum.hpp>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <span>
#include <vector>

int main() {
    try {
        const gpusum::Sum range = gpusum::sum(gpusum::Range{0, 1'000'000'000, 1});
        std::printf("sum(range(10**9)) = %s on %s (%s), %.3g elements/s\n",
                    gpusum::to_string(range.sum).c_str(), range.backend.c_str(),
                    range.reason.c_str(), range.elements_per_second);
        // int64 values whose sum NumPy would wrap: 3 * (2^63 - 1).
        const std::vector<std::int64_t> big(3, std::numeric_limits<std::int64_t>::max());
        const gpusum::Sum array = gpusum::sum(std::span<const std::int64_t>(big));
        std::printf("sum of 3 x INT64_MAX = %s on %s\n", gpusum::to_string(array.sum).c_str(),
                    array.backend.c_str());
        // The same total from two accumulators, one sent as bytes.
        gpusum::Accumulator first, second;
        first.add(std::span<const std::int64_t>(big).first(1));
        second.add(std::span<const std::int64_t>(big).subspan(1));
        first.merge(gpusum::Accumulator::from_bytes(second.to_bytes()));
        std::printf("merged accumulators = %s\n", first.integer_text().c_str());
        const bool right = gpusum::to_string(range.sum) == "499999999500000000" &&
                           gpusum::to_string(array.sum) == "27670116110564327421" &&
                           first.integer_text() == "27670116110564327421";
        return right ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "consumer: %s\n", e.what());
        return 2;
    }
}
