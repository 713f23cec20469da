// Built when MPI is off: the mpi backend exists by name and says why it cannot
// run, so `--backend mpi` is a clear exit 3, not an unknown name.
#include "backends/mpi/mpi_backend.hpp"

namespace gpusum {

namespace {

constexpr const char* kWhy = "this gpusum was built without MPI (configure with -DGPUSUM_MPI=ON)";

class UnbuiltMpiBackend final : public Backend {
  public:
    std::string_view name() const override { return "mpi"; }
    std::string_view summary() const override { return "ranks of an mpirun job (not built)"; }
    Availability availability() const override { return {false, kWhy}; }
    bool collective() const override { return true; }
    Result sum(const Request&) override { throw BackendError(kWhy); }
};

}  // namespace

MpiPlace mpi_place() {
    return {};
}

void mpi_abort(int) {}

std::unique_ptr<Backend> make_mpi_backend(LocalBackends, LocalChoice) {
    return std::make_unique<UnbuiltMpiBackend>();
}

}  // namespace gpusum
