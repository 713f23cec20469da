// The serial and threads backends. Both walk the same chunks the process pool
// and the GPU use, and combine the exact partial sums.
#include <algorithm>
#include <atomic>
#include <latch>
#include <system_error>
#include <thread>

#include "chunk_work.hpp"
#include "gpusum/cpu.hpp"
#include "gpusum/progress.hpp"
#include "stopwatch.hpp"

namespace gpusum {

namespace {

class SerialBackend final : public Backend {
  public:
    std::string_view name() const override { return "serial"; }
    std::string_view summary() const override { return "one core, vectorised loop"; }
    Availability availability() const override { return {true, "always available"}; }

    Result sum(const Request& request) override {
        Stopwatch clock;
        Result result = parallel_shape(request);
        result.workers = 1;
        std::vector<Partial> partials(result.chunks);
        result.seconds.setup = clock.lap();
        for (std::uint64_t i = 0; i < result.chunks; ++i)
            partials[i] = sum_chunk(request, result.chunks, i);
        result.seconds.compute = clock.lap();
        combine_partials(partials, result);
        result.seconds.combine = clock.lap();
        return result;
    }
};

class ThreadsBackend final : public Backend {
  public:
    std::string_view name() const override { return "threads"; }
    std::string_view summary() const override {
        return "one thread per worker, chunks handed out dynamically";
    }
    Availability availability() const override {
        return {true, std::to_string(usable_cores()) + " usable cores"};
    }

    Result sum(const Request& request) override {
        Stopwatch clock;
        Result result = parallel_shape(request);
        std::vector<Partial> partials(result.chunks);
        std::atomic<std::uint64_t> next{0};
        std::latch ready(result.workers);
        std::latch go(1);
        std::vector<std::thread> threads;
        auto work = [&] {
            ready.count_down();
            go.wait();
            for (std::uint64_t i; (i = next.fetch_add(1)) < result.chunks;)
                partials[i] = sum_chunk(request, result.chunks, i);
        };
        try {
            for (unsigned w = 0; w < result.workers; ++w) threads.emplace_back(work);
        } catch (const std::system_error& e) {
            // Release the threads that did start with nothing left to do.
            next = result.chunks;
            for (std::size_t w = threads.size(); w < result.workers; ++w) ready.count_down();
            go.count_down();
            for (auto& t : threads) t.join();
            throw BackendError(std::string("cannot start threads: ") + e.what());
        }
        ready.wait();
        result.seconds.setup = clock.lap();
        go.count_down();
        for (auto& t : threads) t.join();
        result.seconds.compute = clock.lap();
        combine_partials(partials, result);
        result.seconds.combine = clock.lap();
        return result;
    }
};

}  // namespace

std::unique_ptr<Backend> make_serial_backend() {
    return std::make_unique<SerialBackend>();
}
std::unique_ptr<Backend> make_threads_backend() {
    return std::make_unique<ThreadsBackend>();
}

}  // namespace gpusum
