// What the process table and fd table say: the evidence that a pool reaped
// its workers, closed its sockets, and left no orphan. Linux reads /proc;
// macOS runs ps(1), which is slower; Windows takes a Toolhelp snapshot and
// counts handles.
#pragma once

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#ifdef _WIN32
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
// After windows.h:
#include <tlhelp32.h>

namespace gpusum::testing {

struct ProcessEntry {
    long long pid = 0;
    long long parent = 0;
};

inline std::vector<ProcessEntry> process_table() {
    std::vector<ProcessEntry> table;
    const HANDLE snapshot = ::CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    PROCESSENTRY32W e{};
    e.dwSize = sizeof e;
    for (bool more = ::Process32FirstW(snapshot, &e) != 0; more;
         more = ::Process32NextW(snapshot, &e) != 0)
        table.push_back({e.th32ProcessID, e.th32ParentProcessID});
    ::CloseHandle(snapshot);
    return table;
}

// Children of `parent` that still run (Windows keeps no zombies).
inline std::vector<long long> children_of(long long parent) {
    std::vector<long long> children;
    for (const ProcessEntry& p : process_table())
        if (p.parent == parent) children.push_back(p.pid);
    return children;
}

inline int child_processes() {
    return static_cast<int>(children_of(::GetCurrentProcessId()).size());
}

inline bool alive(long long pid) {
    const HANDLE h = ::OpenProcess(SYNCHRONIZE, FALSE, static_cast<DWORD>(pid));
    if (h == nullptr) return false;
    const bool running = ::WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
    ::CloseHandle(h);
    return running;
}

// Handles open in this process: pipes, processes, threads, sections.
inline int open_fds() {
    DWORD count = 0;
    ::GetProcessHandleCount(::GetCurrentProcess(), &count);
    return static_cast<int>(count);
}

// Ends `pid` at once, as SIGKILL would.
inline bool kill_process(long long pid) {
    const HANDLE h = ::OpenProcess(PROCESS_TERMINATE, FALSE, static_cast<DWORD>(pid));
    if (h == nullptr) return false;
    const bool killed = ::TerminateProcess(h, 9) != 0;
    ::CloseHandle(h);
    return killed;
}

// Stops `pid` as SIGSTOP would: every thread of it suspended.
inline bool stop_process(long long pid) {
    const HANDLE snapshot = ::CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    THREADENTRY32 e{};
    e.dwSize = sizeof e;
    int stopped = 0;
    for (bool more = ::Thread32First(snapshot, &e) != 0; more;
         more = ::Thread32Next(snapshot, &e) != 0) {
        if (e.th32OwnerProcessID != static_cast<DWORD>(pid)) continue;
        const HANDLE thread = ::OpenThread(THREAD_SUSPEND_RESUME, FALSE, e.th32ThreadID);
        if (thread == nullptr) continue;
        stopped += ::SuspendThread(thread) != static_cast<DWORD>(-1);
        ::CloseHandle(thread);
    }
    ::CloseHandle(snapshot);
    return stopped > 0;
}

}  // namespace gpusum::testing
#else
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace gpusum::testing {

struct ProcessEntry {
    pid_t pid = 0;
    pid_t parent = 0;
    char state = 0;  // 'Z' for a zombie
};

#if defined(__linux__)
inline std::vector<ProcessEntry> process_table() {
    std::vector<ProcessEntry> table;
    DIR* proc = ::opendir("/proc");
    while (dirent* e = ::readdir(proc)) {
        std::ifstream stat(std::string("/proc/") + e->d_name + "/stat");
        std::string line;
        if (!std::getline(stat, line)) continue;
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        const auto comm_end = line.rfind(')');
        ProcessEntry p;
        if (comm_end != std::string::npos && std::sscanf(line.c_str(), "%d", &p.pid) == 1 &&
            std::sscanf(line.c_str() + comm_end + 1, " %c %d", &p.state, &p.parent) == 2)
            table.push_back(p);
    }
    ::closedir(proc);
    return table;
}
#else
inline std::vector<ProcessEntry> process_table() {
    // ps(1) run directly, not through popen's shell, so that its own entry
    // (a child of this process) can be left out.
    int out[2];
    if (::pipe(out) != 0) return {};
    const pid_t ps = ::fork();
    if (ps < 0) {
        ::close(out[0]);
        ::close(out[1]);
        return {};
    }
    if (ps == 0) {
        ::dup2(out[1], 1);
        ::close(out[0]);
        ::close(out[1]);
        ::execlp("ps", "ps", "-A", "-o", "pid=", "-o", "ppid=", "-o", "stat=", nullptr);
        ::_exit(127);
    }
    ::close(out[1]);
    std::vector<ProcessEntry> table;
    FILE* listing = ::fdopen(out[0], "r");
    ProcessEntry p;
    char state[16];
    while (std::fscanf(listing, "%d %d %15s", &p.pid, &p.parent, state) == 3) {
        p.state = state[0];
        if (p.pid != ps) table.push_back(p);
    }
    std::fclose(listing);
    ::waitpid(ps, nullptr, 0);
    return table;
}
#endif

// Children of `parent` that still exist, zombies included.
inline std::vector<pid_t> children_of(pid_t parent) {
    std::vector<pid_t> children;
    for (const ProcessEntry& p : process_table())
        if (p.parent == parent) children.push_back(p.pid);
    return children;
}

inline int child_processes() {
    return static_cast<int>(children_of(::getpid()).size());
}

// Running or stopped; a zombie has ended (its reaper may simply be slow).
inline bool alive(pid_t pid) {
    for (const ProcessEntry& p : process_table())
        if (p.pid == pid) return p.state != 'Z' && p.state != 'X';
    return false;
}

// Descriptors open in this process (/dev/fd lists them on Linux and macOS).
inline int open_fds() {
    int count = 0;
    DIR* d = ::opendir("/dev/fd");
    while (::readdir(d) != nullptr) ++count;
    ::closedir(d);
    return count;
}

// Ends `pid` at once (SIGKILL).
inline bool kill_process(long long pid) {
    return ::kill(static_cast<pid_t>(pid), SIGKILL) == 0;
}

// Stops `pid` until it is continued or killed (SIGSTOP).
inline bool stop_process(long long pid) {
    return ::kill(static_cast<pid_t>(pid), SIGSTOP) == 0;
}

}  // namespace gpusum::testing
#endif
