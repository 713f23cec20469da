// The serial and threads backends. Both walk the same chunks the process pool
// and the GPU use, and combine the exact partial sums.
#include <algorithm>
#include <atomic>
#include <system_error>
#include <thread>

#include "backends/cpu/chunk_work.hpp"
#include "backends/cpu/cpu_backends.hpp"
#include "platform/platform.hpp"
#include "support/latch.hpp"
#include "support/progress.hpp"
#include "support/stop_signals.hpp"
#include "support/stopwatch.hpp"

namespace gpusum {

namespace {

class SerialBackend final : public Backend {
  public:
    std::string_view name() const override { return "serial"; }
    std::string_view summary() const override { return "one core, vectorised loop"; }
    Availability availability() const override { return {true, "always available"}; }

    Result sum(const Request& request) override {
        Stopwatch clock;
        const StopSignals stop_signals;
        Result result = parallel_shape(request);
        result.workers = 1;
        std::vector<Partial> partials(result.chunks);
        std::vector<CacheCheck> checks(checks_in_cache(request) ? result.chunks : 0);
        result.seconds.setup = clock.lap();
        for (std::uint64_t i = 0; i < result.chunks; ++i)  // sees Ctrl-C
            partials[i] =
                sum_chunk(request, result.chunks, i, checks.empty() ? nullptr : &checks[i]);
        result.seconds.compute = clock.lap();
        combine_partials(partials, result, request);
        if (!checks.empty()) result.in_cache_check = combine_checks(checks);
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
        const StopSignals stop_signals;
        Result result = parallel_shape(request);
        std::vector<Partial> partials(result.chunks);
        std::vector<CacheCheck> checks(checks_in_cache(request) ? result.chunks : 0);
        std::atomic<std::uint64_t> next{0};
        // The calling thread is one of the workers; the others are helpers.
        const unsigned helpers = result.workers - 1;
        Latch ready(helpers);
        Latch go(1);
        std::vector<std::thread> threads;
        auto work = [&] {
            // Ctrl-C is seen between slices: every thread stops, and the
            // calling thread raises Interrupted once they all have.
            try {
                for (std::uint64_t i; (i = next.fetch_add(1)) < result.chunks;)
                    partials[i] =
                        sum_chunk(request, result.chunks, i, checks.empty() ? nullptr : &checks[i]);
            } catch (const Interrupted&) {
            }
        };
        std::string limited;
        for (unsigned w = 0; w < helpers; ++w) {
            try {
                threads.emplace_back([&] {
                    ready.count_down();
                    go.wait();
                    work();
                });
            } catch (const std::system_error& e) {
                // A thread limit: run with the threads there are, and say so.
                for (unsigned left = w; left < helpers; ++left) ready.count_down();
                limited = fewer_workers(result.workers, w + 1, e.what());
                result.workers = w + 1;
                break;
            }
        }
        ready.wait();
        result.seconds.setup = clock.lap();
        go.count_down();
        work();
        for (auto& t : threads) t.join();
        throw_if_stopped();
        if (!limited.empty()) result.details.emplace_back("limited", limited);
        result.seconds.compute = clock.lap();
        combine_partials(partials, result, request);
        if (!checks.empty()) result.in_cache_check = combine_checks(checks);
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

unsigned usable_cores() {
    return platform::usable_cores();
}

}  // namespace gpusum
