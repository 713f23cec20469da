// One user request end to end: prepare the data, choose a backend, run it
// (repeatedly), verify every answer, keep the timings.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gpusum/backend.hpp"

namespace gpusum {

enum class Mode { range, array };

// The most workers and chunks a job may ask for (partials are kept per chunk).
inline constexpr unsigned kMaxWorkers = 4096;
inline constexpr std::uint64_t kMaxChunks = std::uint64_t{1} << 20;

struct Job {
    Range range;
    Mode mode = Mode::range;           // array: materialise the range, sum the array
    std::string input;                 // a .npy or raw file to sum instead of a range
    std::optional<ArrayView> array;    // or elements in the caller's memory, summed in place
    std::optional<DType> input_dtype;  // required for raw files
    std::string backend = "auto";
    unsigned workers = 1;
    std::uint64_t chunks = 100;
    unsigned repeat = 1;
    int device = 0;            // CUDA device for the GPU backends
    double chunk_timeout = 0;  // process pool deadline per chunk; 0 = default
    std::vector<int> devices;  // GPU backends: split across these devices
    bool progress = false;     // draw a progress bar on stderr for long runs
};

// The measured runs of one backend on the job.
struct Outcome {
    std::string backend;
    std::string reason;                // why this backend ran
    std::vector<std::string> notes;    // backends skipped or failed on the way
    std::vector<std::string> ignored;  // options the backend that ran does not use
    Result result;                     // the run with the median total time
    std::vector<double> totals;        // total seconds of every repetition
    std::string source;                // what was summed, for reports
    std::uint64_t elements = 0;
    std::uint64_t bytes = 0;   // array bytes read per run; 0 for ranges
    double fill_seconds = 0;   // array mode: materialising the range
    bool real = false;         // a float array: compare `real`, not `sum`
    i128 expected = 0;         // integer check value
    double expected_real = 0;  // float check value, exactly rounded
    std::string check;         // how `expected` was obtained
    double check_seconds = 0;
    bool verified = false;  // every repetition agreed with the check

    double min_total() const;
    double median_total() const;
    double max_total() const;
    double elements_per_second() const;  // elements / median total
    double bytes_per_second() const;     // bytes / median compute time
    double all_phases_seconds() const;   // fill + the reported run + check
};

// Throws InputError for bad files or arrays that cannot fit in memory.
Outcome run_job(const BackendList& backends, const Job& job);

// A warning for a range that would take longer than a day at the rate this
// machine can be expected to add at (a generous model: 2e10 elements/s per
// worker on the CPU, 1e12/s on a GPU), or empty. Said before the run starts.
std::string long_run_warning(const BackendList& backends, const Job& job);

// A non-root MPI rank's part of the job: the same workload, the backend run
// as often as on rank 0, with no check and no report (rank 0 does both).
void serve_job(const BackendList& backends, const Job& job);

struct Comparison {
    std::vector<Outcome> runs;       // every usable backend, in list order
    std::vector<std::string> notes;  // backends left out or failed, with the reason
};

Comparison compare_backends(const BackendList& backends, const Job& job);

}  // namespace gpusum
