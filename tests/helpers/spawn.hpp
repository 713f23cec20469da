// Runs a program (gpusum, or mpirun around it) as a user would and collects
// what it prints and how it ends. Shared by the CLI and MPI tests.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#ifdef _WIN32
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <memory>
#include <thread>
#else
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;
#endif

namespace spawn {

#ifdef _WIN32
struct Process {
    long long pid = -1;
    HANDLE process = nullptr;
    HANDLE out = nullptr;  // read ends, or null
    HANDLE err = nullptr;
    std::shared_ptr<std::thread> feeder;  // writes stdin_bytes
};
#else
struct Process {
    pid_t pid = -1;
    int out = -1;
    int err = -1;
};
#endif

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
    // Asked when the run has taken its minute, with the hung process's id:
    // true when the hang is proven to be a launcher's own, not gpusum's (an
    // mpirun stuck in its teardown after every rank has ended). That process
    // is killed and the run returned marked, instead of failing the test.
    std::function<bool(long long pid)> hang_is_launchers;
};

// What runs gpusum in a cross build: the emulator's command line (e.g.
// "/usr/bin/qemu-aarch64 -L /usr/aarch64-linux-gnu"), since an emulated
// process cannot exec a foreign binary itself; empty for a native build and
// under wine.
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

// How long a stopped run may take to end: within a second natively (the
// documented promise); under an emulator every instruction is many times
// slower, so a slice of work is too, and the bound is widened.
inline double seconds_to_stop() {
    return std::string(GPUSUM_LAUNCHER).empty() ? 1.0 : 3.0;
}

inline int lines(const std::string& s) {
    int n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

struct Finished {
    int code = -1;  // exit status, or 128 + signal
    std::string out;
    std::string err;
    bool launcher_hung = false;  // killed after a hang that hang_is_launchers excused
};

#ifdef _WIN32
// One argument as Windows programs parse their command line back
// (CommandLineToArgvW's rules: quotes, and backslashes before them doubled).
inline std::wstring quoted(const std::string& utf8) {
    const int n =
        ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
    std::wstring arg(static_cast<std::size_t>(n), L'\0');
    ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), arg.data(), n);
    std::wstring out = L"\"";
    std::size_t backslashes = 0;
    for (const wchar_t c : arg) {
        if (c == L'\\') {
            ++backslashes;
            continue;
        }
        out.append(c == L'"' ? backslashes * 2 + 1 : backslashes, L'\\');
        backslashes = 0;
        out += c;
    }
    out.append(backslashes * 2, L'\\');
    return out + L"\"";
}

inline bool inheritable_pipe(HANDLE& read, HANDLE& write, bool child_reads) {
    SECURITY_ATTRIBUTES inherited{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    if (!::CreatePipe(&read, &write, &inherited, 1 << 16)) return false;
    ::SetHandleInformation(child_reads ? write : read, HANDLE_FLAG_INHERIT, 0);
    return true;
}

inline Process start(const std::vector<std::string>& args, const Launch& launch = {}) {
    REQUIRE_MESSAGE(!launch.in_child, "no code runs in a child before exec on Windows");
    std::wstring command = quoted(launch.program.empty() ? executable() : launch.program);
    for (const std::string& a : args) command += L" " + quoted(a);
    HANDLE out_read = nullptr, out_write = nullptr, err_read = nullptr, err_write = nullptr;
    HANDLE in_read = nullptr, in_write = nullptr;
    REQUIRE(inheritable_pipe(out_read, out_write, false));
    REQUIRE(inheritable_pipe(err_read, err_write, false));
    SECURITY_ATTRIBUTES inherited{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    if (!launch.stdout_path.empty()) {
        ::CloseHandle(out_write);
        out_write = ::CreateFileA(launch.stdout_path.c_str(), GENERIC_WRITE,
                                  FILE_SHARE_READ | FILE_SHARE_WRITE, &inherited, OPEN_EXISTING,
                                  FILE_ATTRIBUTE_NORMAL, nullptr);
        REQUIRE(out_write != INVALID_HANDLE_VALUE);
    }
    if (!launch.stdin_bytes.empty())
        REQUIRE(inheritable_pipe(in_read, in_write, true));
    else
        in_read = ::CreateFileA("NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &inherited,
                                OPEN_EXISTING, 0, nullptr);
    STARTUPINFOW startup{};
    startup.cb = sizeof startup;
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = in_read;
    startup.hStdOutput = out_write;
    startup.hStdError = err_write;
    PROCESS_INFORMATION started{};
    const BOOL ok = ::CreateProcessW(nullptr, command.data(), nullptr, nullptr, TRUE, 0, nullptr,
                                     nullptr, &startup, &started);
    ::CloseHandle(out_write);
    ::CloseHandle(err_write);
    ::CloseHandle(in_read);
    REQUIRE(ok);
    ::CloseHandle(started.hThread);
    Process p;
    p.pid = started.dwProcessId;
    p.process = started.hProcess;
    if (!launch.stdout_path.empty() || launch.stdout_reader_gone)
        ::CloseHandle(out_read);
    else
        p.out = out_read;
    p.err = err_read;
    if (in_write != nullptr)
        p.feeder = std::make_shared<std::thread>([in_write, bytes = launch.stdin_bytes] {
            for (std::size_t at = 0; at < bytes.size();) {
                DWORD wrote = 0;
                if (!::WriteFile(
                        in_write, bytes.data() + at,
                        static_cast<DWORD>(std::min<std::size_t>(bytes.size() - at, 1 << 20)),
                        &wrote, nullptr))
                    break;
                at += wrote;
            }
            ::CloseHandle(in_write);
        });
    return p;
}

inline Finished finish(Process p, const Launch& launch = {}) {
    Finished f;
    auto drain = [](HANDLE h, std::string* sink) {
        if (h == nullptr) return std::thread();
        return std::thread([h, sink] {
            char buf[4096];
            DWORD n = 0;
            while (::ReadFile(h, buf, sizeof buf, &n, nullptr) && n > 0) sink->append(buf, n);
            ::CloseHandle(h);
        });
    };
    std::thread out = drain(p.out, &f.out);
    std::thread err = drain(p.err, &f.err);
    // Nothing gpusum is asked here should take a minute: a hang is a failure.
    const bool hung = ::WaitForSingleObject(p.process, 60'000) == WAIT_TIMEOUT;
    f.launcher_hung = hung && launch.hang_is_launchers && launch.hang_is_launchers(p.pid);
    if (hung) ::TerminateProcess(p.process, 137);
    ::WaitForSingleObject(p.process, INFINITE);
    if (out.joinable()) out.join();
    if (err.joinable()) err.join();
    if (p.feeder) p.feeder->join();
    DWORD code = 0;
    ::GetExitCodeProcess(p.process, &code);
    ::CloseHandle(p.process);
    if (hung && !f.launcher_hung) FAIL("gpusum hung and was killed");
    f.code = static_cast<int>(code);
    return f;
}

inline bool has_dev_full() {
    return false;
}
#else
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

// A device that is always full, for tests of failed writes: Linux only.
inline bool has_dev_full() {
    return ::access("/dev/full", W_OK) == 0;
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

inline Finished finish(Process p, const Launch& launch = {}) {
    Finished f;
    pollfd fds[2] = {{p.out, POLLIN, 0}, {p.err, POLLIN, 0}};
    std::string* sinks[2] = {&f.out, &f.err};
    int open = (p.out >= 0) + (p.err >= 0);
    // Nothing gpusum is asked here should take a minute: a hang is a failure.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (open > 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            // Asked before the kill, while the hung process's children are still its own.
            const bool excused =
                !f.launcher_hung && launch.hang_is_launchers && launch.hang_is_launchers(p.pid);
            ::kill(p.pid, SIGKILL);
            if (!excused) FAIL("gpusum hung and was killed");
            f.launcher_hung = true;  // drain what it wrote; its pipes close as it dies
            deadline += std::chrono::seconds(10);
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

#endif

inline Finished run(const std::vector<std::string>& args, const Launch& launch = {}) {
    return finish(start(args, launch), launch);
}

}  // namespace spawn
