#include <doctest/doctest.h>
#ifndef _WIN32
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#endif
#include <atomic>
#include <system_error>
#include <thread>
#include <vector>

#include "backends/cpu/cpu_backends.hpp"
#include "backends/cpu/simd/loops.hpp"
#include "helpers/platform_skip.hpp"
#include "helpers/process_table.hpp"
#include "helpers/reference.hpp"
#include "helpers/request.hpp"
#include "plan/dispatch.hpp"
#include "run/job.hpp"
#include "support/latch.hpp"
#include "support/progress.hpp"
#include "support/stop_signals.hpp"
#include "support/text.hpp"
#include "verify/array_check.hpp"

using gpusum::i128;
using gpusum::testing::child_processes;
using gpusum::testing::open_fds;
using gpusum::testing::request_for;

namespace {

gpusum::BackendList cpu_backends() {
    gpusum::BackendList list;
    list.push_back(gpusum::make_serial_backend());
    list.push_back(gpusum::make_threads_backend());
    list.push_back(gpusum::make_process_backend());
    return list;
}

}  // namespace

TEST_CASE("every CPU backend equals the reference on seeded random ranges") {
    const gpusum::BackendList backends = cpu_backends();
    std::mt19937_64 rng(6);
    for (const auto& backend : backends) {
        CAPTURE(std::string(backend->name()));
        REQUIRE(backend->availability().usable);
        for (int i = 0; i < 40; ++i) {
            const gpusum::Range r = ref::random_range(rng, 5000);
            const auto chunks = rng() % 64 + 1;
            const auto result = backend->sum(request_for(r, 3, chunks));
            CHECK(gpusum::to_string(result.sum) == gpusum::to_string(ref::naive_sum(r)));
            CHECK(result.chunks == gpusum::effective_chunks(gpusum::element_count(r), chunks));
            CHECK(result.retried_chunks == 0);
        }
    }
}

TEST_CASE("backends handle the empty range and a total beyond 64 bits") {
    const gpusum::BackendList backends = cpu_backends();
    for (const auto& backend : backends) {
        CAPTURE(std::string(backend->name()));
        CHECK(backend->sum(request_for({5, 5, 1}, 2, 100)).sum == 0);
        const gpusum::Range big{INT64_MAX - 5000, INT64_MAX, 3};
        CHECK(backend->sum(request_for(big, 2, 7)).sum == ref::naive_sum(big));
    }
}

TEST_CASE("progress counts every element once") {
    const gpusum::BackendList backends = cpu_backends();
    for (const auto& backend : backends) {
        gpusum::Progress progress(12345, false);
        auto request = request_for({0, 12345, 1}, 2, 10);
        request.progress = &progress;
        backend->sum(request);
        CHECK(progress.done() == 12345);
    }
}

TEST_CASE("auto picks serial for small ranges and threads for large ones, with reasons") {
    const gpusum::BackendList backends = cpu_backends();
    auto small = gpusum::plan_auto(backends, request_for({0, 1000, 1}, 4, 100));
    REQUIRE_FALSE(small.candidates.empty());
    CHECK(small.candidates.front().backend->name() == "serial");
    CHECK(small.candidates.front().reason.find("threshold") != std::string::npos);

    auto large = gpusum::plan_auto(backends, request_for({0, 1'000'000'000, 1}, 4, 100));
    REQUIRE(large.candidates.size() == 3);
    CHECK(large.candidates[0].backend->name() == "threads");
    CHECK(large.candidates[1].backend->name() == "process");
    CHECK(large.candidates[2].backend->name() == "serial");

    auto single = gpusum::plan_auto(backends, request_for({0, 1'000'000'000, 1}, 1, 100));
    CHECK(single.candidates.front().backend->name() == "serial");

    // Arrays by their bytes: 3 * 2^20 int64 (24 MiB) is the threshold; never read here.
    constexpr std::uint64_t kThreshold = std::uint64_t{3} << 20;
    for (const std::uint64_t count : {kThreshold - 1, kThreshold}) {
        auto request = request_for({0, 1, 1}, 4, 100);
        request.array = gpusum::ArrayView{nullptr, count, gpusum::DType::int64};
        const auto plan = gpusum::plan_auto(backends, request);
        REQUIRE_FALSE(plan.candidates.empty());
        CAPTURE(count);
        CHECK(plan.candidates.front().backend->name() ==
              (count < kThreshold ? "serial" : "threads"));
    }
    // Gathered views by their elements: 2^19 is the threshold.
    const gpusum::Layout gaps{{std::uint64_t{1} << 20}, {16}, false};
    for (const std::uint64_t count : {(std::uint64_t{1} << 19) - 1, std::uint64_t{1} << 19}) {
        auto request = request_for({0, 1, 1}, 4, 100);
        request.array = gpusum::ArrayView{nullptr, count, gpusum::DType::int64, &gaps};
        const auto plan = gpusum::plan_auto(backends, request);
        REQUIRE_FALSE(plan.candidates.empty());
        CAPTURE(count);
        CHECK(plan.candidates.front().backend->name() ==
              (count < (std::uint64_t{1} << 19) ? "serial" : "threads"));
    }
}

namespace {
// Stands in for a GPU backend so the dispatcher's GPU policy runs on any machine.
class FakeGpu final : public gpusum::Backend {
  public:
    FakeGpu(bool usable, bool fails) : usable_(usable), fails_(fails) {}
    std::string_view name() const override { return "cuda"; }
    std::string_view summary() const override { return "test double"; }
    gpusum::Availability availability() const override {
        return {usable_, usable_ ? "fake device" : "no CUDA device found"};
    }
    gpusum::Result sum(const gpusum::Request& r) override {
        if (fails_) throw gpusum::BackendError("cudaMalloc: cudaErrorMemoryAllocation");
        gpusum::Result result;
        result.sum = gpusum::sum_series(r.series);
        return result;
    }

  private:
    bool usable_;
    bool fails_;
};

gpusum::BackendList with_fake_gpu(bool usable, bool fails) {
    gpusum::BackendList list = cpu_backends();
    list.push_back(std::make_unique<FakeGpu>(usable, fails));
    return list;
}
}  // namespace

TEST_CASE("auto prefers a usable GPU for large ranges and says why it skipped one") {
    const auto big = request_for({0, INT64_MAX, 1}, 4, 100);
    const auto usable_gpu = with_fake_gpu(true, false);
    const auto no_gpu = with_fake_gpu(false, false);
    const auto gpu = gpusum::plan_auto(usable_gpu, big);
    CHECK(gpu.candidates.front().backend->name() == "cuda");
    CHECK(gpu.candidates.front().reason.find("GPU threshold") != std::string::npos);
    CHECK(gpu.candidates.back().backend->name() == "serial");

    const auto small = gpusum::plan_auto(usable_gpu, request_for({0, 1000, 1}, 4, 100));
    CHECK(small.candidates.front().backend->name() == "serial");
    REQUIRE(small.skipped.size() == 1);
    CHECK(small.skipped.front().find("below the GPU threshold") != std::string::npos);

    auto array_request = big;
    const std::int64_t one = 1;
    array_request.array =
        gpusum::ArrayView{reinterpret_cast<const unsigned char*>(&one), 1, gpusum::DType::int64};
    const auto arrays = gpusum::plan_auto(usable_gpu, array_request);
    CHECK(arrays.candidates.front().backend->name() == "serial");
    CHECK(arrays.skipped.front().find("host memory") != std::string::npos);

    const auto none = gpusum::plan_auto(no_gpu, big);
    CHECK(none.candidates.front().backend->name() == "threads");
    REQUIRE(none.skipped.size() == 1);
    CHECK(none.skipped.front() == "cuda: no CUDA device found");
}

TEST_CASE("a GPU failing mid-run falls back to the CPU with the reason, still exact") {
    gpusum::Job job;
    job.range = {0, static_cast<std::int64_t>(gpusum::kGpuThreshold) + 1000, 1};
    job.workers = 2;
    const auto out = gpusum::run_job(with_fake_gpu(true, true), job);
    CHECK(out.backend == "threads");
    CHECK(out.verified);
    REQUIRE(out.notes.size() == 1);
    CHECK(out.notes.front() == "cuda failed: cudaMalloc: cudaErrorMemoryAllocation");

    job.backend = "cuda";  // asked for explicitly: no fallback, a clear error
    CHECK_THROWS_WITH_AS(gpusum::run_job(with_fake_gpu(true, true), job),
                         "backend 'cuda' failed: cudaMalloc: cudaErrorMemoryAllocation",
                         gpusum::Unavailable);
}

TEST_CASE("run_job verifies, repeats and reports the chosen backend") {
    const gpusum::BackendList backends = gpusum::all_backends();
    gpusum::Job job;
    job.range = {-5, 100'000'000, 3};
    job.workers = 2;
    job.repeat = 3;
    const auto out = gpusum::run_job(backends, job);
    CHECK(out.backend == "threads");
    CHECK(out.verified);
    CHECK(out.totals.size() == 3);
    CHECK(out.min_total() <= out.median_total());
    CHECK(out.median_total() <= out.max_total());
    CHECK(out.result.sum == out.expected);

    job.backend = "no-such";
    CHECK_THROWS_AS(gpusum::run_job(backends, job), gpusum::Unavailable);
}

TEST_CASE("compare runs every backend on the same job") {
    const gpusum::BackendList backends = gpusum::all_backends();
    gpusum::Job job;
    job.range = {0, 10'000'000, 1};
    job.workers = 2;
    const auto c = gpusum::compare_backends(backends, job);
    std::size_t usable = 0;
    for (const auto& b : backends) usable += b->availability().usable;
    CHECK(c.runs.size() == usable);
    CHECK(c.runs.size() + c.notes.size() == backends.size());
    for (const auto& o : c.runs) CHECK(o.verified);
}

TEST_CASE("any exception out of a backend becomes a BackendError, interruptions pass") {
    using gpusum::as_backend_error;
    using gpusum::BackendError;
    // What CUB and Thrust throw: thrust::system_error is a std::system_error,
    // thrust's bad_alloc a std::bad_alloc.
    CHECK_THROWS_WITH_AS(as_backend_error("thrust", [] { throw std::bad_alloc(); }),
                         "thrust: out of memory", BackendError);
    CHECK_THROWS_WITH_AS(as_backend_error("thrust",
                                          [] {
                                              throw std::system_error(
                                                  std::make_error_code(std::errc::io_error),
                                                  "transform_reduce failed");
                                          }),
                         doctest::Contains("thrust: transform_reduce failed"), BackendError);
    CHECK_THROWS_WITH_AS(as_backend_error("cub", [] { throw std::logic_error("odd"); }), "cub: odd",
                         BackendError);
    CHECK_THROWS_WITH_AS(as_backend_error("cuda", [] { throw BackendError("as it was"); }),
                         "as it was", BackendError);
    CHECK_THROWS_AS(as_backend_error("cuda", [] { throw gpusum::Interrupted(2); }),
                    gpusum::Interrupted);
    CHECK(as_backend_error("cuda", [] { return 42; }) == 42);
}

#ifdef _WIN32
SKIPPED_TEST_CASE(
    "a stop signal during a run is seen between units of work, then the old handler is back",
    "stop requests arrive on Windows as console events, not signals raised in the process")
SKIPPED_TEST_CASE(
    "runs on many threads at once leave the caller's handlers installed after the last",
    NO_POSIX_SIGNALS)
#else
TEST_CASE(
    "a stop signal during a run is seen between units of work, then the old handler is back") {
    struct sigaction before {};
    ::sigaction(SIGINT, nullptr, &before);
    {
        const gpusum::StopSignals stop_signals;
        CHECK_NOTHROW(gpusum::throw_if_stopped());
        ::raise(SIGINT);  // would end the test binary without the guard
        CHECK(gpusum::stop_signal() == SIGINT);
        try {
            gpusum::throw_if_stopped();
            FAIL("no Interrupted");
        } catch (const gpusum::Interrupted& e) {
            CHECK(e.signal == SIGINT);
        }
    }
    struct sigaction after {};
    ::sigaction(SIGINT, nullptr, &after);
    CHECK(reinterpret_cast<void*>(after.sa_handler) == reinterpret_cast<void*>(before.sa_handler));
}

namespace {

extern "C" void sentinel_handler(int) {}

// The handler now installed for `signo`.
void* handler_of(int signo) {
    struct sigaction now {};
    ::sigaction(signo, nullptr, &now);
    return reinterpret_cast<void*>(now.sa_handler);
}

}  // namespace

TEST_CASE("runs on many threads at once leave the caller's handlers installed after the last") {
    // Each StopSignals once saved and restored the handlers it found, so
    // overlapping runs restored each other's and left gpusum's installed.
    struct sigaction sentinel {
    }, before[3]{};
    sentinel.sa_handler = sentinel_handler;
    sigemptyset(&sentinel.sa_mask);
    const int signals[] = {SIGINT, SIGTERM, SIGCONT};
    for (int i = 0; i < 3; ++i) ::sigaction(signals[i], &sentinel, &before[i]);
    std::vector<std::thread> threads;
    threads.reserve(8);
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([t] {
            for (int round = 0; round < 2000; ++round) {
                const gpusum::StopSignals outer;
                if ((round + t) % 3 == 0) const gpusum::StopSignals nested;
                if (round % 100 == 0) std::this_thread::yield();
            }
        });
    {
        // Held while forking: the child starts with the caller's handlers.
        const gpusum::StopSignals held;
        CHECK(handler_of(SIGINT) != reinterpret_cast<void*>(sentinel_handler));
        const pid_t child = ::fork();
        if (child == 0) {
            const bool restored = handler_of(SIGINT) == reinterpret_cast<void*>(sentinel_handler) &&
                                  handler_of(SIGTERM) == reinterpret_cast<void*>(sentinel_handler);
            ::_exit(restored ? 0 : 1);
        }
        int status = 0;
        REQUIRE(::waitpid(child, &status, 0) == child);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
    for (auto& thread : threads) thread.join();
    for (const int signo : signals) {
        CAPTURE(signo);
        CHECK(handler_of(signo) == reinterpret_cast<void*>(sentinel_handler));
    }
    for (int i = 0; i < 3; ++i) ::sigaction(signals[i], &before[i], nullptr);
}

#endif

namespace {
// A CPU backend whose in-cache check is tampered with after the run: a chunk
// lost, one read twice, one misplaced, or a fast loop that added wrongly.
enum class Fault { none, lost_chunk, doubled_chunk, misplaced_chunk, wrong_sum };

class Tampered final : public gpusum::Backend {
  public:
    explicit Tampered(Fault fault) : fault_(fault) {}
    std::string_view name() const override { return "threads"; }
    std::string_view summary() const override { return "test double"; }
    gpusum::Availability availability() const override { return {true, "test"}; }
    gpusum::Result sum(const gpusum::Request& r) override {
        gpusum::Result result = real_->sum(r);
        REQUIRE(result.in_cache_check);
        auto& walked = result.in_cache_check->walked;
        const auto half = r.array->count / 2;
        switch (fault_) {
            case Fault::none:
                break;
            case Fault::lost_chunk:  // the check never saw the second half
                walked = {{0, half}};
                break;
            case Fault::doubled_chunk:  // the first half walked twice
                walked = {{0, half}, {0, half}, {half, r.array->count - half}};
                break;
            case Fault::misplaced_chunk:  // the second half read from one element on
                walked = {{0, half}, {half + 1, r.array->count - half}};
                break;
            case Fault::wrong_sum:
                result.sum += 1;
                break;
        }
        return result;
    }

  private:
    Fault fault_;
    std::unique_ptr<gpusum::Backend> real_ = gpusum::make_threads_backend();
};
}  // namespace

TEST_CASE("integer arrays are checked in cache, and a lost, doubled or misplaced chunk is caught") {
    std::vector<std::int32_t> values(3'000'017);
    for (std::size_t i = 0; i < values.size(); ++i)
        values[i] = static_cast<std::int32_t>(i * 2654435761U);
    gpusum::Job job;
    job.array = gpusum::ArrayView{reinterpret_cast<const unsigned char*>(values.data()),
                                  values.size(), gpusum::DType::int32};
    job.workers = 2;
    job.chunks = 7;  // several blocks of the check to a chunk
    job.backend = "threads";
    for (const Fault fault : {Fault::none, Fault::lost_chunk, Fault::doubled_chunk,
                              Fault::misplaced_chunk, Fault::wrong_sum}) {
        CAPTURE(static_cast<int>(fault));
        gpusum::BackendList backends;
        backends.push_back(std::make_unique<Tampered>(fault));
        const gpusum::Outcome out = gpusum::run_job(backends, job);
        CHECK(out.check.find("in cache") != std::string::npos);
        CHECK(out.verified == (fault == Fault::none));
        CHECK(out.check_seconds == 0);
    }
    // The cover proof itself.
    CHECK(gpusum::tiles({{5, 5}, {0, 5}}, 10));
    CHECK_FALSE(gpusum::tiles({{0, 5}, {6, 4}}, 10));
    CHECK_FALSE(gpusum::tiles({{0, 6}, {5, 5}}, 10));
    CHECK_FALSE(gpusum::tiles({{0, 5}}, 10));
    CHECK_FALSE(gpusum::tiles({{0, 10}, {10, 1}}, 10));
    CHECK(gpusum::tiles({}, 0));
}

TEST_CASE("the threads backend's latch wakes every waiter, round after round") {
    // libstdc++ 12's std::latch lost wake-ups on MinGW: such a loop hung.
    for (int round = 0; round < 2000; ++round) {
        gpusum::Latch ready(2);
        gpusum::Latch go(1);
        std::atomic<int> started{0};
        std::vector<std::thread> helpers;
        helpers.reserve(2);
        for (int t = 0; t < 2; ++t)
            helpers.emplace_back([&] {
                ready.count_down();
                go.wait();
                ++started;
            });
        ready.wait();
        go.count_down();
        for (auto& h : helpers) h.join();
        REQUIRE(started == 2);
    }
}
