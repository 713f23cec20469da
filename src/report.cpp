#include "gpusum/report.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gpusum/cpu.hpp"
#include "gpusum/text.hpp"

namespace gpusum {

std::string_view version() {
    return GPUSUM_VERSION;
}

namespace {

std::string range_text(const Range& r) {
    return "range(" + std::to_string(r.start) + ", " + std::to_string(r.stop) + ", " +
           std::to_string(r.step) + ")";
}

void row(std::ostringstream& out, std::string_view label, const std::string& value) {
    char pad[16];
    std::snprintf(pad, sizeof pad, "  %-11.*s ", static_cast<int>(label.size()), label.data());
    out << pad << value << '\n';
}

std::string fixed(double value, int decimals) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    return buf;
}

nlohmann::json outcome_json(const Outcome& o) {
    const Result& r = o.result;
    nlohmann::json details = nlohmann::json::object();
    for (const auto& [k, v] : r.details) details[k] = v;
    return {
        {"backend", o.backend},
        {"reason", o.reason},
        {"notes", o.notes},
        {"workers", r.workers},
        {"chunks", r.chunks},
        {"retried_chunks", r.retried_chunks},
        {"sum", to_string(r.sum)},
        {"verified", o.verified},
        {"seconds",
         {{"setup", r.seconds.setup},
          {"compute", r.seconds.compute},
          {"combine", r.seconds.combine},
          {"total", r.seconds.total()}}},
        {"repeat",
         {{"count", o.totals.size()},
          {"min", o.min_total()},
          {"median", o.median_total()},
          {"max", o.max_total()}}},
        {"elements_per_second", o.elements_per_second()},
        {"details", details},
    };
}

nlohmann::json job_json(const Job& job, const Outcome& any) {
    return {
        {"tool", "gpusum"},
        {"version", version()},
        {"start", job.range.start},
        {"stop", job.range.stop},
        {"step", job.range.step},
        {"elements", any.elements},
        {"expected", to_string(any.expected)},
        {"cpu_simd", simd_level()},
    };
}

}  // namespace

std::string format_report(const Job& job, const Outcome& o) {
    const Result& r = o.result;
    std::ostringstream out;
    out << "gpusum " << version() << ": sum of " << range_text(job.range) << '\n';
    row(out, "backend",
        o.backend + " (" + (job.backend == "auto" ? "auto: " : "") + o.reason + ")");
    for (const auto& note : o.notes) row(out, "skipped", note);
    row(out, "workers",
        std::to_string(r.workers) + ", chunks " + grouped(r.chunks) +
            (r.retried_chunks > 0
                 ? ", retried " + grouped(r.retried_chunks) + " after a worker died"
                 : ""));
    row(out, "elements", grouped(o.elements));
    row(out, "sum", to_string(r.sum));
    row(out, "expected", to_string(o.expected) + " (closed form)");
    row(out, "verified", o.verified ? "yes" : "NO: the sum differs from the closed form");
    row(out, "time",
        duration(r.seconds.total()) + " = setup " + duration(r.seconds.setup) + " + compute " +
            duration(r.seconds.compute) + " + combine " + duration(r.seconds.combine));
    if (o.totals.size() > 1)
        row(out, "repeat",
            std::to_string(o.totals.size()) + " runs: min " + duration(o.min_total()) +
                ", median " + duration(o.median_total()) + ", max " + duration(o.max_total()));
    row(out, "throughput", si(o.elements_per_second()) + " elements/s");
    for (const auto& [k, v] : r.details) row(out, k, v);
    return out.str();
}

std::string format_comparison(const Job& job, const Comparison& c) {
    const Outcome& first = c.runs.front();
    std::ostringstream out;
    out << "gpusum " << version() << ": sum of " << range_text(job.range) << ", "
        << grouped(first.elements) << " elements, expected " << to_string(first.expected) << "\n\n";
    double serial = 0;
    for (const Outcome& o : c.runs)
        if (o.backend == "serial") serial = o.median_total();
    char line[200];
    std::snprintf(line, sizeof line, "  %-9s %7s %8s %11s %11s %14s %10s  %s\n", "backend",
                  "workers", "chunks", "median", "min", "elements/s", "vs serial", "verified");
    out << line;
    for (const Outcome& o : c.runs) {
        const std::string speedup =
            serial > 0 && o.median_total() > 0 ? fixed(serial / o.median_total(), 2) + "x" : "-";
        std::snprintf(line, sizeof line, "  %-9s %7u %8s %11s %11s %14s %10s  %s\n",
                      o.backend.c_str(), o.result.workers, grouped(o.result.chunks).c_str(),
                      duration(o.median_total()).c_str(), duration(o.min_total()).c_str(),
                      si(o.elements_per_second()).c_str(), speedup.c_str(),
                      o.verified ? "yes" : "NO");
        out << line;
    }
    for (const auto& note : c.notes) out << "  skipped: " << note << '\n';
    return out.str();
}

std::string json_report(const Job& job, const Outcome& o) {
    nlohmann::json j = job_json(job, o);
    j.update(outcome_json(o));
    return j.dump(2) + '\n';
}

std::string json_comparison(const Job& job, const Comparison& c) {
    nlohmann::json j = job_json(job, c.runs.front());
    nlohmann::json runs = nlohmann::json::array();
    bool all_verified = true;
    for (const Outcome& o : c.runs) {
        runs.push_back(outcome_json(o));
        all_verified = all_verified && o.verified;
    }
    j["runs"] = runs;
    j["notes"] = c.notes;
    j["verified"] = all_verified;
    return j.dump(2) + '\n';
}

}  // namespace gpusum
