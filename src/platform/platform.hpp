// Every difference between the operating systems gpusum runs on, one small
// function each; src/platform/linux.cpp and darwin.cpp implement them and
// CMake compiles the one for the target. The rest of the code is plain POSIX.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace gpusum::platform {

// Cores this process may run on: its affinity mask where the system has one
// (taskset, cpusets, mpirun's binding), else the cores online.
unsigned usable_cores();

// Bytes of memory a new allocation can take without swapping, or UINT64_MAX
// when the system does not say.
std::uint64_t available_memory();

// Asks for huge pages on [data, data + bytes) where the system has them.
void advise_huge_pages(void* data, std::size_t bytes);

// Asks for a larger kernel buffer on a pipe being read: fewer, larger reads
// (a pipe of int64 read at 2.2 instead of 1.0 GB/s with 1 MiB on Linux).
// Nothing where the system has no such setting or `fd` is no pipe.
void enlarge_pipe_buffer(int fd);

// A connected pair of Unix stream sockets, closed on exec, on which writes to
// a closed peer fail with EPIPE instead of raising SIGPIPE (with
// kSendNoSignal). Returns false with errno set.
bool socket_pair(int (&ends)[2]);
extern const int kSendNoSignal;

// Called in a forked child: the child is killed when `parent` ends, however it
// ends, and exits at once if `parent` has already gone.
void die_with_parent(pid_t parent);

// Keeps the calling thread on one core, where the system lets a program
// choose; false where it does not (the thread then runs where it is put).
bool pin_thread_to_core(unsigned core);

// A file's modification time in nanoseconds since the epoch.
std::int64_t modified_ns(const struct stat& st);

}  // namespace gpusum::platform
