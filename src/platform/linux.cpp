// The platform layer on Linux.
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

#include "platform/platform.hpp"
#include "platform/posix.hpp"

namespace gpusum::platform {

unsigned usable_cores() {
    cpu_set_t allowed;
    if (::sched_getaffinity(0, sizeof allowed, &allowed) == 0 && CPU_COUNT(&allowed) > 0)
        return static_cast<unsigned>(CPU_COUNT(&allowed));
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : n;
}

std::uint64_t available_memory() {
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    std::uint64_t kib = 0;
    std::string unit;
    while (meminfo >> key >> kib >> unit)
        if (key == "MemAvailable:") return kib * 1024;
    return UINT64_MAX;
}

void advise_huge_pages(void* data, std::size_t bytes) {
    ::madvise(data, bytes, MADV_HUGEPAGE);
}

void enlarge_pipe_buffer(int fd) {
    // 1 MiB is what an unprivileged process may ask by default
    // (/proc/sys/fs/pipe-max-size); a refusal leaves the buffer as it was.
    ::fcntl(fd, F_SETPIPE_SZ, 1 << 20);
}

bool socket_pair(int (&ends)[2]) {
    return ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == 0;
}
const int kSendNoSignal = MSG_NOSIGNAL;

void die_with_parent(pid_t parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The parent may have ended before prctl: we are then someone else's child.
    if (::getppid() != parent) ::_exit(0);
}

bool pin_thread_to_core(unsigned core) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(core, &set);
    return ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set) == 0;
}

std::int64_t modified_ns(const struct stat& st) {
    return std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
}

}  // namespace gpusum::platform
