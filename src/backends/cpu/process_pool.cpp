// The seed's ProcessPoolExecutor done right: a fixed pool of worker
// processes (worker_process.hpp: forked, or spawned on Windows), chunks
// handed out dynamically as a chunk index, the partial sent back as one
// fixed-size message. A worker that dies, or sits on a chunk past its
// deadline, is killed and its chunks re-run by a fresh worker; a stop request
// (Ctrl-C, SIGTERM) kills and reaps every worker before the run unwinds.
#include <algorithm>
#include <chrono>
#include <deque>
#include <exception>
#include <map>
#include <thread>

#include "backends/cpu/chunk_work.hpp"
#include "backends/cpu/worker_process.hpp"
#include "input/file_guard.hpp"
#include "support/stop_signals.hpp"
#include "support/stopwatch.hpp"
#include "support/text.hpp"

namespace gpusum {

namespace {

using Clock = std::chrono::steady_clock;

struct Worker {
    std::unique_ptr<WorkerProcess> process;
    // Chunks sent and not yet answered, in order: the front is being summed.
    std::deque<std::uint64_t> queued;
    Clock::time_point front_due;  // when the front chunk's deadline passes
};

class Pool {
  public:
    Pool(const Request& request, std::uint64_t chunks, unsigned asked,
         const ProcessPoolOptions& options)
        : request_(request),
          chunks_(chunks),
          asked_(asked),
          options_(options),
          launcher_(make_worker_launcher(request, chunks)) {}
    ~Pool() {
        // Workers are idle or being abandoned: killing ends even a stopped
        // one, so shutdown never waits on a worker, and every one is reaped.
        for (Worker& w : workers_) end(w);
    }
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    std::vector<Worker>& workers() { return workers_; }

    // A start can fail for a moment (fork's EAGAIN, a busy system, wine's
    // process creation under load): three tries before the failure counts.
    Worker spawn() {
        for (int attempt = 1;; ++attempt) {
            try {
                if (options_.before_start) options_.before_start();
                return Worker{launcher_->start(), {}, {}};
            } catch (const BackendError&) {
                if (attempt == kStartAttempts) throw;
                std::this_thread::sleep_for(std::chrono::milliseconds(10 * attempt));
            }
        }
    }
    static constexpr int kStartAttempts = 3;

    // Returns how the worker ended, for messages.
    static std::string end(Worker& w) {
        if (!w.process) return "already ended";
        std::string how = w.process->end();
        w.process.reset();
        return how;
    }

    void wait(std::chrono::milliseconds timeout, std::vector<char>& ready) {
        processes_.clear();
        for (const Worker& w : workers_) processes_.push_back(w.process.get());
        launcher_->wait(processes_, timeout, ready);
    }

    unsigned room() const { return launcher_->room(); }

    // Whether these workers can run `request` as it is cut into `chunks`:
    // the same workload (the data they inherited), the same chunks.
    bool serves(const Request& request, std::uint64_t chunks, unsigned asked) const {
        return request.workload_id != 0 && request.workload_id == request_.workload_id &&
               chunks == chunks_ && asked == asked_;
    }

    std::string limited;  // why fewer workers started than were asked, if they did

  private:
    Request request_;  // what the workers were started with
    std::uint64_t chunks_;
    unsigned asked_;
    const ProcessPoolOptions& options_;  // the backend's, which outlives its pools
    std::unique_ptr<WorkerLauncher> launcher_;
    std::vector<Worker> workers_;
    std::vector<WorkerProcess*> processes_;  // wait()'s list, kept to reuse its memory
};

// Chunks sent ahead to each worker: with one in progress and one waiting, a
// worker never idles while the parent is scheduled to send the next index.
constexpr std::size_t kQueueDepth = 2;

class ProcessBackend final : public Backend {
  public:
    explicit ProcessBackend(ProcessPoolOptions options) : options_(std::move(options)) {}

    std::string_view name() const override { return "process"; }
    std::string_view summary() const override { return worker_summary(); }
    Availability availability() const override { return worker_availability(); }

    Result sum(const Request& request) override {
        Stopwatch clock;
        Result result = parallel_shape(request);

        StopSignals stop_signals;
        // The repetitions of one job reuse the workers of the last one.
        const unsigned asked = result.workers;
        const bool reused = pool_ && pool_->serves(request, result.chunks, asked);
        if (!reused) {
            pool_.reset();
            pool_ = std::make_unique<Pool>(request, result.chunks, asked, options_);
            // Under a process or file limit the pool runs with the workers it
            // can start, and says so; with none it fails.
            const unsigned room = pool_->room();
            if (room == 0)
                throw BackendError("no descriptors to spare for a worker (RLIMIT_NOFILE)");
            if (room < asked)
                pool_->limited =
                    fewer_workers(asked, room, "the open-file limit leaves room for no more");
            for (unsigned w = 0; w < std::min(asked, room); ++w) {
                try {
                    pool_->workers().push_back(pool_->spawn());
                } catch (const BackendError& e) {
                    if (w == 0) {
                        pool_.reset();
                        throw;
                    }
                    pool_->limited = fewer_workers(asked, w, e.what());
                    break;
                }
            }
        }
        Pool& pool = *pool_;
        // A run that ends by an exception ends its workers too (they may be
        // mid-chunk), before the exception leaves sum().
        struct EndPoolOnError {
            std::unique_ptr<Pool>& pool;
            int exceptions = std::uncaught_exceptions();
            ~EndPoolOnError() {
                if (std::uncaught_exceptions() > exceptions) pool.reset();
            }
        } end_on_error{pool_};
        result.workers = static_cast<unsigned>(pool.workers().size());
        if (!pool.limited.empty()) result.details.emplace_back("limited", pool.limited);
        if (reused) result.details.emplace_back("pool", "workers kept from the previous run");
        result.seconds.setup = clock.lap();

        std::vector<Partial> partials(result.chunks);
        std::deque<std::uint64_t> retry;
        std::map<std::uint64_t, unsigned> failures;
        std::uint64_t next_fresh = 0;
        std::uint64_t completed = 0;
        std::vector<char> ready;

        const std::uint64_t n = request.elements();
        auto chunk_elements = [&](std::uint64_t c) {
            return chunk_begin(n, result.chunks, c + 1) - chunk_begin(n, result.chunks, c);
        };
        auto deadline = [&](std::uint64_t c) {
            const double seconds = request.chunk_timeout > 0
                                       ? request.chunk_timeout
                                       : default_chunk_timeout(chunk_elements(c));
            return std::chrono::duration_cast<Clock::duration>(
                std::chrono::duration<double>(std::min(seconds, kMaxChunkTimeout)));
        };

        // A chunk failing again and again fails the run instead of looping.
        auto count_failure = [&](std::uint64_t c, const std::string& how) {
            if (++failures[c] >= options_.max_attempts_per_chunk)
                throw BackendError("chunk " + std::to_string(c) + " failed " +
                                   std::to_string(failures[c]) + " times (last worker " + how +
                                   ")");
        };

        // Ends `w` and hands its chunks to the retry queue. `why` names the
        // fault for messages when the way the worker ended does not.
        auto replace = [&](Worker& w, std::string why) {
            std::string how = Pool::end(w);
            // Bad input, not a worker fault: re-running would fault again.
            if (how == WorkerProcess::kFileChanged) throw InputError(file_changed_message());
            if (!why.empty()) how = std::move(why);
            if (!w.queued.empty()) {
                // Only the chunk in progress counts as failed; all are re-run.
                count_failure(w.queued.front(), how);
                result.retried_chunks += w.queued.size();
                retry.insert(retry.begin(), w.queued.begin(), w.queued.end());
                w.queued.clear();
            }
            w = pool.spawn();
            return how;
        };

        int continues_seen = continued_count();
        while (completed < result.chunks) {
            throw_if_stopped();
            for (Worker& w : pool.workers()) {
                while (w.queued.size() < kQueueDepth &&
                       (!retry.empty() || next_fresh < result.chunks)) {
                    std::uint64_t c;
                    if (!retry.empty()) {
                        c = retry.front();
                        retry.pop_front();
                    } else {
                        c = next_fresh++;
                    }
                    if (!w.process->send(c)) {
                        // Never delivered, so not a retry: it simply goes first next time.
                        const bool idle = w.queued.empty();
                        const std::string how = replace(w, "");
                        retry.push_front(c);
                        if (idle) count_failure(c, how + " before taking a chunk");
                        break;
                    }
                    w.queued.push_back(c);
                    if (w.queued.size() == 1) w.front_due = Clock::now() + deadline(c);
                    if (options_.on_dispatch) options_.on_dispatch(w.process->id(), c);
                }
            }
            // Wake for the earliest deadline, and at least every 200 ms.
            Clock::time_point wake = Clock::now() + std::chrono::milliseconds(200);
            for (const Worker& w : pool.workers())
                if (!w.queued.empty()) wake = std::min(wake, w.front_due);
            const auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake - Clock::now());
            pool.wait(std::max(wait, std::chrono::milliseconds(0)), ready);
            for (std::size_t i = 0; i < ready.size(); ++i) {
                if (ready[i] == 0) continue;
                Worker& w = pool.workers()[i];
                ChunkResult message{};
                if (w.process->receive(message) && !w.queued.empty() &&
                    message.chunk == w.queued.front()) {
                    partials[message.chunk] = partial_of(message);
                    if (request.progress != nullptr)
                        request.progress->advance(chunk_elements(message.chunk));
                    w.queued.pop_front();
                    if (!w.queued.empty()) w.front_due = Clock::now() + deadline(w.queued.front());
                    ++completed;
                } else {
                    replace(w, "");  // died, hung up, or sent something it should not have
                }
            }
            const Clock::time_point now = Clock::now();
            if (const int c = continued_count(); c != continues_seen) {
                // Stopped and continued (Ctrl-Z, fg): the time stopped
                // counts against no worker, so every deadline restarts.
                continues_seen = c;
                for (Worker& w : pool.workers())
                    if (!w.queued.empty()) w.front_due = now + deadline(w.queued.front());
            }
            for (Worker& w : pool.workers())
                if (!w.queued.empty() && now >= w.front_due)
                    replace(
                        w,
                        "killed: no answer within its chunk deadline of " +
                            duration(
                                std::chrono::duration<double>(deadline(w.queued.front())).count()));
        }
        result.seconds.compute = clock.lap();
        combine_partials(partials, result, request);
        result.seconds.combine = clock.lap();
        if (!request.keep_workers) pool_.reset();
        return result;
    }

  private:
    ProcessPoolOptions options_;
    std::unique_ptr<Pool> pool_;  // idle between the runs of one job
};

}  // namespace

ChunkResult answer_chunk(const Request& request, std::uint64_t chunks, std::uint64_t index) {
    const Partial partial = sum_chunk(request, chunks, index);
    const auto bits = static_cast<u128>(partial.integer);
    return {index, static_cast<std::uint64_t>(bits), static_cast<std::uint64_t>(bits >> 64),
            partial.real};
}

Partial partial_of(const ChunkResult& message) {
    return {static_cast<i128>((static_cast<u128>(message.high) << 64) | message.low), message.real};
}

double default_chunk_timeout(std::uint64_t chunk_elements) {
    return 10.0 + static_cast<double>(chunk_elements) / 1e7;
}

std::unique_ptr<Backend> make_process_backend(ProcessPoolOptions options) {
    return std::make_unique<ProcessBackend>(std::move(options));
}

}  // namespace gpusum
