// What only the POSIX systems (Linux, macOS) have, for the code that exists
// only there (the forked process pool); linux.cpp and darwin.cpp implement it.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>

namespace gpusum::platform {

// A connected pair of Unix stream sockets, closed on exec, on which writes to
// a closed peer fail with EPIPE instead of raising SIGPIPE (with
// kSendNoSignal). Returns false with errno set.
bool socket_pair(int (&ends)[2]);
extern const int kSendNoSignal;

// Called in a forked child: the child is killed when `parent` ends, however it
// ends, and exits at once if `parent` has already gone.
void die_with_parent(pid_t parent);

// A file's modification time in nanoseconds since the epoch.
std::int64_t modified_ns(const struct stat& st);

}  // namespace gpusum::platform
