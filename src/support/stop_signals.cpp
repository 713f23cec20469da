#include "support/stop_signals.hpp"

#include <pthread.h>
#include <signal.h>

#include <mutex>

#include "gpusum/errors.hpp"

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

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGCONT};

// The process-wide owner: how many StopSignals are alive, and the handlers
// that were there before the first.
struct Owner {
    std::mutex lock;
    unsigned holders = 0;
    struct sigaction before[3] = {};

    void install() {
        g_stop_signal = 0;
        for (int i = 0; i < 3; ++i) {
            struct sigaction action {};
            action.sa_handler = kSignals[i] == SIGCONT ? on_continue : on_stop_signal;
            sigemptyset(&action.sa_mask);
            ::sigaction(kSignals[i], &action, &before[i]);
        }
    }
    void restore() {
        for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &before[i], nullptr);
    }
};

Owner& owner() {
    // Never destroyed: a run may end on another thread during exit.
    static Owner* const instance = [] {
        auto* o = new Owner;
        // A fork while a run holds the handlers: the lock is held across
        // fork, and the child, which runs no sum, gets the earlier handlers.
        ::pthread_atfork([] { owner().lock.lock(); }, [] { owner().lock.unlock(); },
                         [] {
                             Owner& o = owner();
                             if (o.holders > 0) o.restore();
                             o.holders = 0;
                             o.lock.unlock();
                         });
        return o;
    }();
    return *instance;
}

}  // namespace

StopSignals::StopSignals() {
    Owner& o = owner();
    const std::lock_guard<std::mutex> held(o.lock);
    if (o.holders++ == 0) o.install();
}

StopSignals::~StopSignals() {
    Owner& o = owner();
    const std::lock_guard<std::mutex> held(o.lock);
    if (--o.holders == 0) o.restore();
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
