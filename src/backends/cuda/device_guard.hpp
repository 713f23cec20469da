// A library call must leave its caller's current CUDA device as it found it:
// CuPy and PyTorch allocate on the thread's current device, so a sum of an
// array on GPU 1 must not move the caller's next allocation there. Written
// against a small device API so the CPU tests can run it with a fake one.
#pragma once

namespace gpusum::kernels {

// Api: static bool get(int& device) (false: none could be read), static void set(int device).
template <class Api>
class CurrentDeviceKept {
  public:
    CurrentDeviceKept() : saved_(Api::get(device_)) {}
    ~CurrentDeviceKept() {
        if (saved_) Api::set(device_);
    }
    CurrentDeviceKept(const CurrentDeviceKept&) = delete;
    CurrentDeviceKept& operator=(const CurrentDeviceKept&) = delete;

  private:
    int device_ = 0;
    bool saved_;
};

}  // namespace gpusum::kernels
