#include "support/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace gpusum {

void for_each_index(std::uint64_t count, unsigned workers,
                    const std::function<void(std::uint64_t)>& body) {
    std::atomic<std::uint64_t> next{0};
    std::mutex error_lock;
    std::exception_ptr error;
    auto work = [&] {
        for (std::uint64_t i; (i = next.fetch_add(1)) < count;) {
            try {
                body(i);
            } catch (...) {
                const std::lock_guard<std::mutex> hold(error_lock);
                if (!error) error = std::current_exception();
                next = count;  // the others stop after their current index
            }
        }
    };
    std::vector<std::thread> helpers;
    const std::uint64_t wanted = std::min<std::uint64_t>(workers, count);
    for (std::uint64_t h = 1; h < wanted; ++h) {
        try {
            helpers.emplace_back(work);
        } catch (const std::system_error&) {
            break;  // a thread limit: the threads already running do the rest
        }
    }
    work();
    for (auto& t : helpers) t.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace gpusum
