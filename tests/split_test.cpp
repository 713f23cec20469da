// Splitting work over parts (MPI ranks, GPUs), tested on the CPU with fake
// part counts: shares tile the chunks, and the combined sum is exact.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <set>

#include "backends/cpu/cpu_backends.hpp"
#include "backends/cpu/simd/loops.hpp"
#include "backends/parts.hpp"
#include "helpers/reference.hpp"
#include "helpers/request.hpp"

using gpusum::testing::request_for;

TEST_CASE("shares tile the elements along chunk boundaries") {
    for (const std::uint64_t n : {0ULL, 1ULL, 7ULL, 1000ULL, 1'000'000'007ULL}) {
        for (const std::uint64_t requested : {1ULL, 3ULL, 100ULL, 4096ULL}) {
            const std::uint64_t chunks = gpusum::effective_chunks(n, requested);
            for (const std::uint64_t parts : {1ULL, 2ULL, 3ULL, 8ULL, 64ULL, 200ULL}) {
                CAPTURE(n);
                CAPTURE(chunks);
                CAPTURE(parts);
                std::uint64_t next_element = 0, next_chunk = 0;
                for (std::uint64_t p = 0; p < parts; ++p) {
                    const gpusum::Share s = gpusum::share_of(n, chunks, parts, p);
                    CHECK(s.first_chunk == next_chunk);
                    CHECK(s.begin == next_element);
                    CHECK(s.begin == gpusum::chunk_begin(n, chunks, s.first_chunk));
                    next_chunk += s.chunks;
                    next_element += s.count;
                }
                CHECK(next_chunk == chunks);
                CHECK(next_element == n);
            }
        }
    }
}

TEST_CASE("part_of restricts series and arrays to their share") {
    const gpusum::Request whole = request_for({-10, 90, 3}, 1, 10);  // 34 elements
    const gpusum::Share s = gpusum::share_of(whole.elements(), 10, 3, 1);
    const gpusum::Request part = gpusum::part_of(whole, s);
    CHECK(part.series.first == whole.series.at(s.begin));
    CHECK(part.series.count == s.count);
    CHECK(part.series.step == 3);
    CHECK(part.chunks == s.chunks);

    const std::vector<std::int32_t> data = {5, -6, 7, -8, 9, -10, 11};
    gpusum::Request array = whole;
    array.array = gpusum::ArrayView{reinterpret_cast<const unsigned char*>(data.data()),
                                    data.size(), gpusum::DType::int32};
    const gpusum::Share last = gpusum::share_of(7, 7, 2, 1);
    const gpusum::Request tail = gpusum::part_of(array, last);
    CHECK(tail.array->count == last.count);
    CHECK(last.begin + last.count == data.size());
    std::int64_t expected = 0;
    for (std::size_t i = last.begin; i < data.size(); ++i) expected += data[i];
    CHECK(gpusum::sum_integers(*tail.array) == expected);
}

TEST_CASE("sum_in_parts over a fake device count is exact and runs each part once") {
    std::mt19937_64 rng(41);
    auto serial = gpusum::make_serial_backend();
    for (unsigned devices = 1; devices <= 8; ++devices) {
        for (int trial = 0; trial < 10; ++trial) {
            const gpusum::Range r = ref::random_range(rng, 5'000'000);
            const gpusum::Request request = request_for(r, 1, 1 + rng() % 300);
            std::mutex mutex;
            std::multiset<unsigned> called;
            std::atomic<std::uint64_t> elements{0};
            const gpusum::Result result = gpusum::sum_in_parts(
                request, devices,
                [&](const gpusum::Request& part, unsigned index) {
                    {
                        std::lock_guard lock(mutex);
                        called.insert(index);
                    }
                    elements += part.elements();
                    gpusum::Result one = serial->sum(part);
                    one.details.emplace_back("elements", std::to_string(part.elements()));
                    return one;
                },
                "device");
            CAPTURE(devices);
            CHECK(result.sum == gpusum::closed_form_sum(gpusum::to_progression(r)));
            CHECK(elements == request.elements());
            CHECK(called.size() == devices);
            CHECK(std::set<unsigned>(called.begin(), called.end()).size() == devices);
            CHECK(result.details.size() == devices);
            CHECK(result.details.back().first ==
                  "device " + std::to_string(devices - 1) + " elements");
        }
    }
}

TEST_CASE("sum_in_parts: a failing part fails the whole sum after every part has ended") {
    std::atomic<int> finished{0};
    auto attempt = [&] {
        return gpusum::sum_in_parts(
            request_for({0, 1'000'000, 1}, 1, 40), 4,
            [&](const gpusum::Request&, unsigned index) {
                ++finished;
                if (index == 2) throw gpusum::BackendError("device 2 fell off the bus");
                return gpusum::Result{};
            },
            "device");
    };
    CHECK_THROWS_WITH_AS(attempt(), "device 2 fell off the bus", gpusum::BackendError);
    CHECK(finished == 4);
}
