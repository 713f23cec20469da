// The process pool's workers on Windows, which cannot fork: each is this
// program started again in worker mode (serve_process_pool_worker), told the
// request over its standard input, answering on its standard output. An
// array in a mapped file is shared as that file's mapping, any other is
// copied once per pool into a memory section; workers map either read-only.
// Workers belong to a job object that kills them when this
// process ends, however it ends; a thread per worker turns its answers into
// messages the scheduler waits on.
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "backends/cpu/chunk_work.hpp"
#include "backends/cpu/worker_process.hpp"
#include "gpusum/gpusum.hpp"
#include "input/file_guard.hpp"
#include "platform/platform.hpp"
#include "platform/windows.hpp"

namespace gpusum {

namespace {

constexpr char kWorkerFlag[] = "--gpusum-pool-worker";
constexpr std::uint64_t kSetupMagic = 0x6770'7375'6d77'6b31;  // "gpsumwk1"
// The status the pool gives a worker it terminates.
constexpr UINT kTerminatedExit = 9;

std::atomic<bool> g_serves_workers{false};

// What a worker is sent before its first chunk; then `dimensions` pairs of
// a shape and a byte stride when the array has a layout.
struct WorkerSetup {
    std::uint64_t magic = kSetupMagic;
    std::uint64_t chunks = 0;
    std::int64_t first = 0;  // the series
    std::uint64_t count = 0;
    std::int64_t step = 1;
    std::uint64_t section = 0;  // the array's memory section (a handle value), or 0
    std::uint64_t section_bytes = 0;
    std::uint64_t origin = 0;  // where element [0, ..., 0] lies in the section
    std::uint64_t elements = 0;
    std::uint64_t first_element = 0;
    std::uint32_t dtype = 0;
    std::uint32_t dimensions = 0;
    std::uint32_t has_layout = 0;
    std::uint32_t swapped = 0;
};

using platform::read_all;
using platform::write_all;

[[noreturn]] void worker_main() {
    const HANDLE in = ::GetStdHandle(STD_INPUT_HANDLE);
    const HANDLE out = ::GetStdHandle(STD_OUTPUT_HANDLE);
    ::SetConsoleCtrlHandler(nullptr, TRUE);  // Ctrl-C is the parent's to handle
    // A page of a shared input file that cannot be read in: the parent says so.
    platform::catch_file_faults([] { platform::exit_now(kFileChangedExit); });
    WorkerSetup setup;
    if (!read_all(in, &setup, sizeof setup) || setup.magic != kSetupMagic) ::ExitProcess(2);
    Layout layout;
    layout.swapped = setup.swapped != 0;
    for (std::uint32_t d = 0; d < setup.dimensions; ++d) {
        std::uint64_t extent = 0;
        std::int64_t stride = 0;
        if (!read_all(in, &extent, sizeof extent) || !read_all(in, &stride, sizeof stride))
            ::ExitProcess(2);
        layout.shape.push_back(extent);
        layout.strides.push_back(stride);
    }
    Request request;
    request.series = {setup.first, setup.count, setup.step};
    if (setup.section != 0) {
        const auto section = reinterpret_cast<HANDLE>(static_cast<std::uintptr_t>(setup.section));
        const void* base = ::MapViewOfFile(section, FILE_MAP_READ, 0, 0, setup.section_bytes);
        if (base == nullptr) ::ExitProcess(3);
        request.array = ArrayView{static_cast<const unsigned char*>(base) + setup.origin,
                                  setup.elements, static_cast<DType>(setup.dtype),
                                  setup.has_layout != 0 ? &layout : nullptr, setup.first_element};
    }
    for (std::uint64_t index; read_all(in, &index, sizeof index);) {
        if (index >= setup.chunks) ::ExitProcess(2);
        const ChunkResult message = answer_chunk(request, setup.chunks, index);
        if (!write_all(out, &message, sizeof message)) ::ExitProcess(1);
    }
    ::ExitProcess(0);  // the parent closed our input: the run is over
}

[[noreturn]] void fail(const std::string& what) {
    throw BackendError(what + ": " + platform::error_text(::GetLastError()));
}

// Every worker of this process is in it; when the process ends, Windows
// closes its handle and kills them all.
HANDLE worker_job() {
    static const HANDLE job = [] {
        const HANDLE j = ::CreateJobObjectW(nullptr, nullptr);
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
        limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
        if (j != nullptr)
            ::SetInformationJobObject(j, JobObjectExtendedLimitInformation, &limits, sizeof limits);
        return j;
    }();
    return job;
}

std::wstring this_program() {
    std::wstring path(32768, L'\0');
    const DWORD n = ::GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
    path.resize(n);
    return path;
}

// Where the launcher's threads meet the scheduler.
struct Inbox {
    std::mutex lock;
    std::condition_variable changed;
};

class SpawnedWorker final : public WorkerProcess {
  public:
    SpawnedWorker(PROCESS_INFORMATION started, HANDLE to_worker, HANDLE from_worker, Inbox& inbox)
        : process_(started.hProcess),
          pid_(started.dwProcessId),
          to_worker_(to_worker),
          from_worker_(from_worker),
          inbox_(inbox),
          reader_([this] { read_answers(); }) {}
    ~SpawnedWorker() override { end(); }
    SpawnedWorker(const SpawnedWorker&) = delete;
    SpawnedWorker& operator=(const SpawnedWorker&) = delete;

    std::int64_t id() const override { return pid_; }
    bool send(std::uint64_t chunk) override { return write_all(to_worker_, &chunk, sizeof chunk); }

    // With the inbox's lock held.
    bool ready() const { return !answers_.empty() || ended_; }

    bool receive(ChunkResult& out) override {
        const std::lock_guard<std::mutex> held(inbox_.lock);
        if (answers_.empty()) return false;
        out = answers_.front();
        answers_.pop_front();
        return true;
    }

    std::string end() override {
        if (process_ == nullptr) return "already ended";
        const bool running = ::WaitForSingleObject(process_, 0) == WAIT_TIMEOUT;
        if (running) ::TerminateProcess(process_, kTerminatedExit);
        ::WaitForSingleObject(process_, INFINITE);
        DWORD status = 0;
        ::GetExitCodeProcess(process_, &status);
        // Its end closed its side of both pipes: the reader sees the end.
        ::CloseHandle(to_worker_);
        reader_.join();
        ::CloseHandle(from_worker_);
        ::CloseHandle(process_);
        process_ = nullptr;
        if (running) return "killed";
        if (status == kFileChangedExit) return kFileChanged;
        return "exited with status " + std::to_string(status);
    }

  private:
    void read_answers() {
        for (;;) {
            ChunkResult message{};
            const bool got = read_all(from_worker_, &message, sizeof message);
            const std::lock_guard<std::mutex> held(inbox_.lock);
            if (got)
                answers_.push_back(message);
            else
                ended_ = true;
            inbox_.changed.notify_all();
            if (!got) return;
        }
    }

    HANDLE process_;
    DWORD pid_;
    HANDLE to_worker_;
    HANDLE from_worker_;
    Inbox& inbox_;
    std::deque<ChunkResult> answers_;  // under inbox_.lock
    bool ended_ = false;               // under inbox_.lock
    std::thread reader_;
};

// A pipe between this process and a worker: one end inherited by the worker.
struct Pipe {
    HANDLE read = nullptr;
    HANDLE write = nullptr;
};

class SpawnLauncher final : public WorkerLauncher {
  public:
    SpawnLauncher(const Request& request, std::uint64_t chunks) {
        setup_.chunks = chunks;
        setup_.first = request.series.first;
        setup_.count = request.series.count;
        setup_.step = request.series.step;
        if (request.array) share(*request.array);
    }
    ~SpawnLauncher() override {
        if (section_ != nullptr) ::CloseHandle(section_);
    }
    SpawnLauncher(const SpawnLauncher&) = delete;
    SpawnLauncher& operator=(const SpawnLauncher&) = delete;

    std::unique_ptr<WorkerProcess> start() override {
        SECURITY_ATTRIBUTES inherited{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
        Pipe to_worker, from_worker;
        if (!::CreatePipe(&to_worker.read, &to_worker.write, &inherited, 0))
            fail("cannot create a worker pipe");
        if (!::CreatePipe(&from_worker.read, &from_worker.write, &inherited, 0)) {
            close({to_worker.read, to_worker.write});
            fail("cannot create a worker pipe");
        }
        ::SetHandleInformation(to_worker.write, HANDLE_FLAG_INHERIT, 0);
        ::SetHandleInformation(from_worker.read, HANDLE_FLAG_INHERIT, 0);
        // Only these handles pass to the worker, whatever else is inheritable.
        std::vector<HANDLE> passed{to_worker.read, from_worker.write};
        if (section_ != nullptr) passed.push_back(section_);
        HANDLE error = nullptr;
        if (::DuplicateHandle(::GetCurrentProcess(), ::GetStdHandle(STD_ERROR_HANDLE),
                              ::GetCurrentProcess(), &error, 0, TRUE, DUPLICATE_SAME_ACCESS))
            passed.push_back(error);

        SIZE_T list_bytes = 0;
        ::InitializeProcThreadAttributeList(nullptr, 1, 0, &list_bytes);
        std::vector<unsigned char> list_memory(list_bytes);
        auto* attributes = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(list_memory.data());
        STARTUPINFOEXW startup{};
        startup.StartupInfo.cb = sizeof startup;
        startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
        startup.StartupInfo.hStdInput = to_worker.read;
        startup.StartupInfo.hStdOutput = from_worker.write;
        startup.StartupInfo.hStdError = error;
        if (::InitializeProcThreadAttributeList(attributes, 1, 0, &list_bytes) &&
            ::UpdateProcThreadAttribute(attributes, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
                                        passed.data(), passed.size() * sizeof(HANDLE), nullptr,
                                        nullptr))
            startup.lpAttributeList = attributes;

        const std::wstring program = this_program();
        std::wstring command = L"\"" + program + L"\" " + platform::wide(kWorkerFlag);
        PROCESS_INFORMATION started{};
        // Its own process group: Ctrl-C and Ctrl-Break reach the parent only.
        const BOOL ok = ::CreateProcessW(
            program.c_str(), command.data(), nullptr, nullptr, TRUE,
            EXTENDED_STARTUPINFO_PRESENT | CREATE_SUSPENDED | CREATE_NEW_PROCESS_GROUP, nullptr,
            nullptr, &startup.StartupInfo, &started);
        const DWORD code = ::GetLastError();
        if (startup.lpAttributeList != nullptr) ::DeleteProcThreadAttributeList(attributes);
        close({to_worker.read, from_worker.write, error});
        if (!ok) {
            close({to_worker.write, from_worker.read});
            ::SetLastError(code);
            fail("cannot start a worker");
        }
        ::AssignProcessToJobObject(worker_job(), started.hProcess);
        ::ResumeThread(started.hThread);
        ::CloseHandle(started.hThread);
        auto worker =
            std::make_unique<SpawnedWorker>(started, to_worker.write, from_worker.read, inbox_);
        if (!write_all(to_worker.write, &setup_, sizeof setup_) ||
            !write_all(to_worker.write, dimensions_.data(),
                       dimensions_.size() * sizeof dimensions_[0]))
            throw BackendError("a worker ended before it took the request (" + worker->end() + ")");
        return worker;
    }

    void wait(const std::vector<WorkerProcess*>& workers, std::chrono::milliseconds timeout,
              std::vector<char>& ready) override {
        ready.assign(workers.size(), 0);
        std::unique_lock<std::mutex> held(inbox_.lock);
        auto any_ready = [&] {
            bool any = false;
            for (std::size_t i = 0; i < workers.size(); ++i) {
                ready[i] = static_cast<const SpawnedWorker*>(workers[i])->ready() ? 1 : 0;
                any = any || ready[i] != 0;
            }
            return any;
        };
        inbox_.changed.wait_for(held, timeout, any_ready);
    }

    unsigned room() const override { return UINT_MAX; }  // no descriptor limit to heed

  private:
    static void close(std::initializer_list<HANDLE> handles) {
        for (const HANDLE h : handles)
            if (h != nullptr) ::CloseHandle(h);
    }

    // Shares the bytes `view` may read with the workers: the mapped file
    // they lie in, or a copy in a memory section.
    void share(const ArrayView& view) {
        const auto item = static_cast<std::int64_t>(dtype_size(view.dtype));
        std::int64_t low = 0, high = 0;  // byte offsets around element [0, ..., 0]
        if (view.layout == nullptr) {
            high = static_cast<std::int64_t>(view.count) * item;
        } else {
            bool empty = false;
            for (std::size_t d = 0; d < view.layout->shape.size(); ++d) {
                empty = empty || view.layout->shape[d] == 0;
                const std::int64_t reach = (static_cast<std::int64_t>(view.layout->shape[d]) - 1) *
                                           view.layout->strides[d];
                (reach < 0 ? low : high) += reach;
            }
            high = empty ? 0 : high + item;
            for (std::size_t d = 0; d < view.layout->shape.size(); ++d)
                dimensions_.push_back({view.layout->shape[d], view.layout->strides[d]});
        }
        setup_.elements = view.count;
        setup_.first_element = view.first;
        setup_.dtype = static_cast<std::uint32_t>(view.dtype);
        setup_.dimensions = static_cast<std::uint32_t>(dimensions_.size());
        setup_.has_layout = view.layout != nullptr ? 1 : 0;
        setup_.swapped = view.swapped() ? 1 : 0;
        const auto bytes = static_cast<std::uint64_t>(high - low);
        platform::FileMappingSpan file;
        if (bytes > 0 && platform::file_mapping_holding(view.data + low, bytes, file)) {
            // The file itself: nothing is copied, and the pages the parent
            // has read are the workers' too.
            if (!::DuplicateHandle(::GetCurrentProcess(), file.mapping, ::GetCurrentProcess(),
                                   &section_, FILE_MAP_READ, TRUE, 0))
                fail("cannot share the input file with the workers");
            setup_.section = reinterpret_cast<std::uintptr_t>(section_);
            setup_.section_bytes = file.view_size;
            setup_.origin = file.offset + static_cast<std::uint64_t>(-low);
            return;
        }
        const std::uint64_t size = std::max<std::uint64_t>(bytes, 1);
        SECURITY_ATTRIBUTES inherited{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
        section_ =
            ::CreateFileMappingW(INVALID_HANDLE_VALUE, &inherited, PAGE_READWRITE,
                                 static_cast<DWORD>(size >> 32), static_cast<DWORD>(size), nullptr);
        if (section_ == nullptr) fail("cannot share the array with the workers");
        void* copy = ::MapViewOfFile(section_, FILE_MAP_WRITE, 0, 0, size);
        if (copy == nullptr) fail("cannot share the array with the workers");
        if (bytes > 0) std::memcpy(copy, view.data + low, bytes);
        ::UnmapViewOfFile(copy);
        setup_.section = reinterpret_cast<std::uintptr_t>(section_);
        setup_.section_bytes = size;
        setup_.origin = static_cast<std::uint64_t>(-low);
    }

    struct Dimension {
        std::uint64_t extent;
        std::int64_t stride;
    };
    WorkerSetup setup_;
    std::vector<Dimension> dimensions_;
    HANDLE section_ = nullptr;
    Inbox inbox_;
};

}  // namespace

std::unique_ptr<WorkerLauncher> make_worker_launcher(const Request& request, std::uint64_t chunks) {
    if (!g_serves_workers) throw BackendError(worker_availability().reason);
    return std::make_unique<SpawnLauncher>(request, chunks);
}

Availability worker_availability() {
    if (!g_serves_workers)
        return {false,
                "this program does not serve pool workers: Windows starts them as copies of "
                "the program, which must call gpusum::serve_process_pool_worker() first in main()"};
    return {true, std::to_string(usable_cores()) + " usable cores"};
}

std::string_view worker_summary() {
    return "pool of worker processes (this program in worker mode), chunks dispatched over pipes";
}

void serve_process_pool_worker(int argc, char** argv) {
    g_serves_workers = true;
    if (argc == 2 && std::strcmp(argv[1], kWorkerFlag) == 0) worker_main();
}

}  // namespace gpusum
