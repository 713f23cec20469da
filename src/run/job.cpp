#include "run/job.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>

#include "backends/cpu/cpu_backends.hpp"
#include "input/file_guard.hpp"
#include "input/sources.hpp"
#include "plan/dispatch.hpp"
#include "run/stream_job.hpp"
#include "support/progress.hpp"
#include "support/stop_signals.hpp"
#include "support/stopwatch.hpp"
#include "support/text.hpp"
#include "verify/array_check.hpp"

namespace gpusum {

double Outcome::min_total() const {
    return *std::min_element(totals.begin(), totals.end());
}
double Outcome::max_total() const {
    return *std::max_element(totals.begin(), totals.end());
}
double Outcome::median_total() const {
    std::vector<double> sorted = totals;
    std::sort(sorted.begin(), sorted.end());
    return sorted[sorted.size() / 2];
}
double Outcome::elements_per_second() const {
    const double t = median_total();
    return t > 0 ? static_cast<double>(elements) / t : 0;
}
double Outcome::all_phases_seconds() const {
    return fill_seconds + result.seconds.total() + check_seconds;
}
double Outcome::bytes_per_second() const {
    const double t = result.seconds.compute;
    return t > 0 ? static_cast<double>(bytes) / t : 0;
}

namespace {

// --mode array with these backends: the array is made in the GPU's memory
// and summed there (auto and --compare keep one host array for all).
bool fills_on_device(std::string_view backend) {
    return backend == "cuda" || backend == "cub";
}

std::string range_text(const Range& r) {
    return "range(" + std::to_string(r.start) + ", " + std::to_string(r.stop) + ", " +
           std::to_string(r.step) + ")";
}

// The data a job sums, prepared once and shared by every backend that runs
// it, with the value each answer is checked against.
std::string input_name(const Job& job) {
    return job.input == "-" ? "standard input" : job.input;
}

// The job's --input opened, or null; errors name the file.
std::unique_ptr<InputFile> open_input(const Job& job) {
    if (job.input.empty()) return nullptr;
    try {
        return std::make_unique<InputFile>(job.input, job.input_dtype);
    } catch (const InputError& e) {
        throw InputError(input_name(job) + ": " + e.what());
    }
}

// A job whose input is a stream; errors found while reading name it.
Outcome stream_job(const BackendList& backends, const Job& job, InputFile& file) {
    const std::string name = input_name(job);
    const FileGuard guard(name);  // an inflated member is read from a mapping
    try {
        Outcome out =
            sum_stream(backends, job, *file.stream(), name + " (" + file.description() + ")");
        if (!file.unchanged()) throw InputError(file_changed_message());
        return out;
    } catch (const InputError& e) {
        const std::string what = e.what();
        if (what.starts_with("--")) throw;  // about an option, not the data
        throw InputError(name + ": " + what);
    }
}

class Workload {
  public:
    Workload(const Job& job, std::unique_ptr<InputFile> file)
        : show_progress_(job.progress), file_(std::move(file)) {
        const Progression series = to_progression(job.range);
        template_.series = series;
        template_.workers = job.workers;
        template_.chunks = job.chunks;
        template_.device = job.device;
        template_.chunk_timeout = job.chunk_timeout;
        template_.devices = job.devices;
        static std::atomic<std::uint64_t> workloads{0};
        template_.workload_id = ++workloads;
        if (file_) {
            template_.array = file_->view();
            const std::string name = input_name(job);
            guard_ = std::make_unique<FileGuard>(name);
            base_.source = name + " (" + file_->description() + ")";
        } else if (job.array) {
            template_.array = job.array;
            base_.source = "an array in memory (" + std::to_string(job.array->count) + " " +
                           std::string(dtype_name(job.array->dtype)) + ")";
        } else if (job.mode == Mode::array && fills_on_device(job.backend)) {
            template_.fill_on_device = true;
            base_.source = range_text(job.range) + " as an int64 array in device memory";
        } else if (job.mode == Mode::array) {
            Stopwatch fill;
            try {
                const StopSignals stop_signals;  // Ctrl-C ends the fill cleanly
                Progress progress(series.count, show_progress_, "fill");
                array_ = std::make_unique<HostArray>(series, job.workers, job.chunks, &progress);
            } catch (const InputError& e) {
                throw InputError(std::string("--mode array: ") + e.what());
            }
            base_.fill_seconds = fill.lap();
            template_.array = array_->view();
            base_.source = range_text(job.range) + " as an int64 array";
        } else {
            base_.source = range_text(job.range);
        }
        base_.elements = template_.elements();
        base_.real = template_.real();
        base_.bytes = template_.array            ? template_.array->bytes()
                      : template_.fill_on_device ? series.count * sizeof(std::int64_t)
                                                 : 0;
    }

    Request request() const {
        Request r = template_;
        r.check_in_cache = checks_by_second_pass();
        return r;
    }

    // An outcome with the job's facts and the check value filled in. The
    // check runs once, the first time it is needed.
    Outcome outcome() {
        if (!checked_) {
            Stopwatch clock;
            const StopSignals stop_signals;  // Ctrl-C ends the check cleanly
            Progress progress(checks_by_second_pass() ? template_.elements() : 0, show_progress_,
                              "check");
            if (!checks_by_second_pass()) {
                base_.expected = closed_form_sum(template_.series);
                base_.check = "closed form (exact)";
            } else if (base_.real) {
                base_.expected_real =
                    check_sum_floats(*template_.array, template_.workers, &progress);
                base_.check = kFloatCheckMethod;
            } else {
                base_.expected = check_sum_integers(*template_.array, template_.workers, &progress);
                base_.check = kIntegerCheckMethod;
            }
            base_.check_seconds = clock.lap();
            checked_ = true;
        }
        return base_;
    }

    // A file rewritten during the run may have been read half old, half new.
    void check_unchanged() const {
        if (file_ && !file_->unchanged()) throw InputError(file_changed_message());
    }

    // Whether run `r` agrees with its check: the one it made in cache, if it
    // did (its blocks must tile the array exactly once: a chunk lost,
    // doubled or misplaced fails that), else the outcome's.
    bool agrees(const Outcome& o, const Result& r) const {
        if (const auto& c = r.in_cache_check) {
            const bool same = o.real ? c->real && same_float(rounded(r.real), c->real->value())
                                     : r.sum == c->total;
            return same && covered(*c);
        }
        return o.real ? same_float(rounded(r.real), o.expected_real) : r.sum == o.expected;
    }

    // The outcome's facts for runs that all checked themselves in cache, or
    // empty: the second pass checks them.
    std::optional<Outcome> checked_in_cache(const std::vector<Result>& runs) const {
        for (const Result& r : runs)
            if (!r.in_cache_check) return std::nullopt;
        Outcome out = base_;
        out.check = "in cache, block by block as each was summed: " +
                    std::string(base_.real ? kFloatCheckMethod : kIntegerCheckMethod) +
                    "; the blocks checked tile the array exactly once";
        for (const Result& r : runs)
            if (!covered(*r.in_cache_check)) {
                out.check += " (they do not: elements missed or read twice)";
                break;
            }
        return out;
    }

  private:
    bool covered(const CacheCheck& c) const { return tiles(c.walked, template_.elements()); }

    // Data that is no series (a file, the caller's array) is checked by a
    // second pass over it; a series, materialised or not, by its closed form.
    bool checks_by_second_pass() const { return template_.array && !array_; }

    bool show_progress_;
    Request template_;
    std::unique_ptr<InputFile> file_;
    std::unique_ptr<FileGuard> guard_;
    std::unique_ptr<HostArray> array_;
    Outcome base_;
    bool checked_ = false;
};

Outcome measure(Backend& backend, const Job& job, Workload& work, std::string reason) {
    std::vector<Result> runs;
    const unsigned repeat = std::max(job.repeat, 1U);
    // One bar over every repetition (many short runs are one long wait).
    const std::uint64_t elements = work.request().elements();
    const bool one_bar = elements <= UINT64_MAX / repeat;
    std::unique_ptr<Progress> progress;
    for (unsigned r = 0; r < repeat; ++r) {
        if (!progress || !one_bar)
            progress =
                std::make_unique<Progress>(one_bar ? elements * repeat : elements, job.progress);
        Request request = work.request();
        request.keep_workers = r + 1 < repeat;
        request.progress = progress.get();
        runs.push_back(backend.sum(request));
        work.check_unchanged();
    }
    progress.reset();
    const std::optional<Outcome> in_cache = work.checked_in_cache(runs);
    Outcome out = in_cache ? *in_cache : work.outcome();
    work.check_unchanged();  // the check read it too
    out.backend = std::string(backend.name());
    out.reason = std::move(reason);
    if (job.chunk_timeout > 0 && out.backend != "process")
        out.ignored.push_back("--chunk-timeout: the " + out.backend +
                              " backend has no per-chunk deadline (only the process pool does)");
    out.verified = true;
    for (const Result& r : runs) {
        out.totals.push_back(r.seconds.total());
        out.verified = out.verified && work.agrees(out, r);
    }
    // Report the median run; a wrong repetition, if any, wins so it is seen.
    std::vector<std::size_t> order(runs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return out.totals[a] < out.totals[b]; });
    out.result = runs[order[order.size() / 2]];
    for (const Result& r : runs)
        if (!work.agrees(out, r)) out.result = r;
    if (in_cache && out.real && out.result.in_cache_check->real)
        out.expected_real = out.result.in_cache_check->real->value();
    else if (in_cache)
        out.expected = out.result.in_cache_check->total;
    return out;
}

// Why `b` cannot run `request` at all, or empty if it can.
std::string unusable_reason(const Backend& b, const Request& request) {
    const Availability a = b.availability();
    if (!a.usable) return a.reason;
    if (request.array) return b.cannot_sum(*request.array);
    return {};
}

}  // namespace

Outcome run_job(const BackendList& backends, const Job& job) {
    if (job.backend != "auto") {
        Backend* b = find_backend(backends, job.backend);
        if (b == nullptr) throw Unavailable("unknown backend '" + job.backend + "'");
        // Before the workload is prepared: no array is filled for nothing.
        if (const Availability a = b->availability(); !a.usable)
            throw Unavailable("backend '" + job.backend + "' is unavailable: " + a.reason);
        std::unique_ptr<InputFile> file = open_input(job);
        if (file && file->stream()) return stream_job(backends, job, *file);
        Workload work(job, std::move(file));
        if (const Request r = work.request(); r.array) {
            if (const std::string why = b->cannot_sum(*r.array); !why.empty())
                throw Unavailable("backend '" + job.backend + "' " + why);
        }
        try {
            return measure(*b, job, work, "requested with --backend");
        } catch (const BackendError& e) {
            throw Unavailable("backend '" + job.backend + "' failed: " + e.what());
        }
    }
    std::unique_ptr<InputFile> file = open_input(job);
    if (file && file->stream()) return stream_job(backends, job, *file);
    Workload work(job, std::move(file));
    AutoPlan plan = plan_auto(backends, work.request());
    std::vector<std::string> notes = plan.skipped;
    for (Choice& c : plan.candidates) {
        try {
            Outcome out = measure(*c.backend, job, work, c.reason);
            out.notes = notes;
            return out;
        } catch (const BackendError& e) {
            notes.push_back(std::string(c.backend->name()) + " failed: " + e.what());
        }
    }
    std::string why;
    for (const auto& n : notes) why += (why.empty() ? "" : "; ") + n;
    throw Unavailable("no backend could run: " + why);
}

void serve_job(const BackendList& backends, const Job& job) {
    Backend* b = find_backend(backends, job.backend);
    if (b == nullptr) throw Unavailable("unknown backend '" + job.backend + "'");
    std::unique_ptr<InputFile> file = open_input(job);
    if (file && file->stream())
        throw InputError("--backend " + job.backend +
                         ": a stream is read by one process and cannot be shared among ranks; "
                         "give a file");
    Workload work(job, std::move(file));
    for (unsigned r = 0; r < std::max(job.repeat, 1U); ++r) b->sum(work.request());
}

std::string long_run_warning(const BackendList& backends, const Job& job) {
    // Files and arrays are bounded by memory and disk: never a day's work.
    if (!job.input.empty() || job.array || job.mode == Mode::array) return {};
    const double elements =
        static_cast<double>(to_progression(job.range).count) * std::max(job.repeat, 1U);
    const Backend* gpu = find_backend(backends, "cuda");
    const bool on_gpu = (job.backend == "cuda" || job.backend == "cub" || job.backend == "thrust" ||
                         job.backend == "auto") &&
                        gpu != nullptr && gpu->availability().usable;
    const double rate =
        on_gpu ? 1e12 : 2e10 * std::min<double>(std::max(job.workers, 1U), usable_cores());
    const double seconds = elements / rate;
    if (seconds < 86400) return {};
    const double days = seconds / 86400;
    char when[64];
    if (days < 730)
        std::snprintf(when, sizeof when, "about %.0f days", days);
    else
        std::snprintf(when, sizeof when, "about %.3g years", days / 365.25);
    return "this run adds " + si(elements) + " elements; at the " + si(rate) +
           " elements/s expected here that is " + when + " (it runs until done or Ctrl-C)";
}

Comparison compare_backends(const BackendList& backends, const Job& job) {
    Comparison c;
    std::unique_ptr<InputFile> file = open_input(job);
    if (file && file->stream())
        throw InputError(
            "--compare: a stream is read once; save it to a file to compare the "
            "backends on it");
    Workload work(job, std::move(file));
    for (const auto& b : backends) {
        if (b->collective()) {
            c.notes.push_back(std::string(b->name()) +
                              ": runs only when asked for (mpirun ... --backend " +
                              std::string(b->name()) + ")");
            continue;
        }
        if (const std::string why = unusable_reason(*b, work.request()); !why.empty()) {
            c.notes.push_back(std::string(b->name()) + ": " + why);
            continue;
        }
        try {
            c.runs.push_back(measure(*b, job, work, "--compare runs every usable backend"));
        } catch (const BackendError& e) {
            c.notes.push_back(std::string(b->name()) + " failed: " + e.what());
        }
    }
    if (c.runs.empty()) throw Unavailable("no backend could run");
    return c;
}

}  // namespace gpusum
