// The one interface every way of summing implements, and what flows through it.
#pragma once

#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gpusum/array.hpp"
#include "gpusum/errors.hpp"
#include "gpusum/series.hpp"

namespace gpusum {

class Progress;
class FloatCheck;

struct Request {
    Progression series;
    unsigned workers = 1;          // upper bound; a backend may use fewer
    std::uint64_t chunks = 100;    // requested; capped by effective_chunks()
    Progress* progress = nullptr;  // optional, advanced as elements are summed
    int device = 0;                // CUDA device index, for the GPU backends
    // When set, sum these elements instead of `series`.
    std::optional<ArrayView> array;
    // Process pool: seconds one chunk may take before its worker is presumed
    // hung (stopped, swapped out, deadlocked) and replaced; 0 = scaled to the
    // chunk's size by default_chunk_timeout().
    double chunk_timeout = 0;
    // GPU backends: several devices share the work, one partial each
    // (empty: the one `device`).
    std::vector<int> devices;
    // Nonzero: requests with the same id sum the same data, unchanged (the
    // repetitions of one job). With keep_workers a backend may keep its
    // workers after the run for the next request of the same workload;
    // without it nothing of the run outlives sum().
    std::uint64_t workload_id = 0;
    bool keep_workers = false;
    // GPU backends, --mode array: the array is `series` as int64, to be
    // written into device memory and summed there (`array` is then unset).
    bool fill_on_device = false;
    // Arrays the job would otherwise check by a second pass: a backend that
    // can (serial and threads, for dense arrays) runs the independent check
    // itself, block by block while each block is in cache, and returns it
    // in Result::in_cache_check; others ignore this.
    bool check_in_cache = false;

    std::uint64_t elements() const { return array ? array->count : series.count; }
    bool real() const { return array && is_float(array->dtype); }
};

// What one chunk (or one whole run) adds up to: an exact integer, or for
// float arrays the exact float total.
struct Partial {
    i128 integer = 0;
    ExactFloat real;
};

// Elements [first, first + count) of an array.
struct ElementRange {
    std::uint64_t first = 0;
    std::uint64_t count = 0;
    bool operator<(const ElementRange& other) const {
        return first != other.first ? first < other.first : count < other.count;
    }
};

// The independent check of an array made by a backend, block by block
// while each was in cache: the blocks' total by the check's own arithmetic
// (`real` for float arrays: the check's exact total, a type of the
// library's own), and the element ranges it walked, which the job proves
// tile the array exactly once before it trusts the total.
struct CacheCheck {
    i128 total = 0;
    std::shared_ptr<FloatCheck> real;
    std::vector<ElementRange> walked;
};

// Wall-clock seconds of the phases of one run.
struct Timings {
    double setup = 0;    // starting workers, device context, buffers
    double compute = 0;  // the additions, until the last partial sum is in
    double combine = 0;  // reducing the partial sums to one
    double total() const { return setup + compute + combine; }
};

struct Result {
    i128 sum = 0;     // integer series and arrays
    ExactFloat real;  // float arrays: exact; rounded(real) is the answer
    Timings seconds;
    unsigned workers = 1;
    std::uint64_t chunks = 1;
    std::uint64_t retried_chunks = 0;          // chunks sent again after their worker died or hung
    std::optional<CacheCheck> in_cache_check;  // when the request asked and the backend can
    // Backend-specific facts worth reporting (device name, kernel time...).
    std::vector<std::pair<std::string, std::string>> details;
};

struct Availability {
    bool usable = false;
    std::string reason;  // why not, or a short description of what will run
};

// Runs `body`, turning any exception but BackendError and Interrupted into a
// BackendError naming `what`: CUB and Thrust report CUDA failures as
// thrust::system_error or bad_alloc, and a backend that fails must fall back
// or exit 3, never end the program.
template <class Body>
decltype(auto) as_backend_error(std::string_view what, Body&& body) {
    try {
        return body();
    } catch (const BackendError&) {
        throw;
    } catch (const Interrupted&) {
        throw;
    } catch (const std::bad_alloc&) {
        throw BackendError(std::string(what) + ": out of memory");
    } catch (const std::exception& e) {
        throw BackendError(std::string(what) + ": " + e.what());
    }
}

class Backend {
  public:
    virtual ~Backend() = default;
    virtual std::string_view name() const = 0;
    virtual std::string_view summary() const = 0;  // one line for --help and reports
    virtual Availability availability() const = 0;
    // Empty if it sums this array, else why not (e.g. "sums ranges only").
    virtual std::string cannot_sum(const ArrayView&) const { return {}; }
    // Runs on every rank of a job at once (mpi): only when asked for by name,
    // never picked by auto or run by --compare.
    virtual bool collective() const { return false; }
    virtual Result sum(const Request& request) = 0;
};

using BackendList = std::vector<std::unique_ptr<Backend>>;

}  // namespace gpusum
