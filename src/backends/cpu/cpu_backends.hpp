// The CPU backends (serial, threads, process pool) and the facts they plan by.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "gpusum/backend.hpp"

namespace gpusum {

// Cores this process may run on: its CPU affinity mask (taskset, cpusets,
// mpirun's binding), not every core the machine has.
unsigned usable_cores();

std::unique_ptr<Backend> make_serial_backend();
std::unique_ptr<Backend> make_threads_backend();

struct ProcessPoolOptions {
    // Called in the parent right after chunk `chunk` is sent to the worker
    // whose process id is `pid`. Lets tests inject faults (kill the worker)
    // at a precise moment.
    std::function<void(std::int64_t pid, std::uint64_t chunk)> on_dispatch;
    // Called before each try to start a worker; a BackendError thrown from
    // it is taken as that start failing. Lets tests fail starts on purpose.
    std::function<void()> before_start;
    // A chunk whose worker died is re-run; after this many failed attempts the
    // run fails instead of looping forever.
    unsigned max_attempts_per_chunk = 4;
};

// The process pool's deadline for one chunk unless --chunk-timeout sets one:
// 10 s plus 1 s per 10 million elements. Working workers are hundreds of times
// faster (the range loop adds ~1e10 elements/s per core, arrays read at
// ~2e9/s from memory), so only a hung worker meets it.
double default_chunk_timeout(std::uint64_t chunk_elements);

// The longest chunk deadline (~30 years: no deadline in practice); longer ones
// would overflow the pool's clock arithmetic.
inline constexpr double kMaxChunkTimeout = 1e9;

std::unique_ptr<Backend> make_process_backend(ProcessPoolOptions options = {});

}  // namespace gpusum
