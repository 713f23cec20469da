// Host-side plumbing shared by the CUDA backends: error checks that become
// BackendError, device buffers, event timers, and opening a device.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "gpusum/backend.hpp"

namespace gpusum::kernels {

inline void check(cudaError_t status, const char* what) {
    if (status == cudaSuccess) return;
    cudaGetLastError();  // clear a sticky-free error so a later run can retry
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

// Times device work between two points on the default stream.
class EventTimer {
  public:
    EventTimer() {
        check(cudaEventCreate(&start_), "cudaEventCreate");
        check(cudaEventCreate(&stop_), "cudaEventCreate");
    }
    ~EventTimer() {
        cudaEventDestroy(start_);
        cudaEventDestroy(stop_);
    }
    EventTimer(const EventTimer&) = delete;
    EventTimer& operator=(const EventTimer&) = delete;
    void start() { check(cudaEventRecord(start_), "cudaEventRecord"); }
    // Waits for the work, then returns the seconds between start() and now.
    double stop() {
        check(cudaEventRecord(stop_), "cudaEventRecord");
        check(cudaEventSynchronize(stop_), "cudaEventSynchronize");
        float ms = 0;
        check(cudaEventElapsedTime(&ms, start_, stop_), "cudaEventElapsedTime");
        return ms / 1e3;
    }

  private:
    cudaEvent_t start_{};
    cudaEvent_t stop_{};
};

// Selects the device and creates its context; the facts worth reporting.
cudaDeviceProp open_device(int device);

void describe_device(const cudaDeviceProp& prop, int device, Result& result);

}  // namespace gpusum::kernels
