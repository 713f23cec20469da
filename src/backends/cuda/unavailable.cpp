// Built when CUDA is off: the CUDA backends exist by name and say why they
// cannot run, so `--backend cuda` is a clear exit 3, not an unknown name.
#include <memory>

#include "backends/cuda/cuda_backends.hpp"

namespace gpusum {

namespace {

constexpr const char* kWhy = "this gpusum was built without CUDA (configure with GPUSUM_CUDA=ON)";

class UnbuiltBackend final : public Backend {
  public:
    explicit UnbuiltBackend(GpuBackendInfo info) : name_(info.name), summary_(info.summary) {}
    std::string_view name() const override { return name_; }
    std::string_view summary() const override { return summary_; }
    Availability availability() const override { return {false, kWhy}; }
    Result sum(const Request&) override { throw BackendError(kWhy); }

  private:
    std::string_view name_;
    std::string_view summary_;
};

}  // namespace

GpuInventory gpu_inventory() {
    return {{}, kWhy, {}};
}

Result sum_device_array(const void*, DType, std::uint64_t, int, std::string_view) {
    throw BackendError(kWhy);
}

double check_device_floats(const void*, DType, std::uint64_t, int, unsigned) {
    throw BackendError(kWhy);
}

BackendList make_cuda_backends(CudaOptions) {
    BackendList list;
    for (const GpuBackendInfo& info : kGpuBackends)
        list.push_back(std::make_unique<UnbuiltBackend>(info));
    return list;
}

}  // namespace gpusum
