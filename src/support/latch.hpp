// A latch on a mutex and a condition variable, used instead of std::latch:
// libstdc++ 12's std::latch waits on futex-like atomics that lose wake-ups
// on MinGW (Windows), where a run would then hang; this one cannot.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace gpusum {

class Latch {
  public:
    explicit Latch(std::ptrdiff_t count) : count_(count) {}
    Latch(const Latch&) = delete;
    Latch& operator=(const Latch&) = delete;

    void count_down() {
        const std::lock_guard<std::mutex> held(lock_);
        if (count_ > 0 && --count_ == 0) reached_.notify_all();
    }
    void wait() {
        std::unique_lock<std::mutex> held(lock_);
        reached_.wait(held, [this] { return count_ == 0; });
    }

  private:
    std::mutex lock_;
    std::condition_variable reached_;
    std::ptrdiff_t count_;
};

}  // namespace gpusum
