#include "gpusum/job.hpp"

#include <algorithm>

#include "gpusum/dispatch.hpp"
#include "gpusum/progress.hpp"

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

namespace {

Outcome measure(Backend& backend, const Job& job, std::string reason) {
    Outcome out;
    out.backend = std::string(backend.name());
    out.reason = std::move(reason);
    const Progression series = to_progression(job.range);
    out.elements = series.count;
    out.expected = closed_form_sum(series);
    out.verified = true;
    std::vector<Result> runs;
    for (unsigned r = 0; r < std::max(job.repeat, 1U); ++r) {
        Progress progress(series.count, job.progress);
        const Request request{series, job.workers, job.chunks, &progress, job.device};
        runs.push_back(backend.sum(request));
        out.totals.push_back(runs.back().seconds.total());
        out.verified = out.verified && runs.back().sum == out.expected;
    }
    // Report the median run; a wrong repetition, if any, wins so it is seen.
    std::vector<std::size_t> order(runs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return out.totals[a] < out.totals[b]; });
    out.result = runs[order[order.size() / 2]];
    for (const Result& r : runs)
        if (r.sum != out.expected) out.result = r;
    return out;
}

}  // namespace

Outcome run_job(const BackendList& backends, const Job& job) {
    if (job.backend != "auto") {
        Backend* b = find_backend(backends, job.backend);
        if (b == nullptr) throw Unavailable("unknown backend '" + job.backend + "'");
        const Availability a = b->availability();
        if (!a.usable)
            throw Unavailable("backend '" + job.backend + "' is unavailable: " + a.reason);
        try {
            return measure(*b, job, "requested with --backend");
        } catch (const BackendError& e) {
            throw Unavailable("backend '" + job.backend + "' failed: " + e.what());
        }
    }
    const Request request{to_progression(job.range), job.workers, job.chunks, nullptr};
    AutoPlan plan = plan_auto(backends, request);
    std::vector<std::string> notes = plan.skipped;
    for (Choice& c : plan.candidates) {
        try {
            Outcome out = measure(*c.backend, job, c.reason);
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

Comparison compare_backends(const BackendList& backends, const Job& job) {
    Comparison c;
    for (const auto& b : backends) {
        const Availability a = b->availability();
        if (!a.usable) {
            c.notes.push_back(std::string(b->name()) + ": " + a.reason);
            continue;
        }
        try {
            c.runs.push_back(measure(*b, job, "--compare runs every usable backend"));
        } catch (const BackendError& e) {
            c.notes.push_back(std::string(b->name()) + " failed: " + e.what());
        }
    }
    if (c.runs.empty()) throw Unavailable("no backend could run");
    return c;
}

}  // namespace gpusum
