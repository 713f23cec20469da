// Host-side plumbing shared by the CUDA backends: error checks that become
// BackendError, owned device resources, event timers, opening a device.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "gpusum/backend.hpp"

namespace gpusum::kernels {

inline void check(cudaError_t status, const char* what) {
    if (status == cudaSuccess) return;
    cudaGetLastError();  // clear a non-sticky error so the next backend starts clean
    throw BackendError(std::string(what) + ": " + cudaGetErrorName(status) + " (" +
                       cudaGetErrorString(status) + ")");
}

template <class T>
class DeviceBuffer {
  public:
    explicit DeviceBuffer(std::size_t count) {
        if (count > 0)
            check(cudaMalloc(reinterpret_cast<void**>(&ptr_), count * sizeof(T)), "cudaMalloc");
    }
    ~DeviceBuffer() { cudaFree(ptr_); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    T* get() const { return ptr_; }

  private:
    T* ptr_ = nullptr;
};

// Non-blocking: ordered only by its own work, not by the legacy default stream.
inline cudaStream_t create_stream() {
    cudaStream_t stream{};
    check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
    return stream;
}

// A stream of its own, so each device's work is ordered and timed apart from
// anything else in the process.
class Stream {
  public:
    Stream() : stream_(create_stream()) {}
    ~Stream() {
        cudaStreamSynchronize(stream_);
        cudaStreamDestroy(stream_);
    }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    cudaStream_t get() const { return stream_; }

  private:
    cudaStream_t stream_{};
};

// Waiting on these blocks the thread instead of spinning a core.
inline cudaEvent_t create_blocking_event() {
    cudaEvent_t event{};
    check(cudaEventCreateWithFlags(&event, cudaEventBlockingSync), "cudaEventCreate");
    return event;
}

// Times device work between two points on one stream.
class EventTimer {
  public:
    explicit EventTimer(cudaStream_t stream) : stream_(stream) {
        start_ = create_blocking_event();
        try {
            stop_ = create_blocking_event();
        } catch (...) {
            cudaEventDestroy(start_);
            throw;
        }
    }
    ~EventTimer() {
        cudaEventDestroy(start_);
        cudaEventDestroy(stop_);
    }
    EventTimer(const EventTimer&) = delete;
    EventTimer& operator=(const EventTimer&) = delete;
    void start() { check(cudaEventRecord(start_, stream_), "cudaEventRecord"); }
    // Waits for the work, then returns the seconds between start() and now.
    double stop() {
        check(cudaEventRecord(stop_, stream_), "cudaEventRecord");
        check(cudaEventSynchronize(stop_), "waiting for the device");
        float ms = 0;
        check(cudaEventElapsedTime(&ms, start_, stop_), "cudaEventElapsedTime");
        return ms / 1e3;
    }

  private:
    cudaStream_t stream_;
    cudaEvent_t start_{};
    cudaEvent_t stop_{};
};

// Selects the device and creates its context; the facts worth reporting.
cudaDeviceProp open_device(int device);

// Bytes per second the device's memory moves at best: clock x bus x 2 (DDR).
double hbm_peak_bytes_per_s(int device);

void describe_device(const cudaDeviceProp& prop, int device, Result& result);

}  // namespace gpusum::kernels
