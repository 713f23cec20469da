#include "support/progress.hpp"

#include "platform/platform.hpp"
#include "support/text.hpp"

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
    platform::write_stderr(text.data(), text.size());
}

// `tail` after the phase and a bar filled to `fraction` (none when the
// fraction is unknown, negative), the bar as wide as the terminal allows.
// Never as wide as the terminal, so it cannot wrap: it is redrawn in place
// at any width.
std::string with_bar(std::string_view phase, double fraction, const std::string& tail,
                     int columns) {
    std::string text = tail;
    // "  ", the phase, " [" and "]" around the bar.
    const int room =
        columns - 1 - static_cast<int>(text.size()) - 5 - static_cast<int>(phase.size());
    if (fraction >= 0 && room >= 10) {
        const int width = std::min(room, kMaxBarWidth);
        const auto filled = static_cast<std::size_t>(std::min(fraction, 1.0) * width);
        std::string bar = "  ";
        bar.append(phase).append(" [");
        bar.append(filled, '#').append(static_cast<std::size_t>(width) - filled, ' ');
        text = bar.append("]").append(text);
    } else if (fraction < 0 && room + 3 >= 0) {
        text = "  " + std::string(phase) + text;
    }
    if (static_cast<int>(text.size()) > columns - 1)
        text.resize(static_cast<std::size_t>(std::max(columns - 1, 0)));
    return text;
}

}  // namespace

// The bar, percentage, time, and the time left only once a rate has been
// measured.
std::string progress_line(std::string_view phase, double fraction, double elapsed, bool measured,
                          int columns) {
    char tail[96];
    if (measured && fraction > 0)
        std::snprintf(tail, sizeof tail, " %5.1f%%  %.0f s, about %.0f s left", 100 * fraction,
                      elapsed, elapsed * (1 - fraction) / fraction);
    else
        std::snprintf(tail, sizeof tail, " %5.1f%%  %.0f s, measuring the rate", 100 * fraction,
                      elapsed);
    return with_bar(phase, fraction, tail, columns);
}

std::string stream_progress_line(std::string_view phase, std::uint64_t bytes, std::uint64_t total,
                                 double elapsed, int columns) {
    const double rate = elapsed > 0 ? static_cast<double>(bytes) / elapsed : 0;
    const double fraction =
        total > 0 ? static_cast<double>(bytes) / static_cast<double>(total) : -1;
    char tail[96];
    if (total > 0 && bytes > 0)
        std::snprintf(tail, sizeof tail, " %5.1f%%  %s at %s/s, about %.0f s left", 100 * fraction,
                      bytes_text(static_cast<double>(bytes)).c_str(), bytes_text(rate).c_str(),
                      static_cast<double>(total - std::min(bytes, total)) / rate);
    else
        std::snprintf(tail, sizeof tail, " %s at %s/s, %.0f s",
                      bytes_text(static_cast<double>(bytes)).c_str(), bytes_text(rate).c_str(),
                      elapsed);
    return with_bar(phase, fraction, tail, columns);
}

Progress::Progress(std::uint64_t total, bool enabled, std::string_view phase, Unit unit)
    : total_(total), phase_(phase), unit_(unit) {
    if (!enabled || (total_ == 0 && unit_ == Unit::elements)) return;
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
            const double elapsed =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            std::string redraw = "\r";
            if (unit_ == Unit::bytes) {
                redraw.append(stream_progress_line(phase_, now_done, total_, elapsed,
                                                   platform::terminal_columns()));
            } else {
                const double fraction = static_cast<double>(now_done) / static_cast<double>(total_);
                redraw.append(progress_line(phase_, fraction, elapsed, now_done > 0,
                                            platform::terminal_columns()));
            }
            redraw.append("\033[K");
            write_stderr(redraw);
            drawn = true;
        } while (!wake_.wait_for(lock, kRedrawEvery, [this] { return stopping_; }));
    }
    if (drawn) write_stderr("\r\033[K");
}

}  // namespace gpusum
