// SIGINT and SIGTERM during a run (on Windows: Ctrl-C, and Ctrl-Break or
// closing the console, reported as those two): routed to a flag that
// long-running backends poll between units of work (pool results, GPU slices
// and pieces), so they stop their workers or devices and unwind with
// Interrupted. SIGCONT is counted, so deadlines can be restarted after the
// process was stopped.
//
// The handlers have one owner in the process: the first StopSignals alive
// installs them, the last one to end restores what was there before, under a
// lock, so runs on several threads (a Python program's) cannot leave them
// installed. A child forked meanwhile gets the earlier handlers back.
#pragma once

namespace gpusum {

// Holds the flag-setting handlers installed for its lifetime.
class StopSignals {
  public:
    StopSignals();
    ~StopSignals();
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;
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
