#include "support/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <system_error>

namespace gpusum {

namespace {
constexpr auto kQuietPeriod = std::chrono::seconds(1);  // short runs draw nothing
constexpr auto kRedrawEvery = std::chrono::milliseconds(200);
constexpr int kMaxBarWidth = 30;

void write_stderr(const std::string& text) {
    // Best effort: a progress bar that cannot be drawn is not an error.
    [[maybe_unused]] const auto n = ::write(STDERR_FILENO, text.data(), text.size());
}

// Columns of the terminal on stderr, asked at every redraw (it may be resized).
int terminal_columns() {
    winsize size{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
    return 80;
}

}  // namespace

// The line drawn: bar (as wide as the terminal allows), percentage, time, and
// the time left only once a rate has been measured. Never as wide as the
// terminal, so it cannot wrap: it is redrawn in place at any width.
std::string progress_line(std::string_view phase, double fraction, double elapsed, bool measured,
                          int columns) {
    char tail[96];
    if (measured && fraction > 0)
        std::snprintf(tail, sizeof tail, " %5.1f%%  %.0f s, about %.0f s left", 100 * fraction,
                      elapsed, elapsed * (1 - fraction) / fraction);
    else
        std::snprintf(tail, sizeof tail, " %5.1f%%  %.0f s, measuring the rate", 100 * fraction,
                      elapsed);
    std::string text = tail;
    // "  ", the phase, " [" and "]" around the bar.
    const int room =
        columns - 1 - static_cast<int>(text.size()) - 5 - static_cast<int>(phase.size());
    if (room >= 10) {
        const int width = std::min(room, kMaxBarWidth);
        const auto filled = static_cast<std::size_t>(fraction * width);
        std::string bar = "  ";
        bar.append(phase).append(" [");
        bar.append(filled, '#').append(static_cast<std::size_t>(width) - filled, ' ');
        text = bar.append("]").append(text);
    }
    if (static_cast<int>(text.size()) > columns - 1)
        text.resize(static_cast<std::size_t>(std::max(columns - 1, 0)));
    return text;
}

Progress::Progress(std::uint64_t total_elements, bool enabled, std::string_view phase)
    : total_(total_elements), phase_(phase) {
    if (!enabled || total_ == 0) return;
    try {
        drawer_ = std::thread([this] { draw_loop(); });
    } catch (const std::system_error&) {
        // No thread to spare (a process limit): the run goes on without a bar.
    }
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
            const std::uint64_t now_done = done();
            const double fraction = static_cast<double>(now_done) / static_cast<double>(total_);
            const double elapsed =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            std::string redraw = "\r";
            redraw
                .append(progress_line(phase_, fraction, elapsed, now_done > 0, terminal_columns()))
                .append("\033[K");
            write_stderr(redraw);
            drawn = true;
        } while (!wake_.wait_for(lock, kRedrawEvery, [this] { return stopping_; }));
    }
    if (drawn) write_stderr("\r\033[K");
}

}  // namespace gpusum
