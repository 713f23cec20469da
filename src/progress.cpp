#include "gpusum/progress.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace gpusum {

namespace {
constexpr auto kQuietPeriod = std::chrono::seconds(1);  // short runs draw nothing
constexpr auto kRedrawEvery = std::chrono::milliseconds(200);
constexpr int kBarWidth = 30;

void write_stderr(const std::string& text) {
    // Best effort: a progress bar that cannot be drawn is not an error.
    [[maybe_unused]] const auto n = ::write(STDERR_FILENO, text.data(), text.size());
}
}  // namespace

Progress::Progress(std::uint64_t total_elements, bool enabled) : total_(total_elements) {
    if (enabled && total_ > 0) drawer_ = std::thread([this] { draw_loop(); });
}

Progress::~Progress() {
    if (!drawer_.joinable()) return;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    drawer_.join();
}

void Progress::draw_loop() {
    const auto start = std::chrono::steady_clock::now();
    bool drawn = false;
    std::unique_lock lock(mutex_);
    if (!wake_.wait_for(lock, kQuietPeriod, [this] { return stopping_; })) {
        do {
            const double fraction = static_cast<double>(done()) / static_cast<double>(total_);
            const double elapsed =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const int filled = static_cast<int>(fraction * kBarWidth);
            const double eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0;
            char line[160];
            std::snprintf(line, sizeof line,
                          "\r  [%-*s] %5.1f%%  %.0f s elapsed, about %.0f s left ", kBarWidth,
                          std::string(static_cast<std::size_t>(filled), '#').c_str(),
                          100 * fraction, elapsed, eta);
            write_stderr(line);
            drawn = true;
        } while (!wake_.wait_for(lock, kRedrawEvery, [this] { return stopping_; }));
    }
    if (drawn) write_stderr("\r\033[K");
}

}  // namespace gpusum
