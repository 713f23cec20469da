// The platform layer on macOS (Apple Silicon and Intel).
#include <fcntl.h>
#include <mach/mach.h>
#include <signal.h>
#include <sys/event.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "platform/platform.hpp"
#include "platform/posix.hpp"

namespace gpusum::platform {

unsigned usable_cores() {
    // macOS has no affinity masks: every online core is usable.
    const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<unsigned>(n) : 1;
}

std::uint64_t available_memory() {
    // Free, inactive and purgeable pages can all be handed to a new
    // allocation without swapping, like Linux's MemAvailable.
    vm_statistics64_data_t vm{};
    mach_msg_type_number_t count = HOST_VM_INFO64_COUNT;
    if (::host_statistics64(::mach_host_self(), HOST_VM_INFO64,
                            reinterpret_cast<host_info64_t>(&vm), &count) != KERN_SUCCESS)
        return UINT64_MAX;
    const std::uint64_t pages =
        std::uint64_t{vm.free_count} + vm.inactive_count + vm.purgeable_count;
    return pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

void advise_huge_pages(void*, std::size_t) {
    // macOS chooses its page sizes itself.
}

void enlarge_pipe_buffer(int) {
    // macOS has no such setting: it sizes pipe buffers itself.
}

bool socket_pair(int (&ends)[2]) {
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, ends) != 0) return false;
    // No SOCK_CLOEXEC here; SO_NOSIGPIPE is macOS's per-socket MSG_NOSIGNAL.
    const int on = 1;
    for (const int fd : ends)
        if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 ||
            ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on) != 0) {
            const int err = errno;
            ::close(ends[0]);
            ::close(ends[1]);
            errno = err;
            return false;
        }
    return true;
}
const int kSendNoSignal = 0;

void die_with_parent(pid_t parent) {
    // No PR_SET_PDEATHSIG on macOS: a thread waits on the parent's exit
    // through kqueue and kills this process. Registering fails with ESRCH if
    // the parent has already gone. A kqueue is not inherited by fork, so
    // each worker makes its own.
    const int queue = ::kqueue();
    struct kevent watch {};
    EV_SET(&watch, parent, EVFILT_PROC, EV_ADD | EV_ONESHOT, NOTE_EXIT, 0, nullptr);
    if (queue < 0 || ::kevent(queue, &watch, 1, nullptr, 0, nullptr) != 0 || ::getppid() != parent)
        ::_exit(0);
    std::thread([queue] {
        struct kevent fired {};
        while (::kevent(queue, nullptr, 0, &fired, 1, nullptr) < 0 && errno == EINTR) {
        }
        ::kill(::getpid(), SIGKILL);
    }).detach();
}

bool pin_thread_to_core(unsigned) {
    return false;  // macOS offers affinity hints only, and none on Apple Silicon
}

std::int64_t modified_ns(const struct stat& st) {
    return std::int64_t{st.st_mtimespec.tv_sec} * 1'000'000'000 + st.st_mtimespec.tv_nsec;
}

}  // namespace gpusum::platform
