#include "plan/dispatch.hpp"

#include "backends/cpu/cpu_backends.hpp"
#include "backends/cuda/cuda_backends.hpp"
#include "backends/mpi/mpi_backend.hpp"
#include "support/text.hpp"

namespace gpusum {

namespace {

// The backends of one machine.
BackendList local_backends() {
    BackendList list;
    list.push_back(make_serial_backend());
    list.push_back(make_threads_backend());
    list.push_back(make_process_backend());
    for (auto& gpu : make_cuda_backends()) list.push_back(std::move(gpu));
    return list;
}

std::vector<Backend*> auto_candidates(const BackendList& backends, const Request& request) {
    std::vector<Backend*> best_first;
    for (const Choice& c : plan_auto(backends, request).candidates) best_first.push_back(c.backend);
    return best_first;
}

}  // namespace

BackendList all_backends() {
    BackendList list = local_backends();
    list.push_back(make_mpi_backend(local_backends, auto_candidates));
    return list;
}

Backend* find_backend(const BackendList& backends, std::string_view name) {
    for (const auto& b : backends)
        if (b->name() == name) return b.get();
    return nullptr;
}

std::string backend_names(const BackendList& backends) {
    std::string names;
    for (const auto& b : backends) {
        if (!names.empty()) names += '|';
        names += b->name();
    }
    return names;
}

namespace {

// Why one core is enough for `request`, or empty: the threshold that
// applies is that of the work's kind (each measured).
std::string below_parallel_threshold(const Request& request) {
    const std::uint64_t n = request.elements();
    if (!request.array) {
        if (n >= kParallelThreshold) return {};
        return grouped(n) + " elements is below the parallel threshold of " +
               grouped(kParallelThreshold);
    }
    if (!request.array->dense()) {
        if (n >= kParallelGatheredElements) return {};
        return grouped(n) +
               " gathered elements (gaps, swapped bytes or float16) is below "
               "the parallel threshold of " +
               grouped(kParallelGatheredElements);
    }
    if (request.array->bytes() >= kParallelArrayBytes) return {};
    return "an array of " + grouped(request.array->bytes()) +
           " bytes is below the parallel threshold of " + grouped(kParallelArrayBytes) + " bytes";
}

}  // namespace

AutoPlan plan_auto(const BackendList& backends, const Request& request) {
    AutoPlan plan;
    auto offer = [&](std::string_view name, std::string reason) {
        Backend* b = find_backend(backends, name);
        if (b == nullptr) return;
        const Availability a = b->availability();
        if (!a.usable)
            plan.skipped.push_back(std::string(name) + ": " + a.reason);
        else if (const std::string why = request.array ? b->cannot_sum(*request.array) : "";
                 !why.empty())
            plan.skipped.push_back(std::string(name) + ": " + why);
        else
            plan.candidates.push_back({b, std::move(reason)});
    };

    const std::uint64_t n = request.elements();
    if (Backend* cuda = find_backend(backends, "cuda"); cuda != nullptr) {
        const Availability a = cuda->availability();
        if (!a.usable)
            plan.skipped.push_back("cuda: " + a.reason);
        else if (request.array)
            plan.skipped.emplace_back(
                "cuda: the array is in host memory, which the CPU reads faster than it can be "
                "copied to a GPU (use --backend cuda to stream it anyway)");
        else if (n >= kGpuThreshold)
            plan.candidates.push_back({cuda, grouped(n) +
                                                 " elements is at or above the GPU threshold of " +
                                                 grouped(kGpuThreshold)});
        else
            plan.skipped.push_back("cuda: " + grouped(n) +
                                   " elements is below the GPU threshold of " +
                                   grouped(kGpuThreshold) +
                                   ", where starting the device costs more than the CPU needs");
    }
    if (request.workers <= 1) {
        offer("serial", "one worker (--workers 1, or one usable core)");
    } else if (const std::string small = below_parallel_threshold(request); !small.empty()) {
        offer("serial", small + ", where one core finishes first");
    } else {
        // No more workers than chunks: the reason names the workers that will run.
        const std::uint64_t chunks = effective_chunks(n, request.chunks);
        const std::string workers = request.workers <= chunks
                                        ? std::to_string(request.workers) + " workers"
                                        : std::to_string(chunks) + " workers (" +
                                              std::to_string(request.workers) +
                                              " asked; one per chunk at most)";
        offer("threads",
              grouped(n) + " elements on " + workers + "; threads start faster than processes");
        offer("process", "the process pool is the next parallel backend");
        offer("serial", "the parallel backends failed");
    }
    return plan;
}

}  // namespace gpusum
