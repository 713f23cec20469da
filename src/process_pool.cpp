// The seed's ProcessPoolExecutor done right: a fixed pool of forked workers,
// one Unix socket each, chunks handed out dynamically as a chunk index (the
// workers already hold the series or the mapped array, inherited through
// fork), the partial sent back as one fixed-size message. A worker that dies has its chunk re-run
// by a fresh worker; SIGINT/SIGTERM kill and reap every worker before the run unwinds.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <map>

#include "chunk_work.hpp"
#include "stopwatch.hpp"

namespace gpusum {

namespace {

struct ChunkResult {
    std::uint64_t chunk;
    std::uint64_t low;  // the 128-bit integer partial, in two halves
    std::uint64_t high;
    FloatSum real;
};

// Both loops survive EINTR and partial transfers. false: the peer is gone.
bool send_all(int fd, const void* data, std::size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::send(fd, p, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

bool receive_all(int fd, void* data, std::size_t size) {
    char* p = static_cast<char*>(data);
    while (size > 0) {
        const ssize_t n = ::recv(fd, p, size, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

[[noreturn]] void worker_main(int fd, Request request, std::uint64_t chunks) {
    request.progress = nullptr;  // the parent counts progress as results arrive
    for (std::uint64_t index; receive_all(fd, &index, sizeof index);) {
        if (index >= chunks) ::_exit(2);
        const Partial partial = sum_chunk(request, chunks, index);
        const auto bits = static_cast<u128>(partial.integer);
        const ChunkResult message{index, static_cast<std::uint64_t>(bits),
                                  static_cast<std::uint64_t>(bits >> 64), partial.real};
        if (!send_all(fd, &message, sizeof message)) ::_exit(1);
    }
    ::_exit(0);  // the parent closed our socket: the run is over
}

volatile sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int signo) {
    g_stop_signal = signo;
}

// Routes SIGINT/SIGTERM to a flag for the duration of a run.
class StopSignals {
  public:
    StopSignals() {
        g_stop_signal = 0;
        struct sigaction action {};
        action.sa_handler = on_stop_signal;
        sigemptyset(&action.sa_mask);
        ::sigaction(SIGINT, &action, &old_int_);
        ::sigaction(SIGTERM, &action, &old_term_);
    }
    ~StopSignals() {
        ::sigaction(SIGINT, &old_int_, nullptr);
        ::sigaction(SIGTERM, &old_term_, nullptr);
    }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

  private:
    struct sigaction old_int_ {};
    struct sigaction old_term_ {};
};

struct Worker {
    pid_t pid = -1;
    int fd = -1;
    // Chunks sent and not yet answered, in order: the front is being summed.
    std::deque<std::uint64_t> queued;
};

class Pool {
  public:
    Pool(const Request& request, std::uint64_t chunks) : request_(request), chunks_(chunks) {}
    ~Pool() {
        // Workers are idle or being abandoned: SIGKILL ends even a stopped one,
        // so shutdown never waits on a worker, and every one is reaped.
        for (Worker& w : workers_) end(w);
    }
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    std::vector<Worker>& workers() { return workers_; }

    Worker spawn() {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            throw BackendError(std::string("cannot create a worker socket: ") +
                               std::strerror(errno));
        const pid_t parent = ::getpid();
        const pid_t pid = ::fork();
        if (pid < 0) {
            const int err = errno;
            ::close(sv[0]);
            ::close(sv[1]);
            throw BackendError(std::string("fork failed: ") + std::strerror(err));
        }
        if (pid == 0) {
            // No worker outlives the parent, and Ctrl-C is the parent's to handle.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(0);
            ::signal(SIGINT, SIG_IGN);
            ::signal(SIGTERM, SIG_DFL);
            ::close(sv[0]);
            // Other workers' sockets must not stay open here, or their deaths
            // would never read as end-of-file in the parent.
            for (const Worker& w : workers_) ::close(w.fd);
            worker_main(sv[1], request_, chunks_);
        }
        ::close(sv[1]);
        return Worker{pid, sv[0], {}};
    }

    // Returns how the worker ended, for messages.
    static std::string end(Worker& w) {
        if (w.pid <= 0) return "already ended";
        ::close(w.fd);
        ::kill(w.pid, SIGKILL);
        int status = 0;
        while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
        }
        w.pid = -1;
        w.fd = -1;
        if (WIFSIGNALED(status))
            return std::string("killed by signal ") + std::to_string(WTERMSIG(status));
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    }

  private:
    const Request& request_;
    std::uint64_t chunks_;
    std::vector<Worker> workers_;
};

// Chunks sent ahead to each worker: with one in progress and one waiting, a
// worker never idles while the parent is scheduled to send the next index.
constexpr std::size_t kQueueDepth = 2;

class ProcessBackend final : public Backend {
  public:
    explicit ProcessBackend(ProcessPoolOptions options) : options_(std::move(options)) {}

    std::string_view name() const override { return "process"; }
    std::string_view summary() const override {
        return "pool of forked worker processes, chunks dispatched over sockets";
    }
    Availability availability() const override {
        return {true, std::to_string(online_cores()) + " online cores"};
    }

    Result sum(const Request& request) override {
        Stopwatch clock;
        Result result = parallel_shape(request);

        StopSignals stop_signals;
        Pool pool(request, result.chunks);
        for (unsigned w = 0; w < result.workers; ++w) pool.workers().push_back(pool.spawn());
        result.seconds.setup = clock.lap();

        std::vector<Partial> partials(result.chunks);
        std::deque<std::uint64_t> retry;
        std::map<std::uint64_t, unsigned> failures;
        std::uint64_t next_fresh = 0;
        std::uint64_t completed = 0;
        std::vector<pollfd> fds;

        auto replace = [&](Worker& w) {
            const std::string how = Pool::end(w);
            if (!w.queued.empty()) {
                // Only the chunk in progress counts as failed; all are re-run.
                const std::uint64_t c = w.queued.front();
                if (++failures[c] >= options_.max_attempts_per_chunk)
                    throw BackendError("chunk " + std::to_string(c) + " failed " +
                                       std::to_string(failures[c]) + " times (last worker " + how +
                                       ")");
                result.retried_chunks += w.queued.size();
                retry.insert(retry.begin(), w.queued.begin(), w.queued.end());
                w.queued.clear();
            }
            w = pool.spawn();
        };

        while (completed < result.chunks) {
            if (g_stop_signal != 0) throw Interrupted(g_stop_signal);
            for (Worker& w : pool.workers()) {
                while (w.queued.size() < kQueueDepth &&
                       (!retry.empty() || next_fresh < result.chunks)) {
                    std::uint64_t c;
                    if (!retry.empty()) {
                        c = retry.front();
                        retry.pop_front();
                    } else {
                        c = next_fresh++;
                    }
                    w.queued.push_back(c);
                    if (!send_all(w.fd, &c, sizeof c)) {
                        replace(w);
                        break;
                    }
                    if (options_.on_dispatch) options_.on_dispatch(w.pid, c);
                }
            }
            fds.clear();
            for (const Worker& w : pool.workers()) fds.push_back({w.fd, POLLIN, 0});
            if (::poll(fds.data(), fds.size(), 200) < 0) {
                if (errno == EINTR) continue;
                throw BackendError(std::string("poll failed: ") + std::strerror(errno));
            }
            for (std::size_t i = 0; i < fds.size(); ++i) {
                if (fds[i].revents == 0) continue;
                Worker& w = pool.workers()[i];
                ChunkResult message{};
                if ((fds[i].revents & POLLIN) && receive_all(w.fd, &message, sizeof message) &&
                    !w.queued.empty() && message.chunk == w.queued.front()) {
                    partials[message.chunk] = {
                        static_cast<i128>((static_cast<u128>(message.high) << 64) | message.low),
                        message.real};
                    if (request.progress != nullptr)
                        request.progress->advance(
                            chunk_begin(request.elements(), result.chunks, message.chunk + 1) -
                            chunk_begin(request.elements(), result.chunks, message.chunk));
                    w.queued.pop_front();
                    ++completed;
                } else {
                    replace(w);  // died, hung up, or sent something it should not have
                }
            }
        }
        result.seconds.compute = clock.lap();
        combine_in_order(partials, result);
        result.seconds.combine = clock.lap();
        return result;
    }

  private:
    ProcessPoolOptions options_;
};

}  // namespace

std::unique_ptr<Backend> make_process_backend(ProcessPoolOptions options) {
    return std::make_unique<ProcessBackend>(std::move(options));
}

}  // namespace gpusum
