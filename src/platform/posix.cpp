// The platform layer's part that Linux and macOS share.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "platform/platform.hpp"
#include "platform/posix.hpp"

namespace gpusum::platform {

std::vector<std::string> utf8_arguments(int argc, char** argv) {
    return {argv, argv + argc};
}

bool is_terminal(int fd) {
    return ::isatty(fd) != 0;
}

int terminal_columns() {
    winsize size{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
    return 80;
}

void write_stderr(const char* text, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(STDERR_FILENO, text, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        text += n;
        size -= static_cast<std::size_t>(n);
    }
}

void prepare_standard_streams() {
    // "\n" is written as it is, and terminals take escape sequences.
}

void exit_now(int code) {
    ::_exit(code);
}

void wait_for_exit() {
    for (;;) ::pause();
}

int open_to_read(const std::string& path, bool no_wait) {
    return ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (no_wait ? O_NONBLOCK : 0));
}

int duplicate_standard_input() {
    return ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
}

void make_blocking(int fd) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
}

bool file_facts(int fd, FileFacts& facts) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return false;
    facts.kind = S_ISREG(st.st_mode)    ? FileKind::regular
                 : S_ISFIFO(st.st_mode) ? FileKind::pipe
                                        : FileKind::other;
    facts.size = st.st_size > 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    facts.modified_ns = modified_ns(st);
    facts.identity = static_cast<std::uint64_t>(st.st_ino);
    return true;
}

bool path_exists(const std::string& path) {
    return ::access(path.c_str(), F_OK) == 0;
}

long read_some(int fd, void* out, std::size_t size) {
    return static_cast<long>(::read(fd, out, size));
}

void close_descriptor(int fd) {
    ::close(fd);
}

bool wait_readable(int fd, int milliseconds) {
    pollfd ready{fd, POLLIN, 0};
    return ::poll(&ready, 1, milliseconds) > 0;
}

void* map_file(int fd, std::uint64_t size, int& error) {
    void* data = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (data != MAP_FAILED) return data;
    // sysfs and some FUSE files are regular, sized 4096, and not mappable.
    error = errno == ENODEV ? kNotMappable : errno;
    return nullptr;
}

std::size_t page_size() {
    return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

void* map_memory(std::uint64_t size) {
    void* data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return data == MAP_FAILED ? nullptr : data;
}

void unmap(void* data, std::uint64_t size) {
    ::munmap(data, size);
}

void advise_sequential(void* data, std::size_t bytes) {
    ::madvise(data, bytes, MADV_SEQUENTIAL);
}

void release_pages(void* data, std::size_t bytes) {
    ::madvise(data, bytes, MADV_DONTNEED);
}

namespace {

struct sigaction g_before_stop[3] = {};
constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGCONT};
struct sigaction g_before_fault {};

}  // namespace

void catch_stop_requests(void (*on_stop)(int signal), void (*on_continue)()) {
    // sa_handler takes the signal; SIGCONT's handler is called without it.
    static void (*continue_callback)() = nullptr;
    continue_callback = on_continue;
    for (int i = 0; i < 3; ++i) {
        struct sigaction action {};
        if (kStopSignals[i] == SIGCONT)
            action.sa_handler = [](int) { continue_callback(); };
        else
            action.sa_handler = on_stop;
        sigemptyset(&action.sa_mask);
        ::sigaction(kStopSignals[i], &action, &g_before_stop[i]);
    }
}

void release_stop_requests() {
    for (int i = 0; i < 3; ++i) ::sigaction(kStopSignals[i], &g_before_stop[i], nullptr);
}

void catch_file_faults(void (*on_fault)()) {
    static void (*fault_callback)() = nullptr;
    fault_callback = on_fault;
    struct sigaction action {};
    action.sa_handler = [](int) { fault_callback(); };
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGBUS, &action, &g_before_fault);
}

void release_file_faults() {
    ::sigaction(SIGBUS, &g_before_fault, nullptr);
}

void around_fork(void (*prepare)(), void (*parent)(), void (*child)()) {
    ::pthread_atfork(prepare, parent, child);
}

}  // namespace gpusum::platform
