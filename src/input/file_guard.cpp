#include "input/file_guard.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>

#include "platform/platform.hpp"

namespace gpusum {

namespace {

// Written before the handler is installed and only read in it.
char g_message[1024];
std::size_t g_length = 0;
std::string g_text;
std::atomic<bool> g_quiet{false};
bool g_clear_line = false;  // stderr is a terminal: a progress bar may be on it

std::atomic_flag g_reporting = ATOMIC_FLAG_INIT;

void on_file_fault() {
    // Several threads may fault at once: one reports and ends the process,
    // the others wait for that end (a lock-free flag is async-signal-safe).
    if (g_reporting.test_and_set()) platform::wait_for_exit();
    if (!g_quiet) {
        // Clears a progress bar, then the one line; both async-signal-safe.
        if (g_clear_line) platform::write_stderr("\r\033[K", 4);
        platform::write_stderr(g_message, g_length);
        platform::exit_now(2);
    }
    platform::exit_now(kFileChangedExit);
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
    g_clear_line = platform::is_terminal(2);
    std::memcpy(g_message, line.data(), g_length);
    platform::catch_file_faults(on_file_fault);
}

FileGuard::~FileGuard() {
    platform::release_file_faults();
}

void quiet_file_faults() {
    g_quiet = true;
}

}  // namespace gpusum
