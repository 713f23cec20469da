// The mpi backend: one request over the ranks of an mpirun job. Each rank
// takes a share of whole chunks and sums it with the local dispatcher (a GPU
// when usable on its node, else threads, the process pool or serial); rank 0
// combines the 128-bit partials exactly with a custom MPI reduction, gathers
// every rank's report, and turns any rank's failure into an error naming it.
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "backends/cpu/cpu_backends.hpp"
#include "backends/cuda/cuda_backends.hpp"
#include "backends/mpi/mpi_backend.hpp"
#include "backends/parts.hpp"
#include "support/progress.hpp"
#include "support/stopwatch.hpp"
#include "support/text.hpp"

namespace gpusum {

namespace {

bool launched_by_mpirun() {
    for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
        if (std::getenv(var) != nullptr) return true;
    return false;
}

// MPI's 128-bit addition: two's complement, so signed sums are exact.
extern "C" void add_int128(void* in, void* inout, int* length, MPI_Datatype*) {
    const auto* a = static_cast<const std::uint64_t*>(in);
    auto* b = static_cast<std::uint64_t*>(inout);
    for (int i = 0; i < *length; ++i, a += 2, b += 2) {
        const u128 sum =
            ((static_cast<u128>(a[1]) << 64) | a[0]) + ((static_cast<u128>(b[1]) << 64) | b[0]);
        b[0] = static_cast<std::uint64_t>(sum);
        b[1] = static_cast<std::uint64_t>(sum >> 64);
    }
}

extern "C" void finalize_mpi() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized == 0) MPI_Finalize();
}

// MPI, initialised once per process, with what every run needs.
struct Session {
    int rank = 0;
    int size = 1;
    int node_rank = 0;  // rank among the ranks on this node
    int node_size = 1;
    MPI_Datatype int128 = MPI_DATATYPE_NULL;
    MPI_Op add = MPI_OP_NULL;

    static Session& get() {
        static Session session;
        return session;
    }

  private:
    Session() {
        int provided = 0;
        // Only the main thread calls MPI; worker threads only add.
        MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
        std::atexit(finalize_mpi);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        MPI_Comm node;
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
        MPI_Comm_rank(node, &node_rank);
        MPI_Comm_size(node, &node_size);
        MPI_Comm_free(&node);
        MPI_Type_contiguous(2, MPI_UINT64_T, &int128);
        MPI_Type_commit(&int128);
        MPI_Op_create(add_int128, 1, &add);
    }
};

// What each rank tells rank 0, as plain bytes.
struct RankReport {
    ExactFloat real;
    double seconds = 0;
    std::uint64_t elements = 0;
    std::uint32_t workers = 0;
    std::int32_t ok = 0;
    char backend[16] = {};
    char error[240] = {};
};

template <std::size_t N>
void copy_text(char (&to)[N], std::string_view from) {
    const std::size_t n = std::min(from.size(), N - 1);
    std::memcpy(to, from.data(), n);
    to[n] = '\0';
}

// Test hook: GPUSUM_MPI_FAULT="RANK:error" makes that rank's sum fail;
// "RANK:abort" makes that rank die as a crash would.
void inject_fault(int rank) {
    const char* fault = std::getenv("GPUSUM_MPI_FAULT");
    if (fault == nullptr) return;
    const std::string spec = fault;
    const std::string mine = std::to_string(rank) + ":";
    if (spec == mine + "abort") std::abort();
    if (spec == mine + "error") throw BackendError("fault injected by GPUSUM_MPI_FAULT");
}

class MpiBackend final : public Backend {
  public:
    MpiBackend(LocalBackends make_local, LocalChoice choose)
        : local_(make_local()), choose_(choose) {}

    std::string_view name() const override { return "mpi"; }
    std::string_view summary() const override {
        return "ranks of an mpirun job, each using the local dispatcher; exact 128-bit reduction";
    }
    Availability availability() const override {
        if (!launched_by_mpirun())
            return {false, "not started by mpirun (run: mpirun -np N gpusum --backend mpi ...)"};
        const MpiPlace place = mpi_place();
        return {true, std::to_string(place.size) + " ranks"};
    }
    bool collective() const override { return true; }

    Result sum(const Request& request) override {
        Session& s = Session::get();
        Stopwatch clock;
        Result result;
        result.chunks = effective_chunks(request.elements(), request.chunks);
        MPI_Barrier(MPI_COMM_WORLD);  // every rank starts together
        result.seconds.setup = clock.lap();

        const Share share =
            share_of(request.elements(), result.chunks, static_cast<std::uint64_t>(s.size),
                     static_cast<std::uint64_t>(s.rank));
        RankReport mine;
        mine.elements = share.count;
        u128 partial = 0;
        Stopwatch local_clock;
        try {
            inject_fault(s.rank);
            const Result r = sum_share(part_of(request, share), request.workers, s, mine);
            partial = static_cast<u128>(r.sum);
            mine.real = r.real;
            mine.workers = r.workers;
            mine.ok = 1;
        } catch (const std::exception& e) {
            copy_text(mine.error, e.what());
        }
        mine.seconds = local_clock.lap();

        std::uint64_t bits[2] = {static_cast<std::uint64_t>(partial),
                                 static_cast<std::uint64_t>(partial >> 64)};
        std::uint64_t total[2] = {0, 0};
        MPI_Reduce(bits, total, 1, s.int128, s.add, 0, MPI_COMM_WORLD);
        result.seconds.compute = clock.lap();
        std::vector<RankReport> reports(s.rank == 0 ? static_cast<std::size_t>(s.size) : 0);
        MPI_Gather(&mine, sizeof mine, MPI_BYTE, reports.data(), sizeof mine, MPI_BYTE, 0,
                   MPI_COMM_WORLD);
        result.seconds.combine = clock.lap();
        if (s.rank != 0) return result;  // rank 0 reports for everyone

        for (int r = 0; r < s.size; ++r)
            if (reports[r].ok == 0)
                throw BackendError("rank " + std::to_string(r) + " failed: " + reports[r].error);
        result.sum = static_cast<i128>((static_cast<u128>(total[1]) << 64) | total[0]);
        describe(reports, result);
        if (request.progress != nullptr) request.progress->advance(request.elements());
        return result;
    }

  private:
    // This rank's share with the local dispatcher, falling back as auto does;
    // the backend that ran is written into `report`.
    Result sum_share(Request local, unsigned node_workers, const Session& s, RankReport& report) {
        // --workers counts a node's cores: the ranks on a node share them, and
        // no rank runs more workers than the cores mpirun bound it to.
        local.workers =
            std::clamp(node_workers / static_cast<unsigned>(s.node_size), 1U, usable_cores());
        const std::size_t gpus = gpu_inventory().devices.size();
        if (gpus > 0) local.device = s.node_rank % static_cast<int>(gpus);
        local.progress = nullptr;
        std::string why;
        for (Backend* b : choose_(local_, local)) {
            try {
                Result r = b->sum(local);
                copy_text(report.backend, b->name());
                return r;
            } catch (const BackendError& e) {
                why +=
                    std::string(why.empty() ? "" : "; ") + std::string(b->name()) + ": " + e.what();
            }
        }
        throw BackendError("no local backend could run: " + why);
    }

    void describe(const std::vector<RankReport>& reports, Result& result) const {
        double slowest = 0, total_seconds = 0;
        result.workers = 0;
        for (std::size_t r = 0; r < reports.size(); ++r) {
            const RankReport& report = reports[r];
            merge(result.real, report.real);
            result.workers += report.workers;
            slowest = std::max(slowest, report.seconds);
            total_seconds += report.seconds;
            result.details.emplace_back(
                "rank " + std::to_string(r),
                std::string(report.backend) + ", " + std::to_string(report.workers) + " workers, " +
                    grouped(report.elements) + " elements, " + duration(report.seconds));
        }
        const double mean = total_seconds / static_cast<double>(reports.size());
        char imbalance[64];
        std::snprintf(imbalance, sizeof imbalance, "%.2f (slowest rank / mean rank time)",
                      mean > 0 ? slowest / mean : 1.0);
        result.details.emplace_back("ranks", std::to_string(reports.size()));
        result.details.emplace_back("imbalance", imbalance);
    }

    BackendList local_;
    LocalChoice choose_;
};

}  // namespace

MpiPlace mpi_place() {
    if (!launched_by_mpirun()) return {};
    const Session& s = Session::get();
    return {s.rank, s.size};
}

void mpi_abort(int code) {
    if (launched_by_mpirun()) MPI_Abort(MPI_COMM_WORLD, code);
}

std::unique_ptr<Backend> make_mpi_backend(LocalBackends make_local, LocalChoice choose) {
    return std::make_unique<MpiBackend>(make_local, choose);
}

}  // namespace gpusum
