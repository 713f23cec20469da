// One user request end to end: choose a backend, run it (repeatedly), verify
// every answer against the closed form, keep the timings.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gpusum/backend.hpp"

namespace gpusum {

struct Job {
    Range range;
    std::string backend = "auto";
    unsigned workers = 1;
    std::uint64_t chunks = 100;
    unsigned repeat = 1;
    int device = 0;         // CUDA device for the GPU backends
    bool progress = false;  // draw a progress bar on stderr for long runs
};

// The measured runs of one backend on the job.
struct Outcome {
    std::string backend;
    std::string reason;              // why this backend ran
    std::vector<std::string> notes;  // backends skipped or failed on the way
    Result result;                   // the run with the median total time
    std::vector<double> totals;      // total seconds of every repetition
    std::uint64_t elements = 0;
    i128 expected = 0;      // closed form
    bool verified = false;  // every repetition equalled the closed form

    double min_total() const;
    double median_total() const;
    double max_total() const;
    double elements_per_second() const;  // elements / median total
};

// The requested backend exists but cannot run here; the CLI exits 3.
class Unavailable : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

Outcome run_job(const BackendList& backends, const Job& job);

struct Comparison {
    std::vector<Outcome> runs;       // every usable backend, in list order
    std::vector<std::string> notes;  // backends left out or failed, with the reason
};

Comparison compare_backends(const BackendList& backends, const Job& job);

}  // namespace gpusum
