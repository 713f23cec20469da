// Runs a program (gpusum, or mpirun around it) as a user would and collects
// what it prints and how it ends. Shared by the CLI and MPI tests.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

extern char** environ;

namespace spawn {

struct Process {
    pid_t pid = -1;
    int out = -1;
    int err = -1;
};

// The binary under test: the one this build made, unless GPUSUM_EXE names
// another (the same tests, run on a copy of the build elsewhere).
inline std::string executable() {
    const char* override_path = std::getenv("GPUSUM_EXE");
    return override_path != nullptr ? override_path : GPUSUM_EXE;
}

// How the child is started, beyond its arguments.
struct Launch {
    std::string program;              // the program to run; empty: gpusum
    std::string stdout_path;          // stdout to this file instead of a pipe
    std::string stdin_bytes;          // fed to stdin through a pipe (empty: inherited)
    bool stdout_reader_gone = false;  // stdout a pipe whose reader has already closed it
    std::function<void()> in_child;   // runs in the child just before exec
};

// In a child about to exec: a pseudo-terminal as descriptor `fd` (stdin or
// stderr), for what gpusum does differently at a terminal. Exits 125 if the
// machine has no pseudo-terminals (callers skip then).
inline void terminal_as(int fd) {
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) ::_exit(125);
    const int pty = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
    if (pty < 0) ::_exit(125);
    ::dup2(pty, fd);
}

// A pipe closed on exec. Tests start one child at a time, so pipe2's
// atomicity is not needed where it does not exist (macOS).
inline bool cloexec_pipe(int (&ends)[2]) {
    return ::pipe(ends) == 0 && ::fcntl(ends[0], F_SETFD, FD_CLOEXEC) == 0 &&
           ::fcntl(ends[1], F_SETFD, FD_CLOEXEC) == 0;
}

// How long a stopped run may take to end: within a second natively (the
// documented promise); under an emulator every instruction is many times
// slower, so a slice of work is too, and the bound is widened.
inline double seconds_to_stop() {
    return std::string(GPUSUM_LAUNCHER).empty() ? 1.0 : 3.0;
}

// A device that is always full, for tests of failed writes: Linux only.
inline bool has_dev_full() {
    return ::access("/dev/full", W_OK) == 0;
}

// What runs gpusum in a cross build: the emulator's command line (e.g.
// "/usr/bin/qemu-aarch64 -L /usr/aarch64-linux-gnu"), since an emulated
// process cannot exec a foreign binary itself; empty for a native build.
inline std::vector<std::string> launcher() {
    std::vector<std::string> words;
    std::string word;
    for (const char c : std::string(GPUSUM_LAUNCHER) + ' ') {
        if (c != ' ') {
            word += c;
        } else if (!word.empty()) {
            words.push_back(word);
            word.clear();
        }
    }
    return words;
}

inline Process start(const std::vector<std::string>& args, const Launch& launch = {}) {
    std::vector<std::string> words =
        launch.program.empty() ? launcher() : std::vector<std::string>{};
    words.push_back(launch.program.empty() ? executable() : launch.program);
    words.insert(words.end(), args.begin(), args.end());
    const std::string exe = words.front();
    std::vector<char*> argv;
    argv.reserve(words.size() + 1);
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    int out[2], err[2];
    REQUIRE(cloexec_pipe(out));
    REQUIRE(cloexec_pipe(err));
    if (launch.stdout_reader_gone) {
        ::close(out[0]);
        out[0] = -1;
    }
    const int file =
        launch.stdout_path.empty() ? -1 : ::open(launch.stdout_path.c_str(), O_WRONLY | O_CLOEXEC);
    Process p;
    p.pid = ::fork();
    REQUIRE(p.pid >= 0);
    if (p.pid == 0) {
        ::dup2(file >= 0 ? file : out[1], 1);
        ::dup2(err[1], 2);
        if (!launch.stdin_bytes.empty()) {
            // A writer process of its own, so a full pipe cannot block anyone.
            int in[2];
            if (::pipe(in) != 0) ::_exit(127);
            if (::fork() == 0) {
                ::close(in[0]);
                const std::string& b = launch.stdin_bytes;
                for (std::size_t at = 0; at < b.size();) {
                    const ssize_t n = ::write(in[1], b.data() + at, b.size() - at);
                    if (n <= 0) ::_exit(1);
                    at += static_cast<std::size_t>(n);
                }
                ::_exit(0);
            }
            ::close(in[1]);
            ::dup2(in[0], 0);
            ::close(in[0]);
        }
        if (launch.in_child) launch.in_child();
        ::execve(exe.c_str(), argv.data(), environ);
        ::_exit(127);
    }
    if (file >= 0) ::close(file);
    ::close(out[1]);
    ::close(err[1]);
    if (file >= 0 && out[0] >= 0) {
        ::close(out[0]);
        out[0] = -1;
    }
    p.out = out[0];
    p.err = err[0];
    return p;
}

struct Finished {
    int code = -1;  // exit status, or 128 + signal
    std::string out;
    std::string err;
};

inline Finished finish(Process p) {
    Finished f;
    pollfd fds[2] = {{p.out, POLLIN, 0}, {p.err, POLLIN, 0}};
    std::string* sinks[2] = {&f.out, &f.err};
    int open = (p.out >= 0) + (p.err >= 0);
    // Nothing gpusum is asked here should take a minute: a hang is a failure.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (open > 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(p.pid, SIGKILL);
            FAIL("gpusum hung and was killed");
        }
        if (::poll(fds, 2, 1000) < 0) continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            char buf[4096];
            const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sinks[i]->append(buf, static_cast<std::size_t>(n));
            } else {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open;
            }
        }
    }
    int status = 0;
    ::waitpid(p.pid, &status, 0);
    f.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return f;
}

inline Finished run(const std::vector<std::string>& args, const Launch& launch = {}) {
    return finish(start(args, launch));
}

inline int lines(const std::string& s) {
    int n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

}  // namespace spawn
