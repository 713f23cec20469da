// The gpusum command under faults, run as a user would: workers killed,
// stopped or hung, signals, closed pipes and full disks, memory, process and
// file-descriptor limits, a parent killed outright. (fault_test.cpp holds the
// same faults injected into the library.)
#include <doctest/doctest.h>
#ifndef _WIN32
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "helpers/npy_writer.hpp"
#include "helpers/platform_skip.hpp"
#include "helpers/process_table.hpp"
#include "helpers/reference.hpp"
#include "helpers/spawn.hpp"

using gpusum::testing::alive;
using gpusum::testing::children_of;
using spawn::finish;
using spawn::Finished;
using spawn::Launch;
using spawn::lines;
using spawn::Process;
using spawn::run;
using spawn::start;

namespace {

// Waits until the pool has started its workers.
auto wait_for_workers(decltype(Process::pid) parent, std::size_t n) -> decltype(children_of(0)) {
    for (int i = 0; i < 500; ++i) {
        auto c = children_of(parent);
        if (c.size() >= n) return c;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return {};
}

}  // namespace

TEST_CASE("process pool: a worker killed mid-run is retried and the answer stays exact") {
    // About a second of work spread over many chunks, so the kill lands mid-run.
    Process p = start(
        {"--backend", "process", "--workers", "2", "--chunks", "2000", "--stop", "3e10", "--json"});
    const auto workers = wait_for_workers(p.pid, 2);
    REQUIRE(workers.size() == 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    gpusum::testing::kill_process(workers[0]);
    const Finished f = finish(p);
    REQUIRE(f.code == 0);
    const auto j = nlohmann::json::parse(f.out);
    CHECK(j["verified"] == true);
    CHECK(j["retried_chunks"].get<int>() >= 1);
}

#ifdef _WIN32
SKIPPED_TEST_CASE("process pool: SIGINT and SIGTERM end every worker within a second",
                  NO_CONSOLE_EVENTS)
SKIPPED_TEST_CASE("serial and threads end on SIGINT and SIGTERM with the message and the exit code",
                  NO_CONSOLE_EVENTS)
SKIPPED_TEST_CASE(
    "process pool: stopped and continued as a whole (Ctrl-Z, fg), no worker is blamed",
    "Windows cannot stop and continue a process")
SKIPPED_TEST_CASE("process pool: a stopped worker is replaced after --chunk-timeout",
                  "Windows cannot stop a process (SIGSTOP); the unit tests time out hung workers")
SKIPPED_TEST_CASE("a report that cannot be written is an error, a closed pipe is no crash",
                  "Windows has no /dev/full and no SIGPIPE")
SKIPPED_TEST_CASE("out of memory is a message and exit 2, never an abort (ulimit -v)", NO_RLIMITS)
SKIPPED_TEST_CASE("an endless stream is summed in bounded memory until it is stopped (ulimit -v)",
                  NO_RLIMITS)
SKIPPED_TEST_CASE("a stream whose writer sends nothing ends on SIGINT within a second",
                  NO_CONSOLE_EVENTS)
SKIPPED_TEST_CASE("a process limit: --backend process exits 3 with the reason, auto still answers",
                  NO_RLIMITS)
SKIPPED_TEST_CASE("a file-descriptor limit: the process pool runs with the workers it can start",
                  NO_RLIMITS)
#else
TEST_CASE("process pool: SIGINT and SIGTERM end every worker within a second") {
    struct Stop {
        int signal;
        int code;
    };
    for (const Stop stop : {Stop{SIGINT, 130}, Stop{SIGTERM, 143}}) {
        CAPTURE(stop.signal);
        Process p = start({"--backend", "process", "--workers", "2", "--stop", "1e13"});
        const auto workers = wait_for_workers(p.pid, 2);
        REQUIRE(workers.size() == 2);
        const auto sent = std::chrono::steady_clock::now();
        ::kill(p.pid, stop.signal);
        const Finished f = finish(p);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
        CHECK(f.code == stop.code);
        CHECK(seconds < spawn::seconds_to_stop());
        CHECK(f.out.empty());  // nothing printed as if it were a result
        CHECK(f.err.find("interrupted; all workers stopped") != std::string::npos);
        for (pid_t w : workers) CHECK_FALSE(alive(w));
    }
}

TEST_CASE("serial and threads end on SIGINT and SIGTERM with the message and the exit code") {
    for (const char* backend : {"serial", "threads"}) {
        for (const auto& stop : {std::pair{SIGINT, 130}, std::pair{SIGTERM, 143}}) {
            const int signal = stop.first, code = stop.second;
            CAPTURE(std::string(backend));
            CAPTURE(signal);
            // Years of work in two chunks: the signal is seen inside a chunk.
            Process p =
                start({"--backend", backend, "--workers", "2", "--stop", "9e18", "--chunks", "2"});
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            const auto sent = std::chrono::steady_clock::now();
            ::kill(p.pid, signal);
            const Finished f = finish(p);
            const double seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
            CHECK(f.code == code);
            CHECK(seconds < spawn::seconds_to_stop());
            CHECK(f.out.empty());
            CHECK(f.err.find("interrupted") != std::string::npos);
            // Said before the run started: how long it would have taken.
            CHECK(f.err.find("gpusum: warning: this run adds 9 E elements") == 0);
            CHECK(f.err.find("years") != std::string::npos);
            CHECK(lines(f.err) == 2);
        }
    }
}

TEST_CASE("process pool: stopped and continued as a whole (Ctrl-Z, fg), no worker is blamed") {
    // Chunks of 5e7 elements (milliseconds each) with a 1 s deadline; the
    // whole job is stopped for 2.5 s, longer than the deadline.
    Process p = start({"--backend", "process", "--workers", "2", "--stop", "5e10", "--chunks",
                       "1000", "--chunk-timeout", "1", "--json"});
    const auto workers = wait_for_workers(p.pid, 2);
    REQUIRE(workers.size() == 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ::kill(p.pid, SIGSTOP);
    for (pid_t w : workers) ::kill(w, SIGSTOP);
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    for (pid_t w : workers) ::kill(w, SIGCONT);
    ::kill(p.pid, SIGCONT);
    const Finished f = finish(p);
    REQUIRE(f.code == 0);
    const auto j = nlohmann::json::parse(f.out);
    CHECK(j["verified"] == true);
    CHECK(j["retried_chunks"] == 0);
}

TEST_CASE("process pool: --repeat keeps one pool alive across the repetitions") {
    // Starting workers costs milliseconds; 3000 repetitions of a tiny range
    // with a pool each would take minutes, with one pool they take seconds.
    const Finished f = run(
        {"--backend", "process", "--workers", "2", "--stop", "1000", "--repeat", "3000", "--json"});
    REQUIRE(f.code == 0);
    const auto j = nlohmann::json::parse(f.out);
    CHECK(j["verified"] == true);
    CHECK(j["repeat"]["count"] == 3000);
    CHECK(j["details"]["pool"] == "workers kept from the previous run");
    CHECK(j["repeat"]["median"].get<double>() < 0.01);
}

TEST_CASE("process pool: a stopped worker is replaced after --chunk-timeout") {
    // ~1 ms chunks, so the 0.5 s deadline only catches the stopped worker
    // even on a loaded machine; about a second of work in all.
    Process p = start({"--backend", "process", "--workers", "2", "--chunks", "1000", "--stop",
                       "2e10", "--chunk-timeout", "0.5", "--json"});
    const auto workers = wait_for_workers(p.pid, 2);
    REQUIRE(workers.size() == 2);
    ::kill(workers[0], SIGSTOP);
    const Finished f = finish(p);
    REQUIRE(f.code == 0);
    const auto j = nlohmann::json::parse(f.out);
    CHECK(j["verified"] == true);
    CHECK(j["retried_chunks"].get<int>() >= 1);
    CHECK_FALSE(alive(workers[0]));
}

TEST_CASE("a report that cannot be written is an error, a closed pipe is no crash") {
    SUBCASE("a full device: exit 2 naming standard output") {
        if (!spawn::has_dev_full()) {
            MESSAGE("skipped: no /dev/full here");
            return;
        }
        Launch launch;
        launch.stdout_path = "/dev/full";
        Process p = start({"--stop", "1e6"}, launch);
        const Finished f = finish(p);
        CHECK(f.code == 2);
        CHECK(f.err.find("cannot write the report to standard output: No space left") !=
              std::string::npos);
        CHECK(lines(f.err) == 1);
    }
    SUBCASE("a reader that has gone: ended by SIGPIPE like any filter, nothing on stderr") {
        Launch launch;
        launch.stdout_reader_gone = true;
        Process p = start({"--stop", "1e6", "--json"}, launch);
        const Finished f = finish(p);
        CHECK(f.code == 128 + SIGPIPE);
        CHECK(f.err.empty());
    }
}

// Whether this build runs under AddressSanitizer, which reserves terabytes
// of address space and cannot start under an address-space limit.
constexpr bool kUnderAddressSanitizer =
#if defined(__SANITIZE_ADDRESS__)
    true;
#elif defined(__has_feature)
    __has_feature(address_sanitizer);
#else
    false;
#endif

TEST_CASE("out of memory is a message and exit 2, never an abort (ulimit -v)") {
    if (kUnderAddressSanitizer || !spawn::launcher().empty()) {
        MESSAGE("skipped: an address-space limit stops ASan and emulators before gpusum");
        return;
    }
    Launch launch;
    launch.in_child = [] {
        const rlimit small{std::uint64_t{768} << 20, std::uint64_t{768} << 20};
        ::setrlimit(RLIMIT_AS, &small);
    };
    for (const bool json : {false, true}) {
        // 1.6 GB of int64, more than the limit lets the process map.
        std::vector<std::string> args = {"--mode", "array", "--stop", "2e8"};
        if (json) args.emplace_back("--json");
        CAPTURE(json);
        const Finished f = run(args, launch);
        CHECK(f.code == 2);
        CHECK(lines(f.err) == 1);
        CHECK(f.err.find("memory") != std::string::npos);
        CHECK(f.out.empty());
    }
}

// The resident memory of a running process in bytes (Linux), or 0.
std::uint64_t resident_bytes(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    return 0;
}

TEST_CASE("an endless stream is summed in bounded memory until it is stopped (ulimit -v)") {
    Launch launch;
    launch.in_child = [] {
        const int zero = ::open("/dev/zero", O_RDONLY);
        int ends[2];
        if (zero < 0 || ::pipe(ends) != 0) ::_exit(126);
        // A pipe, fed from /dev/zero by a child of the child as fast as it can.
        if (::fork() == 0) {
            ::close(ends[0]);
            static char block[1 << 16];
            while (::read(zero, block, sizeof block) > 0 &&
                   ::write(ends[1], block, sizeof block) > 0) {
            }
            ::_exit(0);
        }
        ::dup2(ends[0], STDIN_FILENO);
        ::close(ends[1]);
        if (!kUnderAddressSanitizer && spawn::launcher().empty()) {
            const rlimit small{std::uint64_t{768} << 20, std::uint64_t{768} << 20};
            ::setrlimit(RLIMIT_AS, &small);
        }
    };
    for (const char* dtype : {"int8", "float64"}) {
        CAPTURE(dtype);
        Process p = start({"--input", "-", "--dtype", dtype}, launch);
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        const std::uint64_t rss = resident_bytes(p.pid);
        ::kill(p.pid, SIGTERM);
        const Finished f = finish(p);
        CHECK(f.code == 143);
        CHECK(f.out.empty());
        CHECK(f.err.find("interrupted") != std::string::npos);
        CHECK(lines(f.err) == 1);
#if defined(__linux__)
        if (!kUnderAddressSanitizer) CHECK(rss < std::uint64_t{300} << 20);
        CHECK(rss > 0);
#endif
    }
}

TEST_CASE("a stream whose writer sends nothing ends on SIGINT within a second") {
    Launch launch;
    launch.in_child = [] {
        int ends[2];
        if (::pipe(ends) != 0) ::_exit(126);
        ::dup2(ends[0], STDIN_FILENO);  // the write end stays open in gpusum itself: no end
    };
    for (const char* input : {"raw", "npy"}) {
        CAPTURE(input);
        std::vector<std::string> args = {"--input", "-"};
        if (std::string(input) == "raw") args.insert(args.end(), {"--dtype", "int64"});
        Process p = start(args, launch);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        const auto sent = std::chrono::steady_clock::now();
        ::kill(p.pid, SIGINT);
        const Finished f = finish(p);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
        CHECK(seconds < spawn::seconds_to_stop());
        CHECK(f.out.empty());
        CHECK(f.code == 130);
    }
}

TEST_CASE("a process limit: --backend process exits 3 with the reason, auto still answers") {
    // RLIMIT_NPROC binds only non-root users, so as root the child drops to
    // nobody first. A limit of one process means no fork and no new thread
    // on Linux; elsewhere (macOS) it counts processes, not threads.
#if !defined(__linux__)
    MESSAGE("skipped: RLIMIT_NPROC limits threads only on Linux");
    return;
#endif
    auto limited = [](const std::vector<std::string>& args) {
        Launch launch;
        launch.in_child = [] {
            const rlimit one{1, 1};
            ::setrlimit(RLIMIT_NPROC, &one);
            // LeakSanitizer's exit check needs a thread; this child cannot have one.
            ::setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
            if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(126);
        };
        return run(args, launch);
    };
    const Finished process = limited({"--backend", "process", "--stop", "1e8"});
    if (process.code == 126 || process.code == 127) {
        MESSAGE("skipped: cannot run gpusum as an unprivileged user here");
        return;
    }
    CHECK(process.code == 3);
    CHECK(process.out.empty());
    CHECK(process.err.find("backend 'process' failed: fork failed: Resource temporarily") !=
          std::string::npos);
    CHECK(lines(process.err) == 1);

    // Threads run with the threads they can start: here only the calling one.
    const Finished any = limited({"--stop", "1e8", "--workers", "2", "--json"});
    REQUIRE(any.code == 0);
    const auto j = nlohmann::json::parse(any.out);
    CHECK(j["verified"] == true);
    CHECK(j["backend"] == "threads");
    CHECK(j["workers"] == 1);
    CHECK(j["details"]["limited"].get<std::string>().find("2 workers asked, 1 started") !=
          std::string::npos);

    // With stderr a terminal the progress bar wants a thread it cannot have:
    // the run goes on without it.
    Launch terminal;
    terminal.in_child = [] {
        spawn::terminal_as(2);
        const rlimit one{1, 1};
        ::setrlimit(RLIMIT_NPROC, &one);
        ::setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
        if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(126);
    };
    const Finished serial = run({"--backend", "serial", "--stop", "1e8"}, terminal);
    if (serial.code == 125) {
        MESSAGE("skipped the terminal case: no pseudo-terminal here");
        return;
    }
    CHECK(serial.code == 0);
    CHECK(serial.out.find("verified    yes") != std::string::npos);
}

TEST_CASE("a file-descriptor limit: the process pool runs with the workers it can start") {
    Launch launch;
    launch.in_child = [] {
        const rlimit few{32, 32};
        ::setrlimit(RLIMIT_NOFILE, &few);
    };
    const Finished f = run(
        {"--backend", "process", "--workers", "60", "--stop", "1e8", "--chunks", "200", "--json"},
        launch);
    CAPTURE(f.err);
    REQUIRE(f.code == 0);
    const auto j = nlohmann::json::parse(f.out);
    CHECK(j["verified"] == true);
    CHECK(j["workers"].get<int>() >= 1);
    CHECK(j["workers"].get<int>() < 60);
    CHECK(j["details"]["limited"].get<std::string>().find("60 workers asked") != std::string::npos);
    // No room for even one worker: exit 3 with the reason.
    Launch none;
    none.in_child = [] {
        const rlimit few{8, 8};
        ::setrlimit(RLIMIT_NOFILE, &few);
    };
    const Finished no_room = run({"--backend", "process", "--stop", "1e8"}, none);
    CHECK(no_room.code == 3);
    CHECK(no_room.err.find("RLIMIT_NOFILE") != std::string::npos);
}

#endif

TEST_CASE("process pool: no worker outlives a parent killed outright") {
    // Chunks of 2.5e12 elements, two queued on each worker: minutes of work,
    // so a worker gone within the bound was ended by the parent-death
    // guarantee, not by finishing its chunk and finding its socket closed.
    Process p =
        start({"--backend", "process", "--workers", "2", "--chunks", "4", "--stop", "1e13"});
    const auto workers = wait_for_workers(p.pid, 2);
    REQUIRE(workers.size() == 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // both summing
    gpusum::testing::kill_process(p.pid);
    // Reaped, not read to the end: an orphan would hold the pipes open.
#ifdef _WIN32
    ::WaitForSingleObject(p.process, INFINITE);
    ::CloseHandle(p.process);
    ::CloseHandle(p.out);
    ::CloseHandle(p.err);
#else
    ::waitpid(p.pid, nullptr, 0);
    ::close(p.out);
    ::close(p.err);
#endif
    for (int i = 0; i < 400 && (alive(workers[0]) || alive(workers[1])); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    for (const auto w : workers) {
        CHECK_FALSE(alive(w));
        if (alive(w)) gpusum::testing::kill_process(w);  // an orphan: end it here
    }
}
