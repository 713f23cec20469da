// The real tree_reduce kernel (kernels/tree_reduce.cuh, unmodified), executed
// on the CPU by the cuda_host harness: every kernel the GPU backends launch,
// over many launch shapes, checked against the closed form or a scalar sum.
#include "helpers/cuda_host.hpp"
// The harness must come first: it defines the CUDA keywords the kernel uses.
#include "fill_series.cuh"
#include "float_reduce.cuh"
#include "tree_reduce.cuh"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/simd/loops.hpp"
#include "gpusum/array.hpp"
#include "helpers/reference.hpp"
#include "support/text.hpp"
#include "verify/array_check.hpp"

using cuda_host::DeviceArray;
using cuda_host::LaunchShape;
using gpusum::i128;
using gpusum::Progression;
using gpusum::kernels::ArraySource;
using gpusum::kernels::SeriesSource;
using gpusum::kernels::TreeTuning;

namespace {

// The buffers one launch slot owns on the device, as TreeLauncher has them.
template <class Acc>
struct LaunchBuffers {
    explicit LaunchBuffers(unsigned blocks) : partials(blocks) {}
    DeviceArray<Acc> partials;
    DeviceArray<unsigned> blocks_done{1};
    DeviceArray<Acc> total{1};
};

template <class Source>
typename Source::Acc run_tree(const Source& source, std::uint64_t chunks, const LaunchShape& shape,
                              LaunchBuffers<typename Source::Acc>& buffers) {
    cuda_host::launch(shape, gpusum::kernels::grid_kernel<Source>(), source,
                      gpusum::EvenSplit(source.count(), chunks), buffers.partials.get(),
                      buffers.blocks_done.get(), buffers.total.get());
    CHECK_MESSAGE(buffers.blocks_done[0] == 0u, "blocks_done is 0 again after the launch");
    return buffers.total[0];
}

template <class Source>
typename Source::Acc run_tree(const Source& source, std::uint64_t chunks,
                              const LaunchShape& shape) {
    LaunchBuffers<typename Source::Acc> buffers(shape.blocks);
    return run_tree(source, chunks, shape, buffers);
}

// Launch shapes: (blocks, warps per block, chunks, resident blocks).
struct Shape {
    unsigned blocks, warps;
    std::uint64_t chunks;
    unsigned resident;
};

std::string describe(const Shape& s) {
    return std::to_string(s.blocks) + " blocks x " + std::to_string(s.warps) + " warps, " +
           std::to_string(s.chunks) + " chunks, " + std::to_string(s.resident) + " resident";
}

// Warps per block 1..8 and 32; grids of one block, fewer blocks than
// chunks, more blocks than chunks, and more blocks than a block has threads
// (the last block then adds several partials per thread, as on a GPU with
// hundreds of blocks); one or several blocks at a time.
std::vector<Shape> shapes() {
    return {{1, 1, 1, 1},  {1, 2, 5, 1},    {2, 3, 7, 2},   {3, 4, 2, 1},
            {4, 5, 16, 3}, {5, 6, 3, 2},    {2, 7, 9, 1},   {6, 8, 1, 3},
            {1, 32, 4, 1}, {3, 32, 8, 2},   {9, 1, 40, 3},  {16, 2, 5, 4},
            {7, 1, 7, 2},  {12, 3, 100, 1}, {70, 1, 90, 3}, {100, 2, 60, 2}};
}

LaunchShape launch_shape(const Shape& s, std::uint64_t seed) {
    return LaunchShape{s.blocks, s.warps * 32, s.resident, seed};
}

// Both ways the float kernel sums: sliced (devices with full-rate FP64)
// and placed by integers (the others). Callers unpack the pairs without
// structured bindings, which clang 14 cannot capture in CAPTURE's lambda.
template <class T>
std::vector<std::pair<const char*, void (*)(const T*, gpusum::EvenSplit, gpusum::ExactFloat*)>>
float_kernels() {
    return {{"sliced", gpusum::kernels::exact_float_reduce<T, true>},
            {"placed", gpusum::kernels::exact_float_reduce<T, false>}};
}

}  // namespace

TEST_CASE("kernel harness: tree_reduce sums series exactly over many launch shapes") {
    std::mt19937_64 rng(11);
    std::uint64_t seed = 1;
    for (const Shape& shape : shapes()) {
        for (int trial = 0; trial < 3; ++trial) {
            const gpusum::Range r = ref::random_range(rng, 5000);
            const Progression p = gpusum::to_progression(r);
            const std::uint64_t chunks = gpusum::effective_chunks(p.count, shape.chunks);
            const i128 total = run_tree(SeriesSource{p, gpusum::exact_int64_block(p)}, chunks,
                                        launch_shape(shape, seed++));
            CAPTURE(describe(shape));
            CAPTURE(gpusum::to_string(gpusum::closed_form_sum(p)));
            CHECK(gpusum::to_string(total) == gpusum::to_string(ref::naive_sum(r)));
        }
    }
}

TEST_CASE("kernel harness: series blocks of 1, 2, a few and unbounded wrapping adds") {
    // Small values: every block length is exact, so each must give the same total.
    const Progression small{-700, 3001, 1};
    // Under 16: by halves; 16 and up: the lanes, flushed every block.
    for (const std::uint64_t block :
         {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{3}, std::uint64_t{7}, std::uint64_t{16},
          std::uint64_t{17}, std::uint64_t{40}, gpusum::exact_int64_block(small)}) {
        CAPTURE(block);
        const i128 total = run_tree(SeriesSource{small, block}, 10, LaunchShape{3, 64, 2, block});
        CHECK(total == gpusum::closed_form_sum(small));
    }
    // Shares of thousands of elements per thread: the lanes run many blocks,
    // each flushed; the total, beyond int64, only comes out right if every
    // flush is kept. Blocks up to the exact limit (42 elements here).
    const Progression wide{INT64_C(1) << 52, 200'003, -(INT64_C(1) << 40)};
    REQUIRE(gpusum::exact_int64_block(wide) == 42);
    for (const std::uint64_t block :
         {std::uint64_t{16}, std::uint64_t{17}, std::uint64_t{32}, std::uint64_t{42}}) {
        CAPTURE(block);
        CHECK(run_tree(SeriesSource{wide, block}, 1, LaunchShape{1, 32, 1, block}) ==
              gpusum::closed_form_sum(wide));
    }
    // Near +-2^63 only blocks of one element are exact, and the total needs 128 bits.
    const Progression edge{INT64_MAX - 6000, 2001, 3};
    REQUIRE(gpusum::exact_int64_block(edge) == 1);
    CHECK(run_tree(SeriesSource{edge, 1}, 5, LaunchShape{2, 96, 2, 9}) ==
          gpusum::closed_form_sum(edge));
    const Progression both_ends{INT64_MIN, 4097, static_cast<std::int64_t>(UINT64_MAX / 4096)};
    CHECK(run_tree(SeriesSource{both_ends, gpusum::exact_int64_block(both_ends)}, 17,
                   LaunchShape{4, 32, 1, 3}) == gpusum::closed_form_sum(both_ends));
}

TEST_CASE("kernel harness: empty and one-element series") {
    for (const Shape& shape : {Shape{1, 1, 1, 1}, Shape{3, 2, 1, 2}, Shape{2, 32, 1, 1}}) {
        CAPTURE(describe(shape));
        CHECK(run_tree(SeriesSource{Progression{5, 0, 1}, 1}, 1, launch_shape(shape, 3)) == 0);
        CHECK(run_tree(SeriesSource{Progression{INT64_MIN, 1, 1}, 1}, 1, launch_shape(shape, 4)) ==
              INT64_MIN);
    }
}

TEST_CASE("kernel harness: two launches in a row on the same counters") {
    LaunchBuffers<i128> buffers(6);
    const Progression a{1, 100000, 1};
    const Progression b{-3, 777, -5};
    CHECK(run_tree(SeriesSource{a, gpusum::exact_int64_block(a)}, 13, LaunchShape{6, 64, 3, 21},
                   buffers) == gpusum::closed_form_sum(a));
    CHECK(run_tree(SeriesSource{b, gpusum::exact_int64_block(b)}, 4, LaunchShape{6, 64, 2, 22},
                   buffers) == gpusum::closed_form_sum(b));
}

TEST_CASE("kernel harness: the production launch plan, scaled down") {
    // TreeTuning as the backend uses it, on a device of 3 SMs x 2 blocks.
    const TreeTuning tuning{};
    for (const std::uint64_t count : {0ull, 1ull, 255ull, 256ull, 1000ull, 6000ull, 40000ull}) {
        const Progression p{-12345, count, 7};
        const auto plan = gpusum::kernels::plan_grid(count, 6, tuning);
        CAPTURE(count);
        CHECK(run_tree(SeriesSource{p, gpusum::exact_int64_block(p)}, plan.chunks,
                       LaunchShape{static_cast<unsigned>(plan.blocks), tuning.threads_per_block, 2,
                                   count + 1}) == gpusum::closed_form_sum(p));
    }
}

TEST_CASE_TEMPLATE("kernel harness: tree_reduce sums integer arrays exactly", T, std::int8_t,
                   std::uint8_t, std::int16_t, std::uint16_t, std::int32_t, std::uint32_t,
                   std::int64_t, std::uint64_t) {
    std::mt19937_64 rng(sizeof(T) * 31 + std::is_signed_v<T>);
    std::uint64_t seed = 100;
    const std::vector<Shape> some = {
        {1, 1, 1, 1}, {3, 2, 7, 2}, {2, 8, 3, 1}, {5, 1, 40, 3}, {45, 1, 50, 2}};
    for (const std::size_t n : {0, 1, 33, 1000, 4099}) {
        std::vector<T> data(n);
        for (T& x : data) x = static_cast<T>(rng());
        i128 expected = 0;
        for (const T x : data) expected += x;
        // Blocks of 1024 threads cost a thousand host threads: once, on the largest input.
        std::vector<Shape> shapes_for_n = some;
        if (n == 4099) shapes_for_n.push_back({2, 32, 2, 2});
        for (const Shape& shape : shapes_for_n) {
            CAPTURE(n);
            CAPTURE(describe(shape));
            const i128 total =
                run_tree(ArraySource<T>{data.data(), n}, gpusum::effective_chunks(n, shape.chunks),
                         launch_shape(shape, seed++));
            CHECK(gpusum::to_string(total) == gpusum::to_string(expected));
        }
    }
}

TEST_CASE("kernel harness: tree_reduce counts a bool array's nonzero bytes") {
    // Bytes other than 0 and 1 are True too (np.frombuffer, views of uint8).
    std::mt19937_64 rng(77);
    std::uint64_t seed = 150;
    for (const std::size_t n : {1, 33, 1000, 4099}) {
        std::vector<gpusum::kernels::BoolByte> data(n);
        i128 expected = 0;
        for (auto& x : data) {
            x.bits = static_cast<std::uint8_t>(rng() % 3 == 0 ? 0 : rng());
            expected += x.bits != 0 ? 1 : 0;
        }
        for (const Shape& shape : {Shape{1, 1, 1, 1}, Shape{3, 2, 7, 2}, Shape{5, 1, 40, 3}}) {
            CAPTURE(n);
            CAPTURE(describe(shape));
            const i128 total =
                run_tree(ArraySource<gpusum::kernels::BoolByte>{data.data(), n},
                         gpusum::effective_chunks(n, shape.chunks), launch_shape(shape, seed++));
            CHECK(gpusum::to_string(total) == gpusum::to_string(expected));
        }
    }
}

TEST_CASE_TEMPLATE("kernel harness: exact_float_reduce sums float arrays exactly", T, float,
                   double) {
    // Every scale at once, and the sums the host makes of them must match the
    // CPU's exact sum to the bit: a lost, doubled or misplaced digit shows.
    std::mt19937_64 rng(sizeof(T));
    std::uint64_t seed = 200;
    for (const std::size_t n : {0, 1, 65, 3000}) {
        std::vector<T> data(n);
        for (T& x : data) {
            const auto mantissa = static_cast<double>(static_cast<std::int64_t>(rng() >> 11) -
                                                      (std::int64_t{1} << 52));
            x = static_cast<T>(std::ldexp(mantissa, static_cast<int>(rng() % 200) - 150));
        }
        if (n > 60) data[60] = std::numeric_limits<T>::infinity();
        const gpusum::ArrayView view{
            reinterpret_cast<const unsigned char*>(data.data()), n,
            sizeof(T) == 4 ? gpusum::DType::float32 : gpusum::DType::float64};
        const double expected = gpusum::check_sum_floats(view);
        for (const Shape& shape :
             {Shape{1, 1, 1, 1}, Shape{4, 3, 9, 2}, Shape{2, 32, 5, 1}, Shape{9, 2, 40, 3}}) {
            CAPTURE(n);
            CAPTURE(describe(shape));
            for (const auto& way_kernel : float_kernels<T>()) {
                const char* way = way_kernel.first;
                const auto kernel = way_kernel.second;
                CAPTURE(way);
                DeviceArray<gpusum::ExactFloat> total(1);
                cuda_host::launch(launch_shape(shape, seed++), kernel, data.data(),
                                  gpusum::EvenSplit(n, gpusum::effective_chunks(n, shape.chunks)),
                                  total.get());
                gpusum::ExactFloat sum = total[0];
                gpusum::normalise(sum);
                CHECK(gpusum::same_float(gpusum::rounded(sum), expected));
                // The digits themselves, not only their rounding.
                const gpusum::ExactFloat cpu = gpusum::sum_floats(view);
                CHECK(std::equal(std::begin(sum.digits), std::end(sum.digits),
                                 std::begin(cpu.digits)));
                CHECK(sum.specials == cpu.specials);
            }
        }
    }
}

// Both float kernels over `data` with `shape`; their digits, normalised,
// must be the CPU's exactly (the digits of an exact total are canonical).
template <class T>
void check_float_kernel(const std::vector<T>& data, const Shape& shape, std::uint64_t seed) {
    const gpusum::ArrayView view{reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                                 sizeof(T) == 4 ? gpusum::DType::float32 : gpusum::DType::float64};
    const gpusum::ExactFloat cpu = gpusum::sum_floats(view);
    DeviceArray<T> device(data.size());
    std::copy(data.begin(), data.end(), device.get());
    for (const auto& way_kernel : float_kernels<T>()) {
        const char* way = way_kernel.first;
        const auto kernel = way_kernel.second;
        CAPTURE(way);
        DeviceArray<gpusum::ExactFloat> total(1);
        cuda_host::launch(
            launch_shape(shape, seed), kernel, device.get(),
            gpusum::EvenSplit(data.size(), gpusum::effective_chunks(data.size(), shape.chunks)),
            total.get());
        gpusum::ExactFloat sum = total[0];
        gpusum::normalise(sum);
        CHECK(std::equal(std::begin(sum.digits), std::end(sum.digits), std::begin(cpu.digits)));
        CHECK(sum.specials == cpu.specials);
        CHECK(gpusum::same_float(gpusum::rounded(sum), gpusum::check_sum_floats(view)));
    }
}

TEST_CASE_TEMPLATE("kernel harness: exact_float_reduce on normal, straddling and wide data", T,
                   float, double) {
    // Per thread (one warp) more than the 4096 elements between flushes of
    // the slice sums, and for one sign near the bound more than the 8192 a
    // sum could take if flushes came too late; magnitudes that grow (the
    // bound moves), that straddle digits, that leave bits below both grids,
    // beyond what can be sliced, subnormal, and NaN and infinities in a
    // vector.
    std::mt19937_64 rng(sizeof(T) * 13);
    std::normal_distribution<double> normal;
    std::uniform_real_distribution<double> uniform(0, 100);
    const int widest = sizeof(T) == 4 ? 120 : 1000;
    const std::vector<std::pair<const char*, std::function<T(std::size_t)>>> sets = {
        {"normal", [&](std::size_t) { return static_cast<T>(normal(rng)); }},
        {"straddling", [&](std::size_t) { return static_cast<T>(uniform(rng)); }},
        {"one sign, near the bound",
         [&](std::size_t) { return static_cast<T>(1.99 + uniform(rng) / 10'000); }},
        {"growing",
         [&](std::size_t i) {
             return static_cast<T>(std::ldexp(normal(rng), static_cast<int>(i / 3000)));
         }},
        {"wide",
         [&](std::size_t) {
             return static_cast<T>(
                 std::ldexp(normal(rng), static_cast<int>(rng() % (2 * widest + 1)) - widest));
         }},
        {"cancelling",
         [&](std::size_t i) {
             const double x = std::ldexp(1.0 + static_cast<double>(i % 977), 40);
             return static_cast<T>(i % 2 == 0 ? x : -x + std::ldexp(1.0, -20));
         }},
        {"subnormal and huge",
         [&](std::size_t i) {
             return i % 5 == 0   ? std::numeric_limits<T>::denorm_min() * static_cast<T>(i % 7)
                    : i % 5 == 1 ? std::numeric_limits<T>::max() / static_cast<T>(1 + i % 3) *
                                       static_cast<T>(i % 2 == 0 ? 1 : -1)
                                 : static_cast<T>(normal(rng));
         }},
    };
    std::uint64_t seed = 500;
    for (const auto& set : sets) {
        const char* name = set.first;
        const std::size_t n = std::string(name) == "one sign, near the bound" ? 300'000 : 140'000;
        std::vector<T> data(n);
        for (std::size_t i = 0; i < n; ++i) data[i] = set.second(i);
        CAPTURE(name);
        for (const Shape& shape : {Shape{1, 1, 1, 1}, Shape{3, 2, 7, 2}}) {
            CAPTURE(describe(shape));
            check_float_kernel(data, shape, seed++);
        }
    }
    // Specials inside vectors and in the head and tail.
    std::vector<T> specials(70'001, T{1.5});
    specials[3] = std::numeric_limits<T>::infinity();
    specials[40'000] = -std::numeric_limits<T>::infinity();
    specials[70'000] = std::numeric_limits<T>::quiet_NaN();
    check_float_kernel(specials, Shape{2, 1, 3, 1}, seed++);
}

// Elements of T placed `offset` bytes past a 16-byte boundary in "device
// memory": the kernels' head, body and tail must cover them exactly once.
template <class T>
struct OffsetArray {
    OffsetArray(std::size_t n, unsigned offset)
        : storage((n * sizeof(T) + offset) / 16 + 2),
          n(n),
          elements(reinterpret_cast<T*>(reinterpret_cast<unsigned char*>(storage.get()) + offset)) {
    }
    DeviceArray<gpusum::kernels::Vector16> storage;
    std::size_t n;
    T* elements;
};

TEST_CASE_TEMPLATE(
    "kernel harness: array kernels at every alignment, with heads, tails and whole "
    "tiles",
    T, std::int8_t, std::uint8_t, std::int16_t, std::uint16_t, std::int32_t, std::uint32_t,
    std::int64_t, std::uint64_t, float, double) {
    using gpusum::kernels::kLoadsInFlight;
    constexpr std::size_t per_vector = 16 / sizeof(T);
    std::mt19937_64 rng(sizeof(T) * 7 + std::is_signed_v<T>);
    std::uint64_t seed = 300;
    // Under a vector, a vector and a bit, and several whole tiles per thread
    // of a 2-warp block plus a ragged end.
    const std::size_t tile = std::size_t{64} * kLoadsInFlight * per_vector;
    for (unsigned offset = 0; offset < 16; offset += sizeof(T)) {
        for (const std::size_t n : {std::size_t{0}, std::size_t{1}, per_vector - 1, per_vector + 1,
                                    3 * tile + per_vector * 5 + 3}) {
            OffsetArray<T> a(n, offset);
            for (std::size_t i = 0; i < n; ++i) {
                if constexpr (std::is_floating_point_v<T>)
                    a.elements[i] = static_cast<T>(
                        std::ldexp(static_cast<double>(static_cast<std::int32_t>(rng())),
                                   static_cast<int>(rng() % 60) - 30));
                else  // the extremes more often than chance: signs and carries
                    a.elements[i] = rng() % 4 == 0   ? std::numeric_limits<T>::min()
                                    : rng() % 3 == 0 ? std::numeric_limits<T>::max()
                                                     : static_cast<T>(rng());
            }
            const Shape shape = offset % 2 == 0 ? Shape{2, 2, 3, 2} : Shape{3, 1, 2, 1};
            CAPTURE(offset);
            CAPTURE(n);
            const std::uint64_t chunks = gpusum::effective_chunks(n, shape.chunks);
            if constexpr (std::is_floating_point_v<T>) {
                const gpusum::ArrayView view{
                    reinterpret_cast<const unsigned char*>(a.elements), n,
                    sizeof(T) == 4 ? gpusum::DType::float32 : gpusum::DType::float64};
                const gpusum::ExactFloat cpu = gpusum::sum_floats(view);
                for (const auto& way_kernel : float_kernels<T>()) {
                    const char* way = way_kernel.first;
                    const auto kernel = way_kernel.second;
                    CAPTURE(way);
                    DeviceArray<gpusum::ExactFloat> total(1);
                    cuda_host::launch(launch_shape(shape, seed++), kernel, a.elements,
                                      gpusum::EvenSplit(n, chunks), total.get());
                    gpusum::ExactFloat sum = total[0];
                    gpusum::normalise(sum);
                    CHECK(std::equal(std::begin(sum.digits), std::end(sum.digits),
                                     std::begin(cpu.digits)));
                }
            } else {
                i128 expected = 0;
                for (std::size_t i = 0; i < n; ++i) expected += a.elements[i];
                const i128 total =
                    run_tree(ArraySource<T>{a.elements, n}, chunks, launch_shape(shape, seed++));
                CHECK(gpusum::to_string(total) == gpusum::to_string(expected));
            }
        }
    }
}

TEST_CASE("kernel harness: an array filled on the device and summed there, as --mode array does") {
    // fill_series then tree_reduce over what it wrote, with the production
    // launch plan on a device of 3 SMs x 2 blocks; near +-2^63 too (halves).
    const TreeTuning tuning{};
    for (const Progression p :
         {Progression{-12345, 40000, 7}, Progression{1, 1, 1},
          Progression{INT64_MAX - INT64_C(3) * 2999, 3000, 3}, Progression{INT64_MIN, 2500, 1}}) {
        DeviceArray<std::int64_t> array(p.count);
        cuda_host::launch(LaunchShape{4, 64, 2, p.count}, gpusum::kernels::fill_series, array.get(),
                          p);
        for (std::uint64_t i = 0; i < p.count; i += 997) REQUIRE(array[i] == p.at(i));
        const auto plan = gpusum::kernels::plan_grid(p.count, 6, tuning);
        CAPTURE(p.first);
        CHECK(run_tree(ArraySource<std::int64_t>{array.get(), p.count}, plan.chunks,
                       LaunchShape{static_cast<unsigned>(plan.blocks), tuning.threads_per_block, 2,
                                   p.count + 5}) == gpusum::closed_form_sum(p));
    }
}

// The harness itself must notice what it exists to notice.
namespace {
__global__ void skips_a_barrier(int* out) {
    if (threadIdx.x != 0) __syncthreads();
    *out = 1;
}
__global__ void shuffles_in_half_a_warp(unsigned long long* out) {
    if (threadIdx.x % 32 < 16) *out = __shfl_down_sync(0xffffffffu, 1ull, 1);
}
__global__ void loops_forever(int* out) {
    const volatile int* never_negative = out;
    while (*never_negative >= 0) {
    }
}
}  // namespace

TEST_CASE("kernel harness: divergence, deadlock and endless loops are reported, not hung") {
    DeviceArray<int> out(1);
    DeviceArray<unsigned long long> word(1);
    CHECK_THROWS_WITH_AS(cuda_host::launch(LaunchShape{2, 64, 1, 1}, skips_a_barrier, out.get()),
                         doctest::Contains("divergence"), cuda_host::LaunchError);
    CHECK_THROWS_WITH_AS(
        cuda_host::launch(LaunchShape{1, 32, 1, 1}, shuffles_in_half_a_warp, word.get()),
        doctest::Contains("divergence"), cuda_host::LaunchError);
    CHECK_THROWS_AS(cuda_host::launch(LaunchShape{1, 48, 1, 1}, skips_a_barrier, out.get()),
                    cuda_host::LaunchError);
    setenv("GPUSUM_HARNESS_SECONDS", "0.5", 1);
    CHECK_THROWS_WITH_AS(cuda_host::launch(LaunchShape{2, 32, 2, 1}, loops_forever, out.get()),
                         doctest::Contains("time limit"), cuda_host::LaunchError);
    unsetenv("GPUSUM_HARNESS_SECONDS");
}
