// Every difference between the operating systems gpusum runs on, one small
// function each. src/platform/posix.cpp implements what Linux and macOS share,
// linux.cpp and darwin.cpp what they do not, windows.cpp all of it for
// Windows; CMake compiles the ones for the target. Nothing here exposes a
// system's own types: descriptors are C runtime file descriptors everywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gpusum::platform {

// Cores this process may run on: its affinity mask where the system has one
// (taskset, cpusets, mpirun's binding, a Windows job's affinity), else the
// cores online.
unsigned usable_cores();

// Bytes of memory a new allocation can take without swapping, or UINT64_MAX
// when the system does not say.
std::uint64_t available_memory();

// Keeps the calling thread on one core, where the system lets a program
// choose; false where it does not (the thread then runs where it is put).
bool pin_thread_to_core(unsigned core);

// ---- Terminals and standard streams (fd 0, 1, 2) ----

// The program's arguments in UTF-8: as given on POSIX; on Windows read
// again from the wide command line, which holds what the ANSI one loses.
std::vector<std::string> utf8_arguments(int argc, char** argv);

bool is_terminal(int fd);
// Columns of the terminal on stderr, asked each time (it may be resized);
// 80 when unknown.
int terminal_columns();
// Writes to stderr at once, best effort; safe in a signal handler.
void write_stderr(const char* text, std::size_t size);
// Standard output in binary mode where text mode would change "\n", and a
// console on stderr ready for the progress bar's escape sequences (Windows).
void prepare_standard_streams();
// Ends the process at once with `code`, running nothing; safe in a signal
// handler. Threads calling it while another ends the process wait for that.
[[noreturn]] void exit_now(int code);
[[noreturn]] void wait_for_exit();

// ---- Files, pipes and memory ----

enum class FileKind { regular, pipe, other };  // pipe: a FIFO or an anonymous pipe
struct FileFacts {
    FileKind kind = FileKind::other;
    std::uint64_t size = 0;
    std::int64_t modified_ns = 0;
    std::uint64_t identity = 0;  // inode, or Windows's file index
};

// Opens a file (UTF-8 path) to read, closed on exec; `no_wait`: opening a
// FIFO does not wait for a writer. -1 with errno set.
int open_to_read(const std::string& path, bool no_wait);
// A private descriptor for standard input, closed on exec.
int duplicate_standard_input();
// Reads block from now on (undoes open_to_read's `no_wait`).
void make_blocking(int fd);
bool file_facts(int fd, FileFacts& facts);
bool path_exists(const std::string& path);
// Reads up to `size` bytes: the count, 0 at the end, -1 with errno set.
long read_some(int fd, void* out, std::size_t size);
void close_descriptor(int fd);

// Waits up to `milliseconds` for `fd` to have data or reach its end: true
// when it has, false when the time ran out or a signal came first.
bool wait_readable(int fd, int milliseconds);

// Asks for a larger kernel buffer on a pipe being read: fewer, larger reads
// (a pipe of int64 read at 2.2 instead of 1.0 GB/s with 1 MiB on Linux).
// Nothing where the system has no such setting or `fd` is no pipe.
void enlarge_pipe_buffer(int fd);

// `size` bytes of `fd` mapped read-only, or nullptr with `error` an errno
// value (kNotMappable: a file the system cannot map, to be read instead).
void* map_file(int fd, std::uint64_t size, int& error);
inline constexpr int kNotMappable = -1;
std::size_t page_size();
// Anonymous read-write memory, reserved lazily; nullptr with errno set.
void* map_memory(std::uint64_t size);
void unmap(void* data, std::uint64_t size);
// Hints: read once from start to end; pages no longer needed (a read-only
// file mapping's, dropped and read again if touched); huge pages wanted.
void advise_sequential(void* data, std::size_t bytes);
void release_pages(void* data, std::size_t bytes);
void advise_huge_pages(void* data, std::size_t bytes);

// ---- Stop requests and faults ----

// Routes the requests to stop the program (SIGINT, SIGTERM; on Windows
// Ctrl-C, Ctrl-Break and closing the console, reported as SIGINT and
// SIGTERM's numbers) to `on_stop(signal)`, and continuing after a stop
// (SIGCONT) to `on_continue`, until release_stop_requests() puts back what
// was there. One caller at a time.
void catch_stop_requests(void (*on_stop)(int signal), void (*on_continue)());
void release_stop_requests();

// A mapped file that fails to read (truncated under us: SIGBUS; a page that
// cannot be brought in on Windows) calls `on_fault`, which must not return,
// until release_file_faults().
void catch_file_faults(void (*on_fault)());
void release_file_faults();

// Runs `prepare` before a fork and `parent`/`child` after it, where the
// system forks; nothing elsewhere.
void around_fork(void (*prepare)(), void (*parent)(), void (*child)());

}  // namespace gpusum::platform
