// The process pool's workers, as the scheduler (process_pool.cpp) sees them:
// processes it starts, sends chunk indices to, hears partials from, and ends.
// How they start is the platform's: forked on Linux and macOS
// (worker_fork.cpp: they inherit the request and the array), spawned on
// Windows (worker_spawn.cpp: the same program started in worker mode, sent
// the request over a pipe, the array shared read-only as its file's mapping
// or a memory section).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gpusum/backend.hpp"

namespace gpusum {

// One answered chunk, as a worker sends it.
struct ChunkResult {
    std::uint64_t chunk;
    std::uint64_t low;  // the 128-bit integer partial, in two halves
    std::uint64_t high;
    ExactFloat real;
};

// What a worker does with chunk `index` of `request` cut into `chunks`:
// sums it and puts the partial into a message; and the partial read back.
ChunkResult answer_chunk(const Request& request, std::uint64_t chunks, std::uint64_t index);
Partial partial_of(const ChunkResult& message);

class WorkerProcess {
  public:
    virtual ~WorkerProcess() = default;
    // The process id, for tests and messages.
    virtual std::int64_t id() const = 0;
    // False when the worker is gone.
    virtual bool send(std::uint64_t chunk) = 0;
    // The next answer, once wait() said this worker is ready; false when it
    // has ended or sent something short.
    virtual bool receive(ChunkResult& out) = 0;
    // Ends the worker, killing it if it still runs, and says how it ended:
    // "killed by signal 9", "exited with status 1", or kFileChanged.
    virtual std::string end() = 0;
    static constexpr const char* kFileChanged = "found its input file changed";
};

// Starts the workers of one pool: all sum `request` cut into `chunks`.
class WorkerLauncher {
  public:
    virtual ~WorkerLauncher() = default;
    // BackendError when no worker can start.
    virtual std::unique_ptr<WorkerProcess> start() = 0;
    // Waits up to `timeout` for any of `workers` to have an answer or to
    // end; ready[i] says which.
    virtual void wait(const std::vector<WorkerProcess*>& workers, std::chrono::milliseconds timeout,
                      std::vector<char>& ready) = 0;
    // How many workers the system's limits leave room for.
    virtual unsigned room() const = 0;
};

std::unique_ptr<WorkerLauncher> make_worker_launcher(const Request& request, std::uint64_t chunks);

// Whether this program can start workers, and how they start.
Availability worker_availability();
std::string_view worker_summary();

}  // namespace gpusum
