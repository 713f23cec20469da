// Test cases that need what Windows lacks (fork, POSIX signals, FIFOs,
// resource limits, /proc) keep their names there and say why they do not
// run. Under ctest (which sets GPUSUM_CTEST_SKIP) such a case ends with exit
// 77, which ctest counts and lists as skipped; run directly it passes with
// the reason printed.
#pragma once

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

namespace gpusum::testing {

inline void skip_test(const char* why) {
    std::printf("skipped on this platform: %s\n", why);
    if (std::getenv("GPUSUM_CTEST_SKIP") != nullptr) {
        std::fflush(nullptr);
        std::_Exit(77);
    }
}

}  // namespace gpusum::testing

#define SKIPPED_TEST_CASE(name, why)     \
    TEST_CASE(name) {                    \
        gpusum::testing::skip_test(why); \
    }

// The reasons, shared by the files that skip for them.
#define NO_POSIX_SIGNALS "Windows has no POSIX signals to send (SIGSTOP, SIGALRM, SIGUSR1, SIGBUS)"
#define NO_FORK "Windows cannot fork"
#define NO_RLIMITS "Windows has no resource limits to set (setrlimit)"
#define NO_FIFOS "Windows has no FIFOs (mkfifo)"
#define NO_CONSOLE_EVENTS                                                                     \
    "Ctrl-C and Ctrl-Break reach a Windows program through its console, which a test cannot " \
    "share with it here"
