// The pinned-buffer cache and the CUDA calls of the streaming schedule.
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

#include "backends/cpu/cpu_backends.hpp"
#include "backends/cuda/devices.cuh"
#include "backends/cuda/streaming.cuh"
#include "support/parallel.hpp"
#include "support/stop_signals.hpp"
#include "support/text.hpp"

namespace gpusum::kernels {

namespace {

// Host threads that stage one piece: one core's memcpy is slower than PCIe.
constexpr unsigned kStagingThreads = 8;
constexpr std::size_t kStagingPart = std::size_t{4} << 20;

// Pinned host buffers outlive a run: pinning pages is slow (milliseconds per
// piece), so it happens once per process, in a run's setup. Portable: any
// device may copy from them.
class PinnedCache {
  public:
    static PinnedCache& instance() {
        static PinnedCache* cache = new PinnedCache;  // kept to the end: never freed
        return *cache;
    }
    // `count` free buffers of at least `bytes`, marked in use.
    std::vector<void*> claim(unsigned count, std::size_t bytes) {
        const std::lock_guard lock(mutex_);
        std::vector<void*> claimed;
        for (Buffer& b : buffers_)
            if (claimed.size() < count && !b.in_use && b.bytes >= bytes) {
                b.in_use = true;
                claimed.push_back(b.ptr);
            }
        // Idle buffers too small for this run go first: the cache holds
        // the sizes in use, not every size ever asked for.
        std::erase_if(buffers_, [&](const Buffer& b) {
            if (claimed.size() == count || b.in_use || b.bytes >= bytes) return false;
            cudaFreeHost(b.ptr);
            return true;
        });
        while (claimed.size() < count) {
            void* p = nullptr;
            check(cudaHostAlloc(&p, bytes, cudaHostAllocPortable), "cudaHostAlloc");
            buffers_.push_back({p, bytes, true});
            claimed.push_back(p);
        }
        return claimed;
    }
    void release(void* p) noexcept {
        const std::lock_guard lock(mutex_);
        for (Buffer& b : buffers_)
            if (b.ptr == p) b.in_use = false;
    }

  private:
    struct Buffer {
        void* ptr;
        std::size_t bytes;
        bool in_use;
    };
    std::mutex mutex_;
    std::vector<Buffer> buffers_;
};

std::string gb_per_s(double bytes, double seconds) {
    return seconds > 0 ? si(bytes / seconds / 1e9) : "-";
}

}  // namespace

CudaStreamApi::CudaStreamApi(unsigned slots, std::size_t bytes)
    : claimed(PinnedCache::instance().claim(slots, bytes)) {}

CudaStreamApi::~CudaStreamApi() {
    for (void* p : claimed) PinnedCache::instance().release(p);
}

void* CudaStreamApi::alloc_pinned(std::size_t bytes) {
    if (claimed.empty()) return PinnedCache::instance().claim(1, bytes).front();
    void* p = claimed.back();
    claimed.pop_back();
    return p;
}

void CudaStreamApi::free_pinned(void* p) noexcept {
    PinnedCache::instance().release(p);
}

void* CudaStreamApi::alloc_device(std::size_t bytes) {
    void* p = nullptr;
    check(cudaMalloc(&p, bytes), "cudaMalloc");
    return p;
}

void CudaStreamApi::free_device(void* p) noexcept {
    cudaFree(p);
}

CudaStreamApi::Stream CudaStreamApi::create_stream() {
    return kernels::create_stream();
}

void CudaStreamApi::destroy_stream(Stream s) noexcept {
    cudaStreamDestroy(s);
}

CudaStreamApi::Event CudaStreamApi::create_event() {
    return create_blocking_event();
}

void CudaStreamApi::destroy_event(Event e) noexcept {
    cudaEventDestroy(e);
}

void CudaStreamApi::stage(void* pinned, const void* source, std::size_t bytes) {
    throw_if_stopped();
    const std::size_t parts = (bytes + kStagingPart - 1) / kStagingPart;
    for_each_index(parts, std::min(kStagingThreads, usable_cores()), [&](std::uint64_t i) {
        const std::size_t offset = i * kStagingPart;
        std::memcpy(static_cast<char*>(pinned) + offset, static_cast<const char*>(source) + offset,
                    std::min(kStagingPart, bytes - offset));
    });
}

void CudaStreamApi::copy_to_device(void* device, const void* pinned, std::size_t bytes, Stream s) {
    check(cudaMemcpyAsync(device, pinned, bytes, cudaMemcpyHostToDevice, s),
          "copying a piece to the device");
}

void CudaStreamApi::record(Event e, Stream s) {
    check(cudaEventRecord(e, s), "cudaEventRecord");
}

void CudaStreamApi::wait(Event e) {
    check(cudaEventSynchronize(e), "waiting for a piece");
}

double CudaStreamApi::seconds_between(Event a, Event b) {
    float ms = 0;
    check(cudaEventElapsedTime(&ms, a, b), "cudaEventElapsedTime");
    return ms / 1e3;
}

void CudaStreamApi::synchronize(Stream s) noexcept {
    cudaStreamSynchronize(s);
    cudaGetLastError();  // a failure already reported must not outlive the run
}

void CudaStreamApi::copy_to_host(void* host, const void* device, std::size_t bytes) {
    check(cudaMemcpy(host, device, bytes, cudaMemcpyDeviceToHost), "copying the piece sums back");
}

void combine_pieces(const std::vector<i128>& pieces, Result& result) {
    for (const i128 p : pieces) result.sum += p;
}
void combine_pieces(const std::vector<ExactFloat>& pieces, Result& result) {
    for (const ExactFloat& p : pieces) merge(result.real, p);
}

void describe_stream(const StreamTimes& times, const ArrayView& a, Result& result) {
    const auto bytes = static_cast<double>(a.bytes());
    result.details.emplace_back("pieces", std::to_string(times.pieces));
    result.details.emplace_back("end_to_end_gb_per_s", gb_per_s(bytes, result.seconds.compute));
    result.details.emplace_back("h2d_gb_per_s", gb_per_s(bytes, times.h2d));
    result.details.emplace_back("kernel_seconds", std::to_string(times.kernel));
}

void describe_device_sum(const ArrayView& a, int device, Result& result) {
    const auto bytes = static_cast<double>(a.bytes());
    const double seconds = result.seconds.compute;
    result.details.emplace_back("kernel_seconds", std::to_string(seconds));
    result.details.emplace_back("device_gb_per_s", gb_per_s(bytes, seconds));
    const double peak = hbm_peak_bytes_per_s(device);
    if (seconds > 0 && peak > 0) {
        char text[64];
        std::snprintf(text, sizeof text, "%.1f%% of %s GB/s", 100 * bytes / seconds / peak,
                      si(peak / 1e9).c_str());
        result.details.emplace_back("of_memory_peak", text);
    }
}

}  // namespace gpusum::kernels
