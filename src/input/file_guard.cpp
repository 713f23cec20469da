#include "input/file_guard.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>

namespace gpusum {

namespace {

// Written before the handler is installed and only read in it.
char g_message[1024];
std::size_t g_length = 0;
std::string g_text;
volatile sig_atomic_t g_quiet = 0;
bool g_clear_line = false;  // stderr is a terminal: a progress bar may be on it

std::atomic_flag g_reporting = ATOMIC_FLAG_INIT;

void on_bus_error(int) {
    // Several threads may fault at once: one reports and ends the process,
    // the others wait for that end (a lock-free flag is async-signal-safe).
    if (g_reporting.test_and_set()) {
        for (;;) ::pause();
    }
    if (g_quiet == 0) {
        // Clears a progress bar, then the one line; both async-signal-safe.
        if (g_clear_line) {
            [[maybe_unused]] const auto a = ::write(STDERR_FILENO, "\r\033[K", 4);
        }
        [[maybe_unused]] const auto b = ::write(STDERR_FILENO, g_message, g_length);
        ::_exit(2);
    }
    ::_exit(kFileChangedExit);
}

}  // namespace

std::string file_changed_message() {
    return g_text;
}

FileGuard::FileGuard(const std::string& file) {
    g_text = file + ": changed while being read (it shrank or was rewritten); no sum was reported";
    std::string line = "gpusum: ";
    line.append(g_text).append("\n");
    g_length = std::min(line.size(), sizeof g_message);
    g_clear_line = ::isatty(STDERR_FILENO) != 0;
    std::memcpy(g_message, line.data(), g_length);
    struct sigaction action {};
    action.sa_handler = on_bus_error;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGBUS, &action, &old_);
}

FileGuard::~FileGuard() {
    ::sigaction(SIGBUS, &old_, nullptr);
}

void quiet_file_faults() {
    g_quiet = 1;
}

}  // namespace gpusum
