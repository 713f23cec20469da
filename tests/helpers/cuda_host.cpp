// The CUDA execution model of cuda_host.hpp: threads, barriers, shuffles,
// and launches of blocks in processes. See the header for why.
#include "cuda_host.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>
#include <vector>

namespace cuda_host {
namespace {

using namespace std::chrono_literals;
constexpr unsigned kWarpSize = 32;
constexpr unsigned kNoBlock = ~0u;

// Unwinds a thread of a block that has failed.
struct Aborted {};

// What the processes of one launch share: the block order and the first error.
struct GridShared {
    std::atomic<std::uint64_t> next{0};
    char error[1024];
};

class Barrier {
  public:
    void reset(unsigned participants) {
        participants_ = participants;
        waiting_ = 0;
        left_ = 0;
    }
    // Returns when every participant has arrived (running `on_complete` in
    // the last to arrive, before the others go on).
    void arrive_and_wait(const char* what, const std::function<void()>& on_complete = {});
    // A participant finished the kernel: it will never arrive again.
    void leave(const char* what);
    void forget_left() {
        const std::lock_guard lock(mutex_);
        left_ = 0;
    }

  private:
    std::mutex mutex_;
    std::condition_variable released_;
    unsigned participants_ = 0;
    unsigned waiting_ = 0;
    unsigned left_ = 0;
    std::uint64_t generation_ = 0;
};

// The block this process runs now, with its threads' meeting points.
struct BlockState {
    std::atomic<bool> aborted{false};
    // Threads not waiting at a barrier. Relaxed: only its count matters, and
    // an ordering through it would hide from ThreadSanitizer the races the
    // kernel's own barriers must prevent.
    std::atomic<int> running{0};
    std::mutex error_mutex;
    std::string error;
    unsigned current = kNoBlock;  // written only by the last thread at `end`
    Barrier block;                // __syncthreads
    std::unique_ptr<Barrier[]> warps;
    std::unique_ptr<std::uint64_t[]> shuffle_slots;  // [warp][2 rounds][32 lanes]
    Barrier end;                                     // the harness's: all done with `current`
};

BlockState* g_block = nullptr;
thread_local unsigned t_shuffle_round = 0;
thread_local std::minstd_rand t_random{1};

void fail(const std::string& message) {
    {
        const std::lock_guard lock(g_block->error_mutex);
        if (g_block->error.empty()) g_block->error = message;
    }
    g_block->aborted.store(true);
}

std::string where() {
    return "block " + std::to_string(blockIdx.x) + ", thread " + std::to_string(threadIdx.x);
}

void Barrier::arrive_and_wait(const char* what, const std::function<void()>& on_complete) {
    jitter();
    if (g_block->aborted.load()) throw Aborted{};
    std::unique_lock lock(mutex_);
    ++waiting_;
    if (waiting_ + left_ == participants_) {
        if (left_ > 0) {
            lock.unlock();
            fail(std::string("divergence: ") + what + " reached by " +
                 std::to_string(participants_ - left_) + " of " + std::to_string(participants_) +
                 " threads, the others returned (" + where() + ")");
            throw Aborted{};
        }
        if (on_complete) on_complete();
        g_block->running.fetch_add(static_cast<int>(participants_) - 1, std::memory_order_relaxed);
        waiting_ = 0;
        ++generation_;
        released_.notify_all();
        return;
    }
    const std::uint64_t generation = generation_;
    if (g_block->running.fetch_sub(1, std::memory_order_relaxed) == 1) {
        lock.unlock();
        fail(std::string("deadlock: every thread waits, the last at ") + what + " (" + where() +
             ")");
        throw Aborted{};
    }
    while (generation_ == generation) {
        released_.wait_for(lock, 100ms);
        if (g_block->aborted.load()) throw Aborted{};
    }
}

void Barrier::leave(const char* what) {
    std::unique_lock lock(mutex_);
    ++left_;
    if (waiting_ > 0 && waiting_ + left_ == participants_) {
        lock.unlock();
        fail(std::string("divergence: ") + what + " reached by " + std::to_string(waiting_) +
             " of " + std::to_string(participants_) + " threads, the others returned");
    }
}

unsigned take_block(GridShared* shared, const std::vector<unsigned>& order) {
    const std::uint64_t i = shared->next.fetch_add(1);
    return i < order.size() ? order[i] : kNoBlock;
}

void run_thread(unsigned t, const LaunchShape& shape, GridShared* shared,
                const std::vector<unsigned>& order, const std::function<void()>& body) {
    t_random.seed(
        static_cast<unsigned>(shape.seed * 7919 + std::uint64_t{t} * 104729 + ::getpid()));
    BlockState& b = *g_block;
    const auto next_block = [&] {
        b.block.forget_left();
        for (unsigned w = 0; w < shape.threads / kWarpSize; ++w) b.warps[w].forget_left();
        b.current = take_block(shared, order);
    };
    try {
        for (;;) {
            const unsigned block = b.current;
            if (block == kNoBlock) return;
            threadIdx.x = t;
            blockIdx.x = block;
            t_shuffle_round = 0;
            body();
            b.block.leave("__syncthreads");
            b.warps[t / kWarpSize].leave("a warp shuffle");
            b.end.arrive_and_wait("the end of the block", next_block);
        }
    } catch (const Aborted&) {
    } catch (const std::exception& e) {
        fail(where() + ": " + e.what());
    }
    b.aborted.store(true);  // let the others stop waiting for this one
}

// One process's share of the grid: blocks taken one at a time.
[[noreturn]] void run_blocks(const LaunchShape& shape, GridShared* shared,
                             const std::vector<unsigned>& order,
                             const std::function<void()>& body) {
    BlockState state;
    g_block = &state;
    const unsigned warps = shape.threads / kWarpSize;
    state.block.reset(shape.threads);
    state.end.reset(shape.threads);
    state.warps = std::make_unique<Barrier[]>(warps);
    for (unsigned w = 0; w < warps; ++w) state.warps[w].reset(kWarpSize);
    state.shuffle_slots = std::make_unique<std::uint64_t[]>(std::size_t{warps} * 2 * kWarpSize);
    state.running = static_cast<int>(shape.threads);
    state.current = take_block(shared, order);
    {
        std::vector<std::thread> threads;  // std::jthread: not in libc++ before LLVM 18
        threads.reserve(shape.threads);
        for (unsigned t = 0; t < shape.threads; ++t)
            threads.emplace_back(run_thread, t, std::cref(shape), shared, std::cref(order),
                                 std::cref(body));
        for (std::thread& t : threads) t.join();
    }
    if (state.error.empty() && !state.aborted.load()) ::_exit(0);
    std::snprintf(shared->error, sizeof shared->error, "%s",
                  state.error.empty() ? "a thread stopped" : state.error.c_str());
    ::_exit(1);
}

double time_limit_seconds() {
    const char* text = std::getenv("GPUSUM_HARNESS_SECONDS");
    return text != nullptr ? std::atof(text) : 60.0;
}

}  // namespace

void sync_block() {
    g_block->block.arrive_and_wait("__syncthreads");
}

std::uint64_t shuffle_down_word(unsigned mask, std::uint64_t value, unsigned delta) {
    if (mask != 0xffffffffu) {
        fail(where() + ": a shuffle mask other than the full warp is not modelled");
        throw Aborted{};
    }
    const unsigned warp = threadIdx.x / kWarpSize;
    const unsigned lane = threadIdx.x % kWarpSize;
    // Two rounds of slots: a lane may write the next round's slot while a
    // slower lane still reads this round's.
    std::uint64_t* slots =
        &g_block->shuffle_slots[(std::size_t{warp} * 2 + t_shuffle_round++ % 2) * kWarpSize];
    slots[lane] = value;
    g_block->warps[warp].arrive_and_wait("a warp shuffle");
    return lane + delta < kWarpSize ? slots[lane + delta] : value;
}

void fence() {
    // A sequentially consistent fence, modelled as a read-modify-write of one
    // location that all fences share, so ThreadSanitizer can follow it.
    static std::atomic<unsigned> fences{0};
    jitter();
    fences.fetch_add(1, std::memory_order_acq_rel);
    jitter();
}

void stall() {
    if (t_random() % 4 == 0)
        std::this_thread::sleep_for(std::chrono::microseconds(200 + t_random() % 1800));
}

void jitter() {
    const unsigned r = t_random() % 64;
    if (r == 0)
        std::this_thread::sleep_for(std::chrono::microseconds(50 + t_random() % 200));
    else if (r < 8)
        std::this_thread::yield();
}

void run_grid(const LaunchShape& shape, const std::function<void()>& kernel_body) {
    if (shape.threads == 0 || shape.threads % kWarpSize != 0 || shape.threads > 1024)
        throw LaunchError("threads per block must be a multiple of 32 up to 1024, not " +
                          std::to_string(shape.threads));
    if (shape.blocks == 0) throw LaunchError("a grid needs at least one block");
    std::vector<unsigned> order(shape.blocks);
    std::iota(order.begin(), order.end(), 0u);
    std::mt19937_64 rng(shape.seed);
    std::shuffle(order.begin(), order.end(), rng);
    DeviceArray<GridShared> shared(1);
    new (shared.get()) GridShared();
    gridDim = {shape.blocks, 1, 1};
    blockDim = {shape.threads, 1, 1};

    std::fflush(nullptr);  // nothing buffered is written twice by the children
    std::vector<pid_t> children;
    const unsigned processes = std::clamp(shape.resident, 1u, shape.blocks);
    for (unsigned p = 0; p < processes; ++p) {
        const pid_t pid = ::fork();
        if (pid == 0) run_blocks(shape, shared.get(), order, kernel_body);
        if (pid < 0) {
            for (const pid_t c : children) ::kill(c, SIGKILL);
            for (const pid_t c : children) ::waitpid(c, nullptr, 0);
            throw LaunchError("fork failed");
        }
        children.push_back(pid);
    }
    std::string problem;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(time_limit_seconds());
    std::vector<pid_t> pending = children;
    while (!pending.empty()) {
        const pid_t pid = pending.back();
        int status = 0;
        const pid_t reaped = ::waitpid(pid, &status, WNOHANG);
        if (reaped == 0) {
            if (problem.empty() && std::chrono::steady_clock::now() > deadline) {
                problem = "time limit: the launch still ran after " +
                          std::to_string(time_limit_seconds()) + " s (an endless loop or a hang)";
                for (const pid_t c : pending) ::kill(c, SIGKILL);
            }
            std::this_thread::sleep_for(1ms);
            continue;
        }
        pending.pop_back();
        if (reaped < 0 || !problem.empty()) continue;
        if (WIFSIGNALED(status))
            problem = "a block process died by signal " + std::to_string(WTERMSIG(status));
        else if (WEXITSTATUS(status) != 0)
            problem = shared.get()->error[0] != '\0' ? shared.get()->error
                                                     : "a block process exited with status " +
                                                           std::to_string(WEXITSTATUS(status));
    }
    if (!problem.empty()) throw LaunchError(problem);
}

}  // namespace cuda_host
