// gpusum as a library: one call sums a range or an array exactly, on the
// backend the dispatcher picks (or the one asked for), and checks the answer
// before returning it. The command line runs the same code.
//
//   #include <gpusum/gpusum.hpp>
//   gpusum::Sum s = gpusum::sum(gpusum::Range{0, 1'000'000'000, 1});
//   std::vector<std::int32_t> v = ...;
//   gpusum::Sum t = gpusum::sum(std::span<const std::int32_t>(v), {.backend = "threads"});
//
// Errors are exceptions: InputError (bad arguments or data: a zero step, an
// unknown backend name, workers = 0 given explicitly is not an error but
// "all cores"), Unavailable (the backend asked for cannot run here: built
// without CUDA, no GPU), BackendError (it failed while running), Interrupted
// (SIGINT or SIGTERM arrived; every worker was stopped) and Mismatch (the
// answer disagreed with its check: never returned).
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "gpusum/array.hpp"
#include "gpusum/backend.hpp"
#include "gpusum/errors.hpp"
#include "gpusum/series.hpp"

namespace gpusum {

struct Options {
    std::string backend = "auto";  // auto, serial, threads, process, cuda, cub, thrust
    unsigned workers = 0;          // 0: every usable core
    std::uint64_t chunks = 0;      // 0: the default (100)
    int device = 0;                // CUDA device for the GPU backends
};

struct Sum {
    bool is_float = false;
    i128 sum = 0;                    // integer data: the exact sum
    double value = 0;                // float data: the exact sum correctly rounded;
                                     // integer data: the sum rounded to double
    double error_bound = 0;          // |value - exact sum| <= error_bound (half an ulp of
                                     // value for float data, 0 for exact integers)
    i128 expected = 0;               // what the integer sum was checked against
    double expected_value = 0;       // what the float sum was checked against
    std::string check;               // how the expected value was obtained
    bool verified = false;           // always true: a mismatch throws instead
    std::string backend;             // the backend that ran
    std::string reason;              // why it was chosen
    std::vector<std::string> notes;  // backends skipped or failed on the way
    std::uint64_t elements = 0;
    Timings seconds;  // setup, compute, combine of the run
    double check_seconds = 0;
    double elements_per_second = 0;
};

// Half an ulp of `value`: how far an exactly rounded sum can be from the
// exact one (0 for infinities and NaN, which carry no such bound).
double rounding_bound(double value);

// The sum of Python's range(start, stop, step).
Sum sum(Range range, const Options& options = {});

// The sum of elements in host memory, read in place (never copied).
Sum sum(ArrayView array, const Options& options = {});

// Elements already in the memory of CUDA device `options.device`
// (cudaMalloc'd or managed, aligned to the element size, within one
// allocation, one block without gaps), as CuPy and PyTorch hand them over.
struct DeviceArray {
    const void* data = nullptr;
    std::uint64_t count = 0;
    DType dtype = DType::int64;  // any but float16
};

// Summed on the device by backend "cuda" (also for "auto") or "cub"
// (integers), and checked by an independent second pass before returning:
// integers by the other kernel over the same memory, floats by the CPU's
// exact check over a copy streamed back in 64 MiB pieces. Work queued on the
// legacy default stream is waited for first; the caller's current device is
// left as it was. Unavailable without CUDA or a usable GPU.
Sum sum(DeviceArray array, const Options& options = {});

// What the command warns before a range that would take more than a day at
// the rate this machine can be expected to reach, or "" for any other.
std::string long_run_warning(Range range, const Options& options = {});

// Call first in main() of a program that runs the process backend on
// Windows: the pool starts its workers as copies of the program, in a mode
// this serves (it then ends the process); where it was not called the
// process backend says it is unavailable. On Linux and macOS workers are
// forked and this does nothing.
void serve_process_pool_worker(int argc, char** argv);

// The element type each C++ type is summed as.
template <class T>
constexpr DType dtype_of() {
    if constexpr (std::is_same_v<T, bool>)
        return DType::boolean;
    else if constexpr (std::is_same_v<T, float>)
        return DType::float32;
    else if constexpr (std::is_same_v<T, double>)
        return DType::float64;
    else {
        static_assert(std::is_integral_v<T> && sizeof(T) <= 8, "gpusum sums integers and floats");
        constexpr DType signed_types[] = {DType::int8,  DType::int16, DType::int16, DType::int32,
                                          DType::int32, DType::int32, DType::int32, DType::int64};
        constexpr DType unsigned_types[] = {DType::uint8,  DType::uint16, DType::uint16,
                                            DType::uint32, DType::uint32, DType::uint32,
                                            DType::uint32, DType::uint64};
        return std::is_signed_v<T> ? signed_types[sizeof(T) - 1] : unsigned_types[sizeof(T) - 1];
    }
}

template <class T>
Sum sum(std::span<const T> values, const Options& options = {}) {
    return sum(ArrayView{reinterpret_cast<const unsigned char*>(values.data()), values.size(),
                         dtype_of<T>()},
               options);
}

}  // namespace gpusum
