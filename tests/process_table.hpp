// What the process table and fd table say about this test process: the
// evidence that a pool reaped its workers and closed its sockets.
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace gpusum::testing {

// Children of this process that still exist, zombies included.
inline int child_processes() {
    int count = 0;
    const int self = ::getpid();
    DIR* proc = ::opendir("/proc");
    while (dirent* e = ::readdir(proc)) {
        const std::string stat_path = std::string("/proc/") + e->d_name + "/stat";
        FILE* f = std::fopen(stat_path.c_str(), "r");
        if (f == nullptr) continue;
        int pid = 0, ppid = 0;
        char state = 0;
        char comm[256];
        // comm has no spaces for our workers (they are copies of this process).
        if (std::fscanf(f, "%d %255s %c %d", &pid, comm, &state, &ppid) == 4 && ppid == self)
            ++count;
        std::fclose(f);
    }
    ::closedir(proc);
    return count;
}

inline int open_fds() {
    int count = 0;
    DIR* d = ::opendir("/proc/self/fd");
    while (::readdir(d) != nullptr) ++count;
    ::closedir(d);
    return count;
}

}  // namespace gpusum::testing
