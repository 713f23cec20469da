// The three GPU backends: our tree reduction, and CUB and Thrust as peers;
// device arrays summed by one of them. Devices are in devices.cu, the
// streaming of host arrays in streaming.cu.
// All verify the same way and report the same phases: setup (device context
// and buffers), compute (device time of the reduction, from CUDA events; for
// arrays the whole overlapped copy-and-reduce stream), combine (copying the
// result back and adding up pieces).
#include <thrust/execution_policy.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/iterator/transform_iterator.h>
#include <thrust/transform_reduce.h>
#include <cub/device/device_reduce.cuh>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "backends/cpu/cpu_backends.hpp"
#include "backends/cuda/cuda_backends.hpp"
#include "backends/cuda/cuda_support.cuh"
#include "backends/cuda/devices.cuh"
#include "backends/cuda/slice_schedule.hpp"
#include "backends/cuda/streaming.cuh"
#include "backends/parts.hpp"
#include "fill_series.cuh"
#include "float_reduce.cuh"
#include "input/sources.hpp"
#include "support/progress.hpp"
#include "support/stop_signals.hpp"
#include "support/stopwatch.hpp"
#include "support/text.hpp"
#include "tree_reduce.cuh"
#include "verify/array_check.hpp"

namespace gpusum {

namespace {

using kernels::check;
using kernels::DeviceBuffer;
using kernels::EventTimer;
using kernels::kPieceBytes;
using kernels::kStreamSlots;
using kernels::StreamTimes;

// The closed form is not used here: the elements are generated and added.
struct ElementAt {
    Progression series;
    __host__ __device__ std::uint64_t operator()(std::uint64_t i) const {
        return static_cast<std::uint64_t>(series.at(i));
    }
};
struct WideElementAt {
    Progression series;
    __host__ __device__ i128 operator()(std::uint64_t i) const { return series.at(i); }
};

// Whether wrapping 64-bit adds give the exact total of the whole series.
bool fits_in_one_int64_block(const Progression& p) {
    return exact_int64_block(p) >= p.count;
}

// Integers of any width (CUB's running i128, or an element) added as i128.
struct AddWide {
    template <class A, class B>
    __host__ __device__ i128 operator()(const A& a, const B& b) const {
        return static_cast<i128>(a) + static_cast<i128>(b);
    }
};

// A bool byte as CUB adds it: 1 when nonzero.
struct TrueAsOne {
    __host__ __device__ int operator()(kernels::BoolByte b) const { return b.bits != 0 ? 1 : 0; }
};

// visit_dtype with the element types the device code sums: NumPy's bool as
// kernels::BoolByte, so that every kernel counts nonzero bytes.
template <class F>
void visit_device_dtype(DType dtype, F&& f) {
    if (dtype == DType::boolean) {
        f(kernels::BoolByte{});
        return;
    }
    visit_dtype(dtype, std::forward<F>(f));
}

// A series is summed in slices of this many elements, one launch each, so
// the progress bar moves and Ctrl-C is seen between launches: a fraction of
// a second each at the rates the kernel is built for.
constexpr std::uint64_t kSliceElements = std::uint64_t{1} << 36;

class GpuBackend : public Backend {
  public:
    GpuBackend(GpuBackendInfo info, CudaOptions options) : info_(info), options_(options) {}
    std::string_view name() const override { return info_.name; }
    std::string_view summary() const override { return info_.summary; }
    Availability availability() const override {
        const GpuInventory inv = gpu_inventory();
        if (inv.devices.empty()) return {false, inv.problem};
        for (std::size_t d = 0; d < inv.devices.size(); ++d)
            if (inv.unusable[d].empty()) return {true, inv.devices[d]};
        return {false, "device 0: " + inv.unusable.front()};
    }

    // The kernels read one block of memory in this machine's byte order.
    std::string cannot_sum(const ArrayView& a) const override {
        if (!a.dense())
            return "sums arrays in one block of memory in this machine's byte order only (this "
                   "one has gaps, the other byte order or float16 elements)";
        return {};
    }

    Result sum(const Request& request) final {
        return guarded([&] { return sum_on_devices(request); });
    }

    // `a.data` is memory of `device` (checked by sum_device_array).
    Result sum_device_memory(const ArrayView& a, int device) {
        return guarded([&] {
            Stopwatch clock;
            Result result;
            const cudaDeviceProp prop = kernels::open_device(device);
            kernels::describe_device(prop, device, result);
            run_device_array(a, prop, clock, result);
            kernels::describe_device_sum(a, device, result);
            return result;
        });
    }

  protected:
    // A whole series into result.sum, in slices of kSliceElements (the
    // progress and the stop signals are looked at between them); sets
    // result.seconds, workers, chunks and details.
    virtual void run_series(const Progression& series, const cudaDeviceProp& prop, Stopwatch& clock,
                            Result& result, Progress* progress) = 0;
    // One slice at a time, each a whole run of `run_slice(slice, part)`
    // (setup, launch, total back), for the backends that cannot keep one
    // launcher across slices.
    template <class RunSlice>
    static void run_in_slices(const Progression& p, Stopwatch& clock, Result& result,
                              Progress* progress, RunSlice&& run_slice) {
        const std::uint64_t slices = slice_count(p);
        for (std::uint64_t i = 0; i < slices; ++i) {
            const Progression slice = chunk_of(p, slices, i);
            Result part;
            result.sum += run_slice(slice, part);
            clock.lap();  // the slice's device time is counted by its events, not again as setup
            result.seconds.setup += part.seconds.setup;
            result.seconds.compute += part.seconds.compute;
            result.seconds.combine += part.seconds.combine;
            if (i == 0) {
                result.workers = part.workers;
                result.chunks = part.chunks;
                result.details.insert(result.details.end(), part.details.begin(),
                                      part.details.end());
            }
            if (progress != nullptr) progress->advance(slice.count);
            throw_if_stopped();
        }
        if (slices > 1) result.details.emplace_back("slices", std::to_string(slices) + " launches");
    }
    static std::uint64_t slice_count(const Progression& p) {
        return p.count == 0 ? 1 : (p.count - 1) / kSliceElements + 1;
    }
    // Sets result.sum or result.real, the seconds and details.
    virtual void run_array(const ArrayView& array, const cudaDeviceProp& prop, Stopwatch& clock,
                           Result& result, Progress* progress) = 0;
    // The same for an array in the device's memory: result.seconds.compute
    // is the reduction's device time (from events).
    virtual void run_device_array(const ArrayView& on_device, const cudaDeviceProp& prop,
                                  Stopwatch& clock, Result& result) = 0;

  private:
    template <class Body>
    Result guarded(Body&& body) {
        const StopSignals stop_signals;
        const kernels::DeviceKept kept;
        try {
            return as_backend_error(name(), body);
        } catch (const BackendError&) {
            cudaGetLastError();  // the next backend in this process starts clean
            throw;
        }
    }

    Result sum_on_devices(const Request& request) {
        if (request.devices.size() > 1)
            return sum_in_parts(
                request, static_cast<unsigned>(request.devices.size()),
                [&](const Request& part, unsigned index) {
                    return sum_on_device(part, request.devices[index]);
                },
                "device");
        return sum_on_device(request,
                             request.devices.empty() ? request.device : request.devices.front());
    }

    Result sum_on_device(const Request& request, int device) {
        Stopwatch clock;
        Result result;
        const cudaDeviceProp prop = kernels::open_device(device);
        kernels::describe_device(prop, device, result);
        DeviceBuffer<char> ballast(options_.extra_allocation_bytes);
        if (request.fill_on_device)
            run_filled(request.series, prop, device, clock, result, request.progress);
        else if (request.array)
            run_array(*request.array, prop, clock, result, request.progress);
        else
            run_series(request.series, prop, clock, result, request.progress);
        return result;
    }

    // --mode array on the device: the series written to device memory by
    // fill_series (setup), then summed there as an int64 array.
    void run_filled(const Progression& p, const cudaDeviceProp& prop, int device, Stopwatch& clock,
                    Result& result, Progress* progress) {
        std::size_t free_bytes = 0, total_bytes = 0;
        check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
        if (p.count > free_bytes / sizeof(std::int64_t))
            throw BackendError("--mode array needs " + si(static_cast<double>(p.count) * 8) +
                               "B of device memory; the device has " +
                               si(static_cast<double>(free_bytes)) + "B free");
        DeviceBuffer<std::int64_t> array(p.count);
        const kernels::Stream stream;
        EventTimer timer(stream.get());
        timer.start();
        kernels::fill_series<<<static_cast<unsigned>(prop.multiProcessorCount) * 8, 256, 0,
                               stream.get()>>>(array.get(), p);
        check(cudaGetLastError(), "launching fill_series");
        result.details.emplace_back("device_fill_seconds", std::to_string(timer.stop()));
        const ArrayView a{reinterpret_cast<const unsigned char*>(array.get()), p.count,
                          DType::int64};
        run_device_array(a, prop, clock, result);
        kernels::describe_device_sum(a, device, result);
        if (progress != nullptr) progress->advance(p.count);
    }

    GpuBackendInfo info_;
    CudaOptions options_;
};

// How many blocks of `tuning` the device runs at once with `kernel`.
template <class Kernel>
std::uint64_t resident_blocks(const cudaDeviceProp& prop, Kernel kernel,
                              kernels::TreeTuning tuning) {
    if (!kernels::valid_tuning(tuning))
        throw BackendError(
            "kernel tuning: threads per block must be a multiple of 32 up to 1024, not " +
            std::to_string(tuning.threads_per_block));
    int per_sm = 0;
    check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
              &per_sm, kernel, static_cast<int>(tuning.threads_per_block), 0),
          "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
    return std::max<std::uint64_t>(1, std::uint64_t(prop.multiProcessorCount) * per_sm);
}

// Launches exact_float_reduce<T> over one piece, into a zeroed total:
// sliced on devices with full-rate FP64, placed by integers on others.
template <class T>
class FloatLauncher {
  public:
    FloatLauncher(const cudaDeviceProp& prop, kernels::TreeTuning tuning)
        : tuning_(tuning),
          kernel_(kernels::full_rate_fp64(prop.major, prop.minor)
                      ? kernels::exact_float_reduce<T, true>
                      : kernels::exact_float_reduce<T, false>),
          max_blocks_(resident_blocks(prop, kernel_, tuning)) {}

    void launch(const T* data, std::uint64_t n, ExactFloat* out, cudaStream_t stream) {
        plan_ = kernels::plan_grid(n, max_blocks_, tuning_);
        check(cudaMemsetAsync(out, 0, sizeof(ExactFloat), stream), "cudaMemsetAsync");
        kernel_<<<static_cast<unsigned>(plan_.blocks), tuning_.threads_per_block, 0, stream>>>(
            data, EvenSplit(n, plan_.chunks), out);
        check(cudaGetLastError(), "launching exact_float_reduce");
    }
    bool sliced() const { return kernel_ == kernels::exact_float_reduce<T, true>; }

    std::uint64_t blocks() const { return plan_.blocks; }
    std::uint64_t chunks() const { return plan_.chunks; }
    unsigned threads() const { return tuning_.threads_per_block; }

  private:
    kernels::TreeTuning tuning_;
    void (*kernel_)(const T*, EvenSplit, ExactFloat*);
    std::uint64_t max_blocks_;
    kernels::GridPlan plan_;
};

// Launches Source's kernel (tree_reduce.cuh's grid_kernel) with a grid sized
// from the device: the buffers for one launch at a time per slot (a slot per
// stream).
template <class Source>
class TreeLauncher {
  public:
    using Acc = typename Source::Acc;

    TreeLauncher(const cudaDeviceProp& prop, kernels::TreeTuning tuning)
        : tuning_(tuning),
          max_blocks_(resident_blocks(prop, kernels::grid_kernel<Source>(), tuning)) {
        for (Buffers& b : slots_) {
            b.partials = std::make_unique<DeviceBuffer<Acc>>(max_blocks_);
            b.blocks_done = std::make_unique<DeviceBuffer<unsigned>>(1);
        }
    }

    void launch(const Source& source, Acc* out, cudaStream_t stream, unsigned slot) {
        plan_ = kernels::plan_grid(source.count(), max_blocks_, tuning_);
        Buffers& b = slots_[slot];
        // On the launch's own stream: ordered before the kernel whatever the
        // stream, and a counter left over from a failed launch is cleared.
        check(cudaMemsetAsync(b.blocks_done->get(), 0, sizeof(unsigned), stream),
              "cudaMemsetAsync");
        kernels::grid_kernel<Source>()<<<static_cast<unsigned>(plan_.blocks),
                                         tuning_.threads_per_block, 0, stream>>>(
            source, EvenSplit(source.count(), plan_.chunks), b.partials->get(),
            b.blocks_done->get(), out);
        check(cudaGetLastError(), "launching tree_reduce");
    }

    std::uint64_t blocks() const { return plan_.blocks; }
    std::uint64_t chunks() const { return plan_.chunks; }
    unsigned threads() const { return tuning_.threads_per_block; }

  private:
    struct Buffers {
        std::unique_ptr<DeviceBuffer<Acc>> partials;
        std::unique_ptr<DeviceBuffer<unsigned>> blocks_done;
    };
    kernels::TreeTuning tuning_;
    std::uint64_t max_blocks_ = 1;
    kernels::GridPlan plan_;
    Buffers slots_[kStreamSlots];
};

// Where slices of a series are launched, their totals copied back into
// pinned memory and their kernels timed: slice_schedule.hpp's pipe for our
// kernel. One launcher, its buffers and stream for every slice.
class SeriesPipe {
  public:
    static constexpr unsigned kDepth = 2;

    SeriesPipe(const cudaDeviceProp& prop, const Progression& series, std::uint64_t slices)
        : launcher_(prop, kernels::TreeTuning{}),
          totals_(kDepth),
          series_(series),
          slices_(slices) {
        check(cudaHostAlloc(reinterpret_cast<void**>(&collected_), kDepth * sizeof(i128),
                            cudaHostAllocDefault),
              "cudaHostAlloc");
        try {
            for (Slot& s : slots_)
                for (cudaEvent_t* e : {&s.start, &s.end, &s.copied})
                    *e = kernels::create_blocking_event();
        } catch (...) {
            release_events();
            cudaFreeHost(collected_);
            throw;
        }
    }
    ~SeriesPipe() {
        cudaStreamSynchronize(stream_.get());  // a stop leaves slices queued
        release_events();
        cudaFreeHost(collected_);
    }
    SeriesPipe(const SeriesPipe&) = delete;
    SeriesPipe& operator=(const SeriesPipe&) = delete;

    void enqueue(std::uint64_t slice, unsigned slot) {
        const Progression part = chunk_of(series_, slices_, slice);
        Slot& s = slots_[slot];
        check(cudaEventRecord(s.start, stream_.get()), "cudaEventRecord");
        launcher_.launch(kernels::SeriesSource{part, exact_int64_block(part)}, totals_.get() + slot,
                         stream_.get(), slot);
        check(cudaEventRecord(s.end, stream_.get()), "cudaEventRecord");
        check(cudaMemcpyAsync(collected_ + slot, totals_.get() + slot, sizeof(i128),
                              cudaMemcpyDeviceToHost, stream_.get()),
              "copying a slice's total back");
        check(cudaEventRecord(s.copied, stream_.get()), "cudaEventRecord");
    }
    i128 collect(unsigned slot) {
        Slot& s = slots_[slot];
        check(cudaEventSynchronize(s.copied), "waiting for the device");
        float ms = 0;
        check(cudaEventElapsedTime(&ms, s.start, s.end), "cudaEventElapsedTime");
        kernel_seconds_ += ms / 1e3;
        return collected_[slot];
    }
    double kernel_seconds() const { return kernel_seconds_; }
    const TreeLauncher<kernels::SeriesSource>& launcher() const { return launcher_; }

  private:
    struct Slot {
        cudaEvent_t start{}, end{}, copied{};
    };
    void release_events() {
        for (Slot& s : slots_)
            for (cudaEvent_t e : {s.start, s.end, s.copied})
                if (e != nullptr) cudaEventDestroy(e);
    }

    TreeLauncher<kernels::SeriesSource> launcher_;
    DeviceBuffer<i128> totals_;
    const kernels::Stream stream_;
    Slot slots_[kDepth];
    i128* collected_ = nullptr;  // pinned: the copies back stay asynchronous
    Progression series_;
    std::uint64_t slices_;
    double kernel_seconds_ = 0;
};

class TreeReduceBackend final : public GpuBackend {
  public:
    using GpuBackend::GpuBackend;

  protected:
    // Slices pipelined (slice_schedule.hpp): compute is the wall time from
    // the first launch to the last total, what the caller waits for; the
    // kernels' own device time is reported beside it.
    void run_series(const Progression& p, const cudaDeviceProp& prop, Stopwatch& clock,
                    Result& result, Progress* progress) override {
        const std::uint64_t slices = slice_count(p);
        SeriesPipe pipe(prop, p, slices);
        result.seconds.setup = clock.lap();
        result.sum = kernels::sum_slices(pipe, slices, SeriesPipe::kDepth, [&](std::uint64_t i) {
            if (progress != nullptr) progress->advance(chunk_of(p, slices, i).count);
            throw_if_stopped();
        });
        result.seconds.compute = clock.lap();
        describe_grid(pipe.launcher(), result);
        result.details.emplace_back("kernel_seconds", std::to_string(pipe.kernel_seconds()));
        if (slices > 1)
            result.details.emplace_back("slices", std::to_string(slices) + " launches, " +
                                                      std::to_string(SeriesPipe::kDepth) +
                                                      " queued at a time");
    }

    void run_array(const ArrayView& a, const cudaDeviceProp& prop, Stopwatch& clock, Result& result,
                   Progress* progress) override {
        visit_device_dtype(a.dtype, [&](auto t) {
            using T = decltype(t);
            using Acc = std::conditional_t<std::is_floating_point_v<T>, ExactFloat, i128>;
            Launcher<T> launcher(prop, kernels::TreeTuning{});
            kernels::sum_streamed<T, Acc>(
                a, clock, result, progress,
                [&](const T* data, std::uint64_t n, Acc* out, cudaStream_t stream, unsigned slot) {
                    launch(launcher, data, n, out, stream, slot);
                });
            describe_grid(launcher, result);
        });
    }

    void run_device_array(const ArrayView& a, const cudaDeviceProp& prop, Stopwatch& clock,
                          Result& result) override {
        visit_device_dtype(a.dtype, [&](auto t) {
            using T = decltype(t);
            using Acc = std::conditional_t<std::is_floating_point_v<T>, ExactFloat, i128>;
            Launcher<T> launcher(prop, kernels::TreeTuning{});
            kernels::sum_in_launches<T, Acc>(
                a, clock, result,
                [&](const T* data, std::uint64_t n, Acc* out, cudaStream_t stream) {
                    launch(launcher, data, n, out, stream, 0);
                });
            describe_grid(launcher, result);
        });
    }

  private:
    // Our kernel for elements of T: exact_float_reduce or tree_reduce.
    template <class T>
    using Launcher = std::conditional_t<std::is_floating_point_v<T>, FloatLauncher<T>,
                                        TreeLauncher<kernels::ArraySource<T>>>;

    template <class T, class Acc>
    static void launch(Launcher<T>& launcher, const T* data, std::uint64_t n, Acc* out,
                       cudaStream_t stream, unsigned slot) {
        if constexpr (std::is_floating_point_v<T>)
            launcher.launch(data, n, out, stream);
        else
            launcher.launch(kernels::ArraySource<T>{data, n}, out, stream, slot);
    }

    template <class Launcher>
    static void describe_grid(const Launcher& launcher, Result& result) {
        result.workers = static_cast<unsigned>(launcher.blocks() * launcher.threads());
        result.chunks = launcher.chunks();
        result.details.emplace_back("grid", std::to_string(launcher.blocks()) + " blocks x " +
                                                std::to_string(launcher.threads()) + " threads");
        if constexpr (requires { launcher.sliced(); })
            result.details.emplace_back("float_sum", launcher.sliced()
                                                         ? "sliced on FP64 grids (full-rate FP64)"
                                                         : "placed on the digits by integers");
    }
};

class CubBackend final : public GpuBackend {
  public:
    using GpuBackend::GpuBackend;
    std::string cannot_sum(const ArrayView& a) const override {
        if (is_float(a.dtype))
            return "sums integer arrays only (exact float sums need the cuda backend)";
        return GpuBackend::cannot_sum(a);
    }

  protected:
    void run_series(const Progression& p, const cudaDeviceProp&, Stopwatch& clock, Result& result,
                    Progress* progress) override {
        run_in_slices(p, clock, result, progress, [&](const Progression& slice, Result& part) {
            return run_slice(slice, clock, part);
        });
    }

    void run_array(const ArrayView& a, const cudaDeviceProp&, Stopwatch& clock, Result& result,
                   Progress* progress) override {
        visit_integer_dtype(a.dtype, [&](auto t) {
            using T = decltype(t);
            ArrayReducer<T> reducer(std::min(kPieceBytes / sizeof(T), a.count), kStreamSlots);
            kernels::sum_streamed<T, i128>(
                a, clock, result, progress,
                [&](const T* data, std::uint64_t n, i128* out, cudaStream_t stream, unsigned slot) {
                    reducer.reduce(data, n, out, stream, slot);
                });
        });
    }

    void run_device_array(const ArrayView& a, const cudaDeviceProp&, Stopwatch& clock,
                          Result& result) override {
        visit_integer_dtype(a.dtype, [&](auto t) {
            using T = decltype(t);
            ArrayReducer<T> reducer(std::min(a.count, kernels::kMaxArrayLaunchElements), 1);
            kernels::sum_in_launches<T, i128>(
                a, clock, result,
                [&](const T* data, std::uint64_t n, i128* out, cudaStream_t stream) {
                    reducer.reduce(data, n, out, stream, 0);
                });
        });
    }

  private:
    i128 run_slice(const Progression& p, Stopwatch& clock, Result& result) {
        const thrust::counting_iterator<std::uint64_t> index(0);
        if (fits_in_one_int64_block(p))
            return reduce(thrust::make_transform_iterator(index, ElementAt{p}), std::uint64_t{0},
                          p.count, clock, result);
        return reduce(thrust::make_transform_iterator(index, WideElementAt{p}), i128{0}, p.count,
                      clock, result);
    }

    template <class F>
    void visit_integer_dtype(DType dtype, F&& f) const {
        visit_device_dtype(dtype, [&](auto t) {
            if constexpr (std::is_floating_point_v<decltype(t)>)
                throw BackendError(cannot_sum(ArrayView{nullptr, 0, dtype}));
            else
                f(t);
        });
    }

    // cub::DeviceReduce over a raw pointer (so CUB vectorises its loads;
    // bools through TrueAsOne), accumulating in i128; scratch for `most`
    // elements per slot.
    template <class T>
    class ArrayReducer {
      public:
        ArrayReducer(std::uint64_t most, unsigned slots) {
            check(
                cub::DeviceReduce::Reduce(nullptr, bytes_, elements(static_cast<const T*>(nullptr)),
                                          static_cast<i128*>(nullptr), most, AddWide{}, i128{}),
                "cub::DeviceReduce::Reduce (sizing)");
            for (unsigned i = 0; i < slots; ++i)
                scratch_.push_back(std::make_unique<DeviceBuffer<char>>(bytes_));
        }
        void reduce(const T* data, std::uint64_t n, i128* out, cudaStream_t stream, unsigned slot) {
            std::size_t bytes = bytes_;
            check(cub::DeviceReduce::Reduce(scratch_[slot]->get(), bytes, elements(data), out, n,
                                            AddWide{}, i128{}, stream),
                  "cub::DeviceReduce::Reduce");
        }

      private:
        static auto elements(const T* data) {
            if constexpr (std::is_same_v<T, kernels::BoolByte>)
                return thrust::make_transform_iterator(data, TrueAsOne{});
            else
                return data;
        }

      private:
        std::size_t bytes_ = 0;
        std::vector<std::unique_ptr<DeviceBuffer<char>>> scratch_;
    };

    // Two-phase CUB: ask for the scratch size, allocate, then reduce.
    template <class Iterator, class Acc>
    i128 reduce(Iterator elements, Acc, std::uint64_t count, Stopwatch& clock, Result& result) {
        DeviceBuffer<Acc> out(1);
        std::size_t scratch_bytes = 0;
        check(cub::DeviceReduce::Sum(nullptr, scratch_bytes, elements, out.get(), count),
              "cub::DeviceReduce::Sum (sizing)");
        DeviceBuffer<char> scratch(scratch_bytes);
        const kernels::Stream stream;
        EventTimer timer(stream.get());
        result.seconds.setup = clock.lap();
        timer.start();
        check(cub::DeviceReduce::Sum(scratch.get(), scratch_bytes, elements, out.get(), count,
                                     stream.get()),
              "cub::DeviceReduce::Sum");
        result.seconds.compute = timer.stop();
        result.details.emplace_back("accumulator",
                                    sizeof(Acc) == 8 ? "wrapping int64 (total fits)" : "int128");
        Acc host = 0;
        timer.start();
        check(cudaMemcpyAsync(&host, out.get(), sizeof host, cudaMemcpyDeviceToHost, stream.get()),
              "copying the sum back");
        result.seconds.combine = timer.stop();
        return sizeof(Acc) == 8 ? i128{static_cast<std::int64_t>(host)} : static_cast<i128>(host);
    }
};

class ThrustBackend final : public GpuBackend {
  public:
    using GpuBackend::GpuBackend;
    std::string cannot_sum(const ArrayView&) const override { return "sums ranges only"; }

  protected:
    void run_series(const Progression& p, const cudaDeviceProp&, Stopwatch& clock, Result& result,
                    Progress* progress) override {
        run_in_slices(p, clock, result, progress, [&](const Progression& slice, Result& part) {
            return run_slice(slice, clock, part);
        });
    }

  private:
    i128 run_slice(const Progression& p, Stopwatch& clock, Result& result) {
        const thrust::counting_iterator<std::uint64_t> first(0), last(p.count);
        const kernels::Stream stream;
        EventTimer timer(stream.get());
        result.seconds.setup = clock.lap();
        timer.start();
        i128 sum;
        // transform_reduce returns to the host: the copy-back is inside compute.
        if (fits_in_one_int64_block(p)) {
            const std::uint64_t s = thrust::transform_reduce(
                thrust::cuda::par.on(stream.get()), first, last, ElementAt{p}, std::uint64_t{0},
                ::cuda::std::plus<std::uint64_t>());
            sum = static_cast<std::int64_t>(s);
        } else {
            sum = thrust::transform_reduce(thrust::cuda::par.on(stream.get()), first, last,
                                           WideElementAt{p}, i128{0}, ::cuda::std::plus<i128>());
        }
        result.seconds.compute = timer.stop();
        result.details.emplace_back(
            "accumulator", fits_in_one_int64_block(p) ? "wrapping int64 (total fits)" : "int128");
        return sum;
    }

    void run_array(const ArrayView&, const cudaDeviceProp&, Stopwatch&, Result&,
                   Progress*) override {
        throw BackendError("thrust sums ranges only");
    }
    void run_device_array(const ArrayView&, const cudaDeviceProp&, Stopwatch&, Result&) override {
        throw BackendError("thrust sums ranges only");
    }
};

}  // namespace

double check_device_floats(const void* data, DType dtype, std::uint64_t count, int device,
                           unsigned workers) {
    const StopSignals stop_signals;
    const kernels::DeviceKept kept;
    return as_backend_error("the float check", [&] {
        check(cudaSetDevice(device), "cudaSetDevice");
        const std::size_t size = dtype_size(dtype);
        const std::uint64_t per_piece = kPieceBytes / size;
        std::vector<unsigned char> host(std::min(count, per_piece) * size);
        FloatCheck total;
        for (std::uint64_t done = 0; done < count; done += per_piece) {
            throw_if_stopped();
            const std::uint64_t n = std::min(per_piece, count - done);
            check(cudaMemcpy(host.data(), static_cast<const unsigned char*>(data) + done * size,
                             n * size, cudaMemcpyDeviceToHost),
                  "copying the array back for its check");
            total.add(ArrayView{host.data(), n, dtype}, workers);
        }
        return total.value();
    });
}

Result sum_device_array(const void* data, DType dtype, std::uint64_t count, int device,
                        std::string_view backend) {
    if (dtype == DType::float16) throw InputError("float16 device arrays are not summed");
    const std::size_t size = dtype_size(dtype);
    if (count > UINT64_MAX / size) throw InputError(std::to_string(count) + " elements: too many");
    if (count == 0) data = nullptr;  // nothing is read
    if (count > 0 && data == nullptr) throw InputError("null device pointer");
    if (reinterpret_cast<std::uintptr_t>(data) % size != 0)
        throw InputError("device pointer not aligned to its " + std::to_string(size) +
                         "-byte elements");
    const BackendList backends = make_cuda_backends();
    GpuBackend* gpu = nullptr;
    for (const auto& b : backends)
        if (b->name() == backend) gpu = static_cast<GpuBackend*>(b.get());
    if (gpu == nullptr) throw InputError("no GPU backend named '" + std::string(backend) + "'");
    if (const Availability a = gpu->availability(); !a.usable) throw BackendError(a.reason);
    if (count > 0) {
        cudaPointerAttributes where{};
        check(cudaPointerGetAttributes(&where, data), "cudaPointerGetAttributes");
        const bool on_device =
            where.type == cudaMemoryTypeDevice || where.type == cudaMemoryTypeManaged;
        if (!on_device) throw InputError("the pointer is not device memory");
        if (where.type == cudaMemoryTypeDevice && where.device != device)
            throw InputError("the pointer is memory of device " + std::to_string(where.device) +
                             ", not of device " + std::to_string(device));
        // A fault inside the shared context would end every CUDA user in the
        // process (CuPy, torch): the elements must lie within one allocation.
        if (const auto room = kernels::bytes_in_allocation(data); room && count * size > *room)
            throw InputError(std::to_string(count * size) +
                             " bytes asked for, but the allocation holds " + std::to_string(*room) +
                             " from this pointer on");
        // Producers following DLPack order their writes before the legacy
        // default stream; our streams do not wait on it by themselves.
        check(cudaStreamSynchronize(cudaStreamLegacy), "waiting for the producer's writes");
    }
    const ArrayView a{static_cast<const unsigned char*>(data), count, dtype};
    return gpu->sum_device_memory(a, device);
}

BackendList make_cuda_backends(CudaOptions options) {
    BackendList list;
    list.push_back(std::make_unique<TreeReduceBackend>(kGpuBackends[0], options));
    list.push_back(std::make_unique<CubBackend>(kGpuBackends[1], options));
    list.push_back(std::make_unique<ThrustBackend>(kGpuBackends[2], options));
    return list;
}

}  // namespace gpusum
