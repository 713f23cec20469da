// The platform layer on Windows (x86-64, built with mingw-w64's GCC or
// LLVM-MinGW). Descriptors are the C runtime's, over Windows handles; paths
// are UTF-8 and opened through the wide API.
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
// After windows.h:
#include <fcntl.h>
#include <io.h>
#include <process.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "platform/platform.hpp"
#include "platform/windows.hpp"

namespace gpusum::platform {

std::wstring wide(const std::string& utf8) {
    if (utf8.empty()) return {};
    const int n =
        ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
    std::wstring out(static_cast<std::size_t>(std::max(n, 0)), L'\0');
    ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
    return out;
}

namespace {

std::string narrow(const std::wstring& text) {
    if (text.empty()) return {};
    const int n = ::WideCharToMultiByte(CP_UTF8, 0, text.data(), static_cast<int>(text.size()),
                                        nullptr, 0, nullptr, nullptr);
    std::string out(static_cast<std::size_t>(std::max(n, 0)), '\0');
    ::WideCharToMultiByte(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), out.data(), n,
                          nullptr, nullptr);
    return out;
}

}  // namespace

std::string error_text(unsigned long code) {
    wchar_t* text = nullptr;
    const DWORD n = ::FormatMessageW(
        FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
        nullptr, code, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
    std::string out = n > 0 ? narrow(std::wstring(text, n)) : "error " + std::to_string(code);
    ::LocalFree(text);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == '.'))
        out.pop_back();
    return out;
}

unsigned usable_cores() {
    DWORD_PTR process = 0, system = 0;
    // Zero masks: the process spans several processor groups.
    if (::GetProcessAffinityMask(::GetCurrentProcess(), &process, &system) && process != 0)
        return static_cast<unsigned>(std::popcount(static_cast<std::uint64_t>(process)));
    const DWORD n = ::GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
    return n == 0 ? 1 : n;
}

std::uint64_t available_memory() {
    MEMORYSTATUSEX status{};
    status.dwLength = sizeof status;
    if (!::GlobalMemoryStatusEx(&status)) return UINT64_MAX;
    return status.ullAvailPhys;
}

bool pin_thread_to_core(unsigned core) {
    if (core >= 64) return false;  // beyond the first processor group
    return ::SetThreadAffinityMask(::GetCurrentThread(), DWORD_PTR{1} << core) != 0;
}

namespace {

HANDLE handle_of(int fd) {
    return reinterpret_cast<HANDLE>(::_get_osfhandle(fd));
}

}  // namespace

bool is_terminal(int fd) {
    // _isatty is also true for NUL; a console has a console mode.
    DWORD mode = 0;
    return ::GetConsoleMode(handle_of(fd), &mode) != 0;
}

int terminal_columns() {
    CONSOLE_SCREEN_BUFFER_INFO info{};
    if (::GetConsoleScreenBufferInfo(::GetStdHandle(STD_ERROR_HANDLE), &info))
        return info.srWindow.Right - info.srWindow.Left + 1;
    return 80;
}

bool write_all(void* handle, const void* data, std::size_t size) {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
        DWORD wrote = 0;
        if (!::WriteFile(handle, p, static_cast<DWORD>(std::min<std::size_t>(size, 1 << 30)),
                         &wrote, nullptr) ||
            wrote == 0)
            return false;
        p += wrote;
        size -= wrote;
    }
    return true;
}

bool read_all(void* handle, void* data, std::size_t size) {
    auto* p = static_cast<char*>(data);
    while (size > 0) {
        DWORD got = 0;
        if (!::ReadFile(handle, p, static_cast<DWORD>(std::min<std::size_t>(size, 1 << 30)), &got,
                        nullptr) ||
            got == 0)
            return false;
        p += got;
        size -= got;
    }
    return true;
}

void write_stderr(const char* text, std::size_t size) {
    write_all(::GetStdHandle(STD_ERROR_HANDLE), text, size);  // best effort
}

void prepare_standard_streams() {
    // Text mode would write "\r\n" for "\n".
    ::_setmode(1, _O_BINARY);
    // The progress bar redraws with "\r" and ESC [ K: a console takes those
    // when asked to (Windows 10 and later).
    const HANDLE err = ::GetStdHandle(STD_ERROR_HANDLE);
    DWORD mode = 0;
    if (::GetConsoleMode(err, &mode))
        ::SetConsoleMode(err, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING);
}

void exit_now(int code) {
    ::_exit(code);
}

void wait_for_exit() {
    for (;;) ::Sleep(INFINITE);
}

int open_to_read(const std::string& path, bool) {
    // A FIFO's writer is never waited for here: Windows has none to open by name.
    const std::wstring name = wide(path);
    const int fd = ::_wopen(name.c_str(), _O_RDONLY | _O_BINARY | _O_NOINHERIT);
    if (fd < 0 && errno == EACCES) {
        // What a directory gives: say so rather than "Permission denied".
        const DWORD attributes = ::GetFileAttributesW(name.c_str());
        if (attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0)
            errno = EISDIR;
    }
    return fd;
}

int duplicate_standard_input() {
    const int fd = ::_dup(0);
    if (fd >= 0) ::_setmode(fd, _O_BINARY);
    return fd;
}

void make_blocking(int) {
    // Reads on Windows descriptors always block.
}

bool file_facts(int fd, FileFacts& facts) {
    const HANDLE h = handle_of(fd);
    if (h == INVALID_HANDLE_VALUE) return false;
    switch (::GetFileType(h)) {
        case FILE_TYPE_DISK: {
            BY_HANDLE_FILE_INFORMATION info{};
            if (!::GetFileInformationByHandle(h, &info)) return false;
            facts.kind = (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0
                             ? FileKind::other
                             : FileKind::regular;
            facts.size = (std::uint64_t{info.nFileSizeHigh} << 32) | info.nFileSizeLow;
            // 100 ns ticks since 1601 to ns since 1970.
            const std::uint64_t ticks = (std::uint64_t{info.ftLastWriteTime.dwHighDateTime} << 32) |
                                        info.ftLastWriteTime.dwLowDateTime;
            facts.modified_ns = (static_cast<std::int64_t>(ticks) - 116444736000000000) * 100;
            facts.identity = (std::uint64_t{info.nFileIndexHigh} << 32) | info.nFileIndexLow;
            return true;
        }
        case FILE_TYPE_PIPE:
            facts = {FileKind::pipe, 0, 0, 0};
            return true;
        default:
            facts = {FileKind::other, 0, 0, 0};
            return true;
    }
}

bool path_exists(const std::string& path) {
    return ::GetFileAttributesW(wide(path).c_str()) != INVALID_FILE_ATTRIBUTES;
}

long read_some(int fd, void* out, std::size_t size) {
    return ::_read(fd, out, static_cast<unsigned>(std::min<std::size_t>(size, INT_MAX)));
}

void close_descriptor(int fd) {
    ::_close(fd);
}

bool wait_readable(int fd, int milliseconds) {
    const HANDLE h = handle_of(fd);
    if (::GetFileType(h) != FILE_TYPE_PIPE) return true;  // files and consoles: read
    // Pipes cannot be waited on with a timeout: look, then sleep briefly.
    const ULONGLONG until = ::GetTickCount64() + static_cast<ULONGLONG>(milliseconds);
    for (;;) {
        DWORD available = 0;
        if (!::PeekNamedPipe(h, nullptr, 0, nullptr, &available, nullptr) || available > 0)
            return true;  // data, or the writer has gone: read() says which
        if (::GetTickCount64() >= until) return false;
        ::Sleep(1);
    }
}

void enlarge_pipe_buffer(int) {
    // A pipe's buffer is fixed by its creator on Windows.
}

namespace {

// The file mappings behind the views map_file made, kept open so that the
// process pool can hand a worker the file itself rather than a copy.
struct MappedView {
    const unsigned char* data;
    std::uint64_t size;
    HANDLE mapping;
};
std::mutex g_views_lock;
std::vector<MappedView> g_views;

}  // namespace

bool file_mapping_holding(const void* data, std::uint64_t bytes, FileMappingSpan& span) {
    const auto* p = static_cast<const unsigned char*>(data);
    const std::lock_guard<std::mutex> held(g_views_lock);
    for (const MappedView& v : g_views)
        if (p >= v.data && static_cast<std::uint64_t>(p - v.data) + bytes <= v.size) {
            span = {v.mapping, static_cast<std::uint64_t>(p - v.data), v.size};
            return true;
        }
    return false;
}

void* map_file(int fd, std::uint64_t size, int& error) {
    const HANDLE mapping =
        ::CreateFileMappingW(handle_of(fd), nullptr, PAGE_READONLY, 0, 0, nullptr);
    if (mapping == nullptr) {
        const DWORD code = ::GetLastError();
        error = code == ERROR_NOT_ENOUGH_MEMORY || code == ERROR_COMMITMENT_LIMIT ? ENOMEM
                : code == ERROR_ACCESS_DENIED                                     ? EACCES
                                                                                  : kNotMappable;
        return nullptr;
    }
    void* data = ::MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, static_cast<SIZE_T>(size));
    if (data == nullptr) {
        error = ::GetLastError() == ERROR_NOT_ENOUGH_MEMORY ? ENOMEM : kNotMappable;
        ::CloseHandle(mapping);
        return nullptr;
    }
    const std::lock_guard<std::mutex> held(g_views_lock);
    g_views.push_back({static_cast<const unsigned char*>(data), size, mapping});
    return data;
}

std::size_t page_size() {
    SYSTEM_INFO info{};
    ::GetSystemInfo(&info);
    return info.dwPageSize;
}

void* map_memory(std::uint64_t size) {
    void* data = ::VirtualAlloc(nullptr, static_cast<SIZE_T>(size), MEM_RESERVE | MEM_COMMIT,
                                PAGE_READWRITE);
    if (data == nullptr) errno = ENOMEM;
    return data;
}

void unmap(void* data, std::uint64_t) {
    // A view of a file is in g_views; anything else came from map_memory.
    const std::lock_guard<std::mutex> held(g_views_lock);
    const auto view = std::find_if(g_views.begin(), g_views.end(),
                                   [&](const MappedView& v) { return v.data == data; });
    if (view == g_views.end()) {
        ::VirtualFree(data, 0, MEM_RELEASE);
        return;
    }
    ::UnmapViewOfFile(data);
    ::CloseHandle(view->mapping);
    g_views.erase(view);
}

void advise_sequential(void*, std::size_t) {
    // Windows reads mapped files ahead by itself.
}

void release_pages(void* data, std::size_t bytes) {
    // Unlocking pages that are not locked takes them out of the working set.
    ::VirtualUnlock(data, bytes);
}

void advise_huge_pages(void*, std::size_t) {
    // Large pages need a privilege users do not have by default.
}

namespace {

std::atomic<void (*)(int)> g_on_stop{nullptr};

BOOL WINAPI on_console_event(DWORD event) {
    void (*on_stop)(int) = g_on_stop.load();
    if (on_stop == nullptr) return FALSE;
    if (event == CTRL_C_EVENT) {
        on_stop(SIGINT);  // numbered as on POSIX by the C runtime: exit 130
        return TRUE;
    }
    on_stop(SIGTERM);  // exit 143
    if (event == CTRL_BREAK_EVENT) return TRUE;
    // Closing the console, logging off, shutting down: Windows ends the
    // process when this returns, so it waits while the run unwinds and
    // exits (Windows allows a few seconds).
    ::Sleep(INFINITE);
    return TRUE;
}

void (*g_on_fault)() = nullptr;
PVOID g_fault_handler = nullptr;

LONG WINAPI on_exception(EXCEPTION_POINTERS* info) {
    // A mapped file's page that could not be read in (a network or removable
    // file gone, a disk error): Windows does not let a mapped file shrink.
    if (info->ExceptionRecord->ExceptionCode == EXCEPTION_IN_PAGE_ERROR && g_on_fault != nullptr)
        g_on_fault();
    return EXCEPTION_CONTINUE_SEARCH;
}

}  // namespace

void catch_stop_requests(void (*on_stop)(int signal), void (*)()) {
    // Windows cannot stop and continue a process: no continue event.
    g_on_stop.store(on_stop);
    ::SetConsoleCtrlHandler(on_console_event, TRUE);
}

void release_stop_requests() {
    ::SetConsoleCtrlHandler(on_console_event, FALSE);
    g_on_stop.store(nullptr);
}

void catch_file_faults(void (*on_fault)()) {
    g_on_fault = on_fault;
    g_fault_handler = ::AddVectoredExceptionHandler(1, on_exception);
}

void release_file_faults() {
    if (g_fault_handler != nullptr) ::RemoveVectoredExceptionHandler(g_fault_handler);
    g_fault_handler = nullptr;
}

void around_fork(void (*)(), void (*)(), void (*)()) {
    // Windows does not fork.
}

std::vector<std::string> utf8_arguments(int argc, char** argv) {
    int count = 0;
    wchar_t** wide_args = ::CommandLineToArgvW(::GetCommandLineW(), &count);
    std::vector<std::string> out;
    if (wide_args == nullptr || count != argc) {
        out.assign(argv, argv + argc);  // the C runtime's own parse
    } else {
        for (int i = 0; i < count; ++i) out.push_back(narrow(wide_args[i]));
    }
    ::LocalFree(wide_args);
    return out;
}

}  // namespace gpusum::platform
