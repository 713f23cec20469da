// The library's front door (gpusum.hpp): a Job from the arguments, run on the
// full backend list, its Outcome as a Sum.
#include <cmath>
#include <limits>

#include "backends/cpu/cpu_backends.hpp"
#include "backends/cpu/simd/loops.hpp"
#include "backends/cuda/cuda_backends.hpp"
#include "plan/dispatch.hpp"
#include "run/facade.hpp"
#include "run/job.hpp"
#include "support/stopwatch.hpp"
#include "support/text.hpp"
#include "verify/array_check.hpp"

namespace gpusum {

namespace {

// Arrays up to this size are summed and checked on the calling thread when
// the dispatcher is asked: a job (the backend list, chunks, signal
// handlers) would cost more than the additions (docs/backends.md, "Small
// calls").
constexpr std::uint64_t kInlineBytes = std::uint64_t{1} << 20;

void check_limits(const Options& options) {
    if (options.workers > kMaxWorkers)
        throw InputError("workers must be at most " + std::to_string(kMaxWorkers));
    if (options.chunks > kMaxChunks)
        throw InputError("chunks must be at most " + std::to_string(kMaxChunks));
    if (options.device < 0) throw InputError("device must not be negative");
}

Job job_from(const Options& options, const BackendList& backends) {
    if (options.backend != "auto" && find_backend(backends, options.backend) == nullptr)
        throw InputError("unknown backend '" + options.backend +
                         "'; choose auto or one of: " + backend_names(backends));
    check_limits(options);
    Job job;
    job.backend = options.backend;
    job.workers = options.workers == 0 ? usable_cores() : options.workers;
    if (options.chunks != 0) job.chunks = options.chunks;
    job.device = options.device;
    return job;
}

// A checked run, passed on; a mismatch is thrown, never returned.
Outcome verified(Outcome o) {
    if (!o.verified)
        throw Mismatch(o.backend + " returned " +
                       (o.real ? std::to_string(rounded(o.result.real)) : to_string(o.result.sum)) +
                       ", the check (" + o.check + ") says " +
                       (o.real ? std::to_string(o.expected_real) : to_string(o.expected)));
    return o;
}

// The answer of a verified run.
Sum sum_of(Outcome o) {
    Sum s;
    s.is_float = o.real;
    s.sum = o.real ? 0 : o.result.sum;
    // Verified: rounded(o.result.real) has the check's bits (both NaN at most).
    s.value = o.real ? o.expected_real : static_cast<double>(o.result.sum);
    s.error_bound = o.real ? rounding_bound(s.value) : 0;
    s.expected = o.expected;
    s.expected_value = o.expected_real;
    s.check = std::move(o.check);
    s.verified = true;
    s.backend = std::move(o.backend);
    s.reason = std::move(o.reason);
    s.notes = std::move(o.notes);
    s.elements = o.elements;
    s.seconds = o.result.seconds;
    s.check_seconds = o.check_seconds;
    s.elements_per_second = o.elements_per_second();
    return s;
}

Outcome run(const Job& job, const BackendList& backends) {
    return verified(run_job(backends, job));
}

// A small array summed by the serial loops and checked, on this thread.
Outcome sum_inline(const ArrayView& a) {
    Stopwatch clock;
    Outcome o;
    o.backend = "serial";
    o.reason =
        "inline: summed on the calling thread (up to 1 MiB, a job would cost more than the "
        "additions)";
    o.elements = a.count;
    o.real = is_float(a.dtype);
    if (o.real)
        o.result.real = sum_floats(a);
    else
        o.result.sum = sum_integers(a);
    o.result.seconds.compute = clock.lap();
    o.totals = {o.result.seconds.total()};
    if (o.real)
        o.expected_real = check_sum_floats(a);
    else
        o.expected = check_sum_integers(a);
    o.check = o.real ? kFloatCheckMethod : kIntegerCheckMethod;
    o.check_seconds = clock.lap();
    o.verified =
        o.real ? same_float(rounded(o.result.real), o.expected_real) : o.result.sum == o.expected;
    return verified(std::move(o));
}

// A layout's elements must cover the view: walking more than the shape holds
// would wrap its odometer forever or read past the data.
void check_layout(const ArrayView& a) {
    if (a.layout == nullptr) return;
    const Layout& l = *a.layout;
    if (l.strides.size() != l.shape.size())
        throw InputError("the layout has " + std::to_string(l.strides.size()) + " strides for " +
                         std::to_string(l.shape.size()) + " dimensions");
    std::uint64_t elements = 1;
    for (const std::uint64_t extent : l.shape) {
        if (extent != 0 && elements > UINT64_MAX / extent)
            throw InputError("the layout's shape holds more than 2^64 elements");
        elements *= extent;
    }
    if (a.first > elements || a.count > elements - a.first)
        throw InputError("the view asks for elements " + std::to_string(a.first) + " to " +
                         std::to_string(a.first + a.count) + " of a layout that holds " +
                         std::to_string(elements));
}

}  // namespace

double rounding_bound(double value) {
    if (!std::isfinite(value)) return 0;
    const double next = std::nextafter(std::fabs(value), std::numeric_limits<double>::infinity());
    return (next - std::fabs(value)) / 2;
}

Outcome checked_sum(Range range, const Options& options) {
    if (range.step == 0) throw InputError("step must not be zero");
    const BackendList backends = all_backends();
    Job job = job_from(options, backends);
    job.range = range;
    return run(job, backends);
}

Outcome checked_sum(ArrayView array, const Options& options) {
    if (array.data == nullptr && array.count > 0) throw InputError("the array's data is null");
    check_layout(array);
    if (options.backend == "auto" && array.bytes() <= kInlineBytes) {
        check_limits(options);
        return sum_inline(array);
    }
    const BackendList backends = all_backends();
    Job job = job_from(options, backends);
    job.array = array;
    return run(job, backends);
}

Outcome checked_sum(DeviceArray array, const Options& options) {
    const BackendList backends = all_backends();
    const Job job = job_from(options, backends);
    const std::string gpu = options.backend == "auto" ? "cuda" : options.backend;
    if (gpu != "cuda" && gpu != "cub")
        throw InputError("arrays in GPU memory are summed by the cuda or cub backend, not '" + gpu +
                         "'");
    if (const Backend* b = find_backend(backends, gpu); !b->availability().usable)
        throw Unavailable("backend '" + gpu + "' is unavailable: " + b->availability().reason);
    Outcome o;
    o.backend = gpu;
    o.reason = "the array is in the memory of CUDA device " + std::to_string(job.device);
    o.elements = array.count;
    o.real = is_float(array.dtype);
    const std::string other = gpu == "cuda" ? "cub" : "cuda";
    o.check = o.real ? "the exact float check on the CPU over a copy of the device memory"
                     : "the " + other + " kernel over the same device memory";
    Stopwatch check_clock;
    try {
        o.result = sum_device_array(array.data, array.dtype, array.count, job.device, gpu);
        check_clock.lap();
        if (o.real)
            o.expected_real =
                check_device_floats(array.data, array.dtype, array.count, job.device, job.workers);
        else
            o.expected =
                sum_device_array(array.data, array.dtype, array.count, job.device, other).sum;
    } catch (const BackendError& e) {
        throw Unavailable("backend '" + gpu + "' failed: " + e.what());
    }
    o.check_seconds = check_clock.lap();
    o.totals = {o.result.seconds.total()};
    o.verified =
        o.real ? same_float(rounded(o.result.real), o.expected_real) : o.result.sum == o.expected;
    return verified(std::move(o));
}

Sum sum(Range range, const Options& options) {
    return sum_of(checked_sum(range, options));
}

Sum sum(ArrayView array, const Options& options) {
    return sum_of(checked_sum(array, options));
}

Sum sum(DeviceArray array, const Options& options) {
    return sum_of(checked_sum(array, options));
}

std::string long_run_warning(Range range, const Options& options) {
    if (range.step == 0) return {};
    const BackendList backends = all_backends();
    Job job = job_from(options, backends);
    job.range = range;
    return long_run_warning(backends, job);
}

}  // namespace gpusum
