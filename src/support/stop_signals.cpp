#include "support/stop_signals.hpp"

#include <atomic>
#include <mutex>

#include "gpusum/errors.hpp"
#include "platform/platform.hpp"

namespace gpusum {
namespace {

// Lock-free atomics: safe to write in a signal handler.
std::atomic<int> g_stop_signal{0};
std::atomic<int> g_continued{0};

void on_stop_request(int signo) {
    g_stop_signal.store(signo, std::memory_order_relaxed);
}

void on_continue() {
    g_continued.fetch_add(1, std::memory_order_relaxed);
}

// The process-wide owner: how many StopSignals are alive (the first
// installs the handlers, the last puts back what was there before).
struct Owner {
    std::mutex lock;
    unsigned holders = 0;

    static void install() {
        g_stop_signal = 0;
        platform::catch_stop_requests(on_stop_request, on_continue);
    }
    static void restore() { platform::release_stop_requests(); }
};

Owner& owner() {
    // Never destroyed: a run may end on another thread during exit.
    static Owner* const instance = [] {
        auto* o = new Owner;
        // A fork while a run holds the handlers: the lock is held across
        // fork, and the child, which runs no sum, gets the earlier handlers.
        platform::around_fork([] { owner().lock.lock(); }, [] { owner().lock.unlock(); },
                              [] {
                                  Owner& o = owner();
                                  if (o.holders > 0) Owner::restore();
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
    if (o.holders++ == 0) Owner::install();
}

StopSignals::~StopSignals() {
    Owner& o = owner();
    const std::lock_guard<std::mutex> held(o.lock);
    if (--o.holders == 0) Owner::restore();
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
