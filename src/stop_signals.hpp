// SIGINT and SIGTERM during a run: routed to a flag that long-running
// backends poll between units of work (pool results, GPU slices and pieces),
// so they stop their workers or devices and unwind with Interrupted. SIGCONT
// is counted, so deadlines can be restarted after the process was stopped.
#pragma once

#include <signal.h>

namespace gpusum {

// Installs the flag-setting handlers for its lifetime; restores the old ones.
class StopSignals {
  public:
    StopSignals();
    ~StopSignals();
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

  private:
    struct sigaction old_int_ {};
    struct sigaction old_term_ {};
    struct sigaction old_cont_ {};
};

// How many times the process was continued (SIGCONT, e.g. `fg` after
// Ctrl-Z) while a StopSignals was installed: time spent stopped is no
// worker's fault.
int continued_count() noexcept;

// The signal that arrived while a StopSignals was installed, or 0.
int stop_signal() noexcept;

// Throws Interrupted if a stop signal arrived.
void throw_if_stopped();

}  // namespace gpusum
