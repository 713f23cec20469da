#include "stop_signals.hpp"

#include "gpusum/backend.hpp"

namespace gpusum {
namespace {

volatile sig_atomic_t g_stop_signal = 0;
volatile sig_atomic_t g_continued = 0;

extern "C" void on_stop_signal(int signo) {
    g_stop_signal = signo;
}

extern "C" void on_continue(int) {
    g_continued = g_continued + 1;
}

}  // namespace

StopSignals::StopSignals() {
    g_stop_signal = 0;
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &old_int_);
    ::sigaction(SIGTERM, &action, &old_term_);
    struct sigaction resumed {};
    resumed.sa_handler = on_continue;
    sigemptyset(&resumed.sa_mask);
    ::sigaction(SIGCONT, &resumed, &old_cont_);
}

StopSignals::~StopSignals() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    ::sigaction(SIGCONT, &old_cont_, nullptr);
}

int continued_count() noexcept {
    return g_continued;
}

int stop_signal() noexcept {
    return g_stop_signal;
}

void throw_if_stopped() {
    if (const int signo = stop_signal(); signo != 0) throw Interrupted(signo);
}

}  // namespace gpusum
