// The process pool's workers on Linux and macOS: forked, so each inherits the
// request (the series, or the mapped array) as it is; one Unix socket each.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "backends/cpu/chunk_work.hpp"
#include "backends/cpu/socket_io.hpp"
#include "backends/cpu/worker_process.hpp"
#include "gpusum/gpusum.hpp"
#include "input/file_guard.hpp"
#include "platform/posix.hpp"

namespace gpusum {

namespace {

[[noreturn]] void worker_main(int fd, Request request, std::uint64_t chunks) {
    quiet_file_faults();
    request.progress = nullptr;  // the parent counts progress as results arrive
    for (std::uint64_t index; receive_all(fd, &index, sizeof index);) {
        if (index >= chunks) ::_exit(2);
        const ChunkResult message = answer_chunk(request, chunks, index);
        if (!send_all(fd, &message, sizeof message)) ::_exit(1);
    }
    ::_exit(0);  // the parent closed our socket: the run is over
}

class ForkedWorker final : public WorkerProcess {
  public:
    ForkedWorker(pid_t pid, int fd, std::vector<int>& open_sockets)
        : pid_(pid), fd_(fd), open_sockets_(open_sockets) {}
    ~ForkedWorker() override { end(); }
    ForkedWorker(const ForkedWorker&) = delete;
    ForkedWorker& operator=(const ForkedWorker&) = delete;

    std::int64_t id() const override { return pid_; }
    int socket() const { return fd_; }
    bool send(std::uint64_t chunk) override { return send_all(fd_, &chunk, sizeof chunk); }
    bool receive(ChunkResult& out) override { return receive_all(fd_, &out, sizeof out); }

    std::string end() override {
        // A worker that was timed out is still alive: SIGKILL is how it ends.
        if (pid_ <= 0) return "already ended";
        ::close(fd_);
        std::erase(open_sockets_, fd_);
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
        fd_ = -1;
        if (WIFSIGNALED(status))
            return std::string("killed by signal ") + std::to_string(WTERMSIG(status));
        if (WEXITSTATUS(status) == kFileChangedExit) return kFileChanged;
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    }

  private:
    pid_t pid_;
    int fd_;
    std::vector<int>& open_sockets_;
};

// How many workers the descriptor limit leaves room for: each holds one
// socket in the parent, and kSpareDescriptors stay free for everything else
// a run does (files, reports, sanitizer runtimes), so the pool never takes
// the process to the limit.
constexpr unsigned kSpareDescriptors = 8;

class ForkLauncher final : public WorkerLauncher {
  public:
    ForkLauncher(const Request& request, std::uint64_t chunks)
        : request_(request), chunks_(chunks) {}

    std::unique_ptr<WorkerProcess> start() override {
        int sv[2];
        if (!platform::socket_pair(sv))
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
            platform::die_with_parent(parent);
            ::signal(SIGINT, SIG_IGN);
            ::signal(SIGTERM, SIG_DFL);
            ::close(sv[0]);
            // Other workers' sockets must not stay open here, or their deaths
            // would never read as end-of-file in the parent.
            for (const int fd : open_sockets_) ::close(fd);
            worker_main(sv[1], request_, chunks_);
        }
        ::close(sv[1]);
        open_sockets_.push_back(sv[0]);
        return std::make_unique<ForkedWorker>(pid, sv[0], open_sockets_);
    }

    void wait(const std::vector<WorkerProcess*>& workers, std::chrono::milliseconds timeout,
              std::vector<char>& ready) override {
        fds_.clear();
        for (const WorkerProcess* w : workers)
            fds_.push_back({static_cast<const ForkedWorker*>(w)->socket(), POLLIN, 0});
        ready.assign(workers.size(), 0);
        const int n = ::poll(fds_.data(), fds_.size(),
                             static_cast<int>(std::min<long long>(timeout.count(), INT_MAX)));
        if (n < 0) {
            if (errno == EINTR) return;
            throw BackendError(std::string("poll failed: ") + std::strerror(errno));
        }
        for (std::size_t i = 0; i < fds_.size(); ++i) ready[i] = fds_[i].revents != 0 ? 1 : 0;
    }

    unsigned room() const override {
        rlimit limit{};
        if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
            return UINT_MAX;
        // The lowest free descriptor: those below it are taken.
        const int lowest_free = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
        if (lowest_free < 0) return 0;
        ::close(lowest_free);
        const auto room = static_cast<long long>(limit.rlim_cur) - lowest_free - kSpareDescriptors;
        return room > 0 ? static_cast<unsigned>(std::min<long long>(room, UINT_MAX)) : 0;
    }

  private:
    Request request_;  // what the workers inherit when they are forked
    std::uint64_t chunks_;
    std::vector<int> open_sockets_;  // the live workers' sockets in this process
    std::vector<pollfd> fds_;
};

}  // namespace

std::unique_ptr<WorkerLauncher> make_worker_launcher(const Request& request, std::uint64_t chunks) {
    return std::make_unique<ForkLauncher>(request, chunks);
}

Availability worker_availability() {
    return {true, std::to_string(usable_cores()) + " usable cores"};
}

std::string_view worker_summary() {
    return "pool of forked worker processes, chunks dispatched over sockets";
}

void serve_process_pool_worker(int, char**) {
    // Workers are forked here: there is no worker mode to serve.
}

}  // namespace gpusum
