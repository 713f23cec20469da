// A progress bar on stderr for long runs. Backends only call advance(); the
// bar draws itself from its own thread, and only when it was enabled (stderr
// is a terminal, output is not JSON) and the run has lasted over a second.
// If no thread can be started the run goes on without a bar.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace gpusum {

// The text of one redraw for a terminal `columns` wide (exposed for tests).
std::string progress_line(std::string_view phase, double fraction, double elapsed, bool measured,
                          int columns);

// A stream's line: bytes so far and the rate, with the bar and the time
// left when the stream's length is known (`total` > 0).
std::string stream_progress_line(std::string_view phase, std::uint64_t bytes, std::uint64_t total,
                                 double elapsed, int columns);

class Progress {
  public:
    enum class Unit { elements, bytes };
    // `phase` names what is counted ("sum", "fill", "check"). Elements are
    // drawn as a fraction of `total`; bytes (streams) as an amount and a
    // rate, of a `total` that may be 0, unknown.
    Progress(std::uint64_t total, bool enabled, std::string_view phase = "sum",
             Unit unit = Unit::elements);
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    void advance(std::uint64_t elements) noexcept {
        done_.fetch_add(elements, std::memory_order_relaxed);
    }
    std::uint64_t done() const noexcept { return done_.load(std::memory_order_relaxed); }

  private:
    void draw_loop();

    std::uint64_t total_;
    std::string phase_;
    Unit unit_;
    std::atomic<std::uint64_t> done_{0};
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread drawer_;
};

}  // namespace gpusum
