// Wall-clock phases, read from a monotonic clock.
#pragma once

#include <chrono>

namespace gpusum {

class Stopwatch {
  public:
    // Seconds since construction or the previous lap().
    double lap() {
        const auto now = std::chrono::steady_clock::now();
        const double s = std::chrono::duration<double>(now - last_).count();
        last_ = now;
        return s;
    }

  private:
    std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace gpusum
