// The process pool under faults: workers killed at random moments, workers
// stopped (hung), signal storms and short reads/writes. Every answer must be
// exact, every retry counted, and nothing left behind.
#include <doctest/doctest.h>
#ifndef _WIN32
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#endif

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "backends/cpu/cpu_backends.hpp"
#include "helpers/platform_skip.hpp"
#include "helpers/process_table.hpp"
#include "helpers/request.hpp"
#ifndef _WIN32
#include "backends/cpu/socket_io.hpp"
#endif

using gpusum::testing::child_processes;
using gpusum::testing::kill_process;
using gpusum::testing::open_fds;
using gpusum::testing::request_for;
using gpusum::testing::stop_process;

namespace {

unsigned stress_runs() {
    const char* text = std::getenv("GPUSUM_FAULT_RUNS");
    return text != nullptr ? static_cast<unsigned>(std::strtoul(text, nullptr, 10)) : 200;
}

#ifndef _WIN32
// A handler that does nothing, installed without SA_RESTART: every blocking
// call in the thread it hits returns EINTR.
extern "C" void ignore_signal(int) {}

void install_interrupting_handler(int signo) {
    struct sigaction action {};
    action.sa_handler = ignore_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(signo, &action, nullptr);
}

void restore_default(int signo) {
    ::signal(signo, SIG_DFL);
}
#endif

}  // namespace

TEST_CASE("fault stress: a random worker killed at a random moment in every run") {
    const unsigned runs = stress_runs();
    const auto seed = std::random_device{}();
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    const int fds_before = open_fds();
    unsigned kills = 0, wrong = 0, zombies = 0, miscounted = 0;
    std::uint64_t retried = 0;
    for (unsigned run = 0; run < runs; ++run) {
        const auto workers = static_cast<unsigned>(2 + rng() % 3);
        const std::uint64_t chunks = 4 + rng() % 61;
        const std::int64_t length = static_cast<std::int64_t>(rng() % (std::uint64_t{1} << 26));
        const std::int64_t start =
            static_cast<std::int64_t>(rng() % 2'000'000'000'000) - 1'000'000'000'000;
        const std::int64_t step = 1 + static_cast<std::int64_t>(rng() % 5);
        const gpusum::Range range{start, start + length * step, step};
        const std::uint64_t elements = gpusum::to_progression(range).count;
        // Dispatch reaches every chunk index at least once, so the kill always happens.
        const std::uint64_t kill_at = rng() % gpusum::effective_chunks(elements, chunks);
        const auto delay = std::chrono::microseconds(rng() % 500);
        std::uint64_t dispatches = 0;
        bool killed = false;
        gpusum::ProcessPoolOptions options;
        options.on_dispatch = [&](std::int64_t pid, std::uint64_t chunk) {
            ++dispatches;
            if (killed || chunk != kill_at) return;
            killed = true;
            // The worker is receiving, adding or replying while the parent waits.
            std::this_thread::sleep_for(delay);
            kills += kill_process(pid);
        };
        auto pool = gpusum::make_process_backend(options);
        const gpusum::Result result = pool->sum(request_for(range, workers, chunks));
        wrong += result.sum != gpusum::closed_form_sum(gpusum::to_progression(range));
        // Every chunk sent was either answered once or counted as retried.
        miscounted += dispatches != result.chunks + result.retried_chunks;
        retried += result.retried_chunks;
        zombies += static_cast<unsigned>(child_processes());
    }
    MESSAGE("fault stress: ", runs, " runs, ", kills, " workers killed, ", retried,
            " chunks retried, ", wrong, " wrong answers, ", zombies, " children left, ",
            open_fds() - fds_before, " fds leaked");
    CHECK(kills == runs);
    CHECK(wrong == 0);
    CHECK(miscounted == 0);
    CHECK(zombies == 0);
    CHECK(open_fds() == fds_before);
}

TEST_CASE("a stopped worker misses its chunk deadline, is killed and its chunk re-run") {
    const int fds_before = open_fds();
    bool stopped = false;
    gpusum::ProcessPoolOptions options;
    options.on_dispatch = [&](std::int64_t pid, std::uint64_t chunk) {
        if (chunk == 5 && !stopped) stopped = stop_process(pid);
    };
    auto pool = gpusum::make_process_backend(options);
    const gpusum::Range r{-5, 2'000'000'000, 3};
    gpusum::Request request = request_for(r, 2, 20);
    request.chunk_timeout = 0.25;
    const auto began = std::chrono::steady_clock::now();
    const gpusum::Result result = pool->sum(request);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    CHECK(stopped);
    CHECK(result.sum == gpusum::closed_form_sum(gpusum::to_progression(r)));
    CHECK(result.retried_chunks >= 1);
    CHECK(seconds >= 0.25);  // it waited for the deadline...
    CHECK(seconds < 2.0);    // ...and not much longer
    CHECK(child_processes() == 0);
    CHECK(open_fds() == fds_before);
}

TEST_CASE("the process pool re-runs the chunk of a worker killed mid-run") {
    const int fds_before = open_fds();
    int kills = 0;
    std::set<std::uint64_t> killed;
    gpusum::ProcessPoolOptions options;
    options.on_dispatch = [&](std::int64_t pid, std::uint64_t chunk) {
        // Kill the worker that was just given this chunk, the first time only.
        if (chunk % 10 == 3 && killed.insert(chunk).second) {
            kill_process(pid);
            ++kills;
        }
    };
    auto pool = gpusum::make_process_backend(options);
    // 10^8 elements a chunk: the worker is still adding when the kill lands.
    const gpusum::Range r{-123456789, 35'000'000'000, 7};
    const auto result = pool->sum(request_for(r, 2, 50));
    CHECK(result.sum == gpusum::closed_form_sum(gpusum::to_progression(r)));
    CHECK(kills == 5);
    // Chunks 3, 13, ..., 43 were re-run, with at most one chunk queued behind each.
    CHECK(result.retried_chunks >= 5);
    CHECK(result.retried_chunks <= 10);
    CHECK(child_processes() == 0);  // every worker reaped, none left as a zombie
    CHECK(open_fds() == fds_before);
}

TEST_CASE("a chunk whose every worker dies or hangs fails the run instead of looping") {
    enum { kKill, kStop };
    struct Fault {
        int fault;        // kKill or kStop
        const char* how;  // what the error says of the last worker
    };
#ifdef _WIN32
    // Ended by TerminateProcess(9), as kill_process does.
    const char* const killed = "exited with status 9";
#else
    const char* const killed = "killed by signal 9";
#endif
    const Fault faults[] = {{kKill, killed},
                            {kStop, "killed: no answer within its chunk deadline of 50"}};
    for (const Fault fault : faults) {
        CAPTURE(fault.how);
        gpusum::ProcessPoolOptions options;
        options.max_attempts_per_chunk = 3;
        options.on_dispatch = [&](std::int64_t pid, std::uint64_t chunk) {
            if (chunk != 1) return;
            if (fault.fault == kKill)
                kill_process(pid);
            else
                stop_process(pid);
        };
        auto pool = gpusum::make_process_backend(options);
        // Chunks of 10^9 elements (tens of ms): the signal lands before the answer.
        gpusum::Request request = request_for({0, 4'000'000'000, 1}, 2, 4);
        if (fault.fault == kStop) request.chunk_timeout = 0.05;  // else the default
        std::string message;
        try {
            pool->sum(request);
        } catch (const gpusum::BackendError& e) {
            message = e.what();
        }
        CAPTURE(message);
        // The front chunk of the worker takes the blame: 0 or 1.
        CHECK(message.find(std::string(" failed 3 times (last worker ") + fault.how) !=
              std::string::npos);
        CHECK(child_processes() == 0);
    }
}

TEST_CASE("a worker that fails to start is tried again, one that never starts fails the run") {
    const gpusum::Range r{3, 2'000'000'000, 1};
    SUBCASE("every other start fails once: the replacements still come, the sum is exact") {
        int starts = 0, refused = 0;
        bool killed = false;
        gpusum::ProcessPoolOptions options;
        options.before_start = [&] {
            // The first start of each worker fails, the second goes through.
            if (++starts % 2 == 1) {
                ++refused;
                throw gpusum::BackendError("no start this time");
            }
        };
        options.on_dispatch = [&](std::int64_t pid, std::uint64_t chunk) {
            if (chunk == 3 && !killed) killed = kill_process(pid);
        };
        auto pool = gpusum::make_process_backend(options);
        const gpusum::Result result = pool->sum(request_for(r, 2, 20));
        CHECK(killed);
        CHECK(result.sum == gpusum::closed_form_sum(gpusum::to_progression(r)));
        CHECK(result.workers == 2);
        CHECK(refused == 3);  // two workers and one replacement, each refused once
        CHECK(child_processes() == 0);
    }
    SUBCASE("no start ever succeeds: the run fails with the reason after three tries") {
        int tries = 0;
        gpusum::ProcessPoolOptions options;
        options.before_start = [&] {
            ++tries;
            throw gpusum::BackendError("no start at all");
        };
        auto pool = gpusum::make_process_backend(options);
        CHECK_THROWS_WITH_AS(pool->sum(request_for(r, 2, 20)), "no start at all",
                             gpusum::BackendError);
        CHECK(tries == 3);
    }
}

TEST_CASE("the default chunk deadline grows with the chunk") {
    CHECK(gpusum::default_chunk_timeout(0) == doctest::Approx(10));
    CHECK(gpusum::default_chunk_timeout(1'000'000'000) == doctest::Approx(110));
    // The default 1e9 job in 100 chunks runs ~1 ms a chunk; its deadline is 11 s.
    CHECK(gpusum::default_chunk_timeout(10'000'000) == doctest::Approx(11));
}

#ifdef _WIN32
SKIPPED_TEST_CASE("the pool stays exact under a storm of interrupting signals", NO_POSIX_SIGNALS)
SKIPPED_TEST_CASE("socket messages survive partial transfers and EINTR",
                  "Windows workers speak over pipes, without EINTR")
#else
TEST_CASE("the pool stays exact under a storm of interrupting signals") {
    // SIGALRM every 100 us without SA_RESTART: poll, send and recv in the
    // parent keep failing with EINTR and must carry on.
    install_interrupting_handler(SIGALRM);
    itimerval storm{{0, 100}, {0, 100}};
    ::setitimer(ITIMER_REAL, &storm, nullptr);
    auto pool = gpusum::make_process_backend();
    int wrong = 0;
    for (std::int64_t i = 0; i < 20; ++i) {
        const gpusum::Range r{-i * 1'000'003, 300'000'000 + i, 1 + i % 3};
        wrong += pool->sum(request_for(r, 3, 97)).sum !=
                 gpusum::closed_form_sum(gpusum::to_progression(r));
    }
    itimerval off{};
    ::setitimer(ITIMER_REAL, &off, nullptr);
    restore_default(SIGALRM);
    CHECK(wrong == 0);
    CHECK(child_processes() == 0);
}

TEST_CASE("socket messages survive partial transfers and EINTR") {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    install_interrupting_handler(SIGUSR1);

    SUBCASE("a message arriving one byte at a time, the reader interrupted throughout") {
        const std::string message = "0123456789abcdef0123456789abcdef01234567";
        const pthread_t reader = ::pthread_self();
        std::atomic<bool> done{false};
        std::thread writer([&] {
            for (char c : message) {
                ::pthread_kill(reader, SIGUSR1);
                std::this_thread::sleep_for(std::chrono::microseconds(200));
                REQUIRE(::send(sv[1], &c, 1, 0) == 1);
            }
        });
        std::thread interrupter([&] {
            while (!done) {
                ::pthread_kill(reader, SIGUSR1);
                std::this_thread::sleep_for(std::chrono::microseconds(50));
            }
        });
        std::string received(message.size(), '\0');
        const bool ok = gpusum::receive_all(sv[0], received.data(), received.size());
        done = true;
        writer.join();
        interrupter.join();
        CHECK(ok);
        CHECK(received == message);
    }
    SUBCASE("a message larger than the socket buffer is sent whole") {
        int small = 4096;
        ::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        std::vector<unsigned char> sent(1 << 20);
        for (std::size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<unsigned char>(i * 7);
        std::vector<unsigned char> received;
        std::thread reader([&] {
            unsigned char buf[1000];
            while (received.size() < sent.size()) {
                const ssize_t n = ::recv(sv[1], buf, sizeof buf, 0);
                if (n <= 0) break;
                received.insert(received.end(), buf, buf + n);
            }
        });
        CHECK(gpusum::send_all(sv[0], sent.data(), sent.size()));
        reader.join();
        CHECK(received == sent);
    }
    SUBCASE("a peer gone mid-message is an error, not a hang or a signal") {
        const char half[3] = {1, 2, 3};
        REQUIRE(::send(sv[1], half, sizeof half, 0) == 3);
        ::close(sv[1]);
        sv[1] = -1;
        char whole[8];
        CHECK_FALSE(gpusum::receive_all(sv[0], whole, sizeof whole));
        CHECK_FALSE(gpusum::send_all(sv[0], whole, sizeof whole));  // EPIPE, no SIGPIPE
    }
    restore_default(SIGUSR1);
    ::close(sv[0]);
    if (sv[1] >= 0) ::close(sv[1]);
}
#endif
