#include "report/report.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "backends/cpu/cpu_backends.hpp"
#include "support/simd_targets.hpp"
#include "support/text.hpp"

namespace gpusum {

std::string_view version() {
    return GPUSUM_VERSION;
}

namespace {

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

std::string real_text(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[40];
    const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;  // shortest exact form
    return std::string(buf, end);
}

// JSON has no infinities or NaN: those travel as the strings "inf", "-inf"
// and "nan", finite sums as numbers.
nlohmann::json real_json(double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(real_text(v));
}

nlohmann::json outcome_json(const Outcome& o) {
    const Result& r = o.result;
    nlohmann::json details = nlohmann::json::object();
    for (const auto& [k, v] : r.details) details[k] = v;
    nlohmann::json j = {
        {"backend", o.backend},
        {"reason", o.reason},
        {"notes", o.notes},
        {"ignored", o.ignored},
        {"workers", r.workers},
        {"chunks", r.chunks},
        {"retried_chunks", r.retried_chunks},
        {"sum", o.real ? real_json(rounded(r.real)) : nlohmann::json(to_string(r.sum))},
        {"verified", o.verified},
        {"seconds",
         {{"setup", r.seconds.setup},
          {"compute", r.seconds.compute},
          {"combine", r.seconds.combine},
          {"total", r.seconds.total()},
          {"with_fill_and_check", o.all_phases_seconds()}}},
        {"repeat",
         {{"count", o.totals.size()},
          {"min", o.min_total()},
          {"median", o.median_total()},
          {"max", o.max_total()}}},
        {"elements_per_second", o.elements_per_second()},
        {"bytes_per_second", o.bytes_per_second()},
        {"details", details},
    };
    return j;
}

nlohmann::json job_json(const Job& job, const Outcome& any) {
    nlohmann::json j = {
        {"tool", "gpusum"},
        {"version", version()},
        {"source", any.source},
        {"mode", !job.input.empty()        ? "input"
                 : job.mode == Mode::array ? "array"
                                           : "range"},
        {"elements", any.elements},
        {"bytes", any.bytes},
        {"check", any.check},
        {"check_seconds", any.check_seconds},
        {"fill_seconds", any.fill_seconds},
        {"cpu_simd", simd::level()},
    };
    if (job.input.empty()) {
        j["start"] = job.range.start;
        j["stop"] = job.range.stop;
        j["step"] = job.range.step;
    } else {
        j["input"] = job.input;
    }
    j["expected"] =
        any.real ? real_json(any.expected_real) : nlohmann::json(to_string(any.expected));
    return j;
}

std::string sum_text(const Outcome& o, const Result& r) {
    return o.real ? real_text(rounded(r.real)) + " (the exact sum, correctly rounded)"
                  : to_string(r.sum);
}

std::string expected_text(const Outcome& o) {
    return o.real ? real_text(o.expected_real) : to_string(o.expected);
}

}  // namespace

std::string format_report(const Job& job, const Outcome& o) {
    const Result& r = o.result;
    std::ostringstream out;
    out << "gpusum " << version() << ": sum of " << o.source << '\n';
    row(out, "backend",
        o.backend + " (" + (job.backend == "auto" ? "auto: " : "") + o.reason + ")");
    for (const auto& note : o.notes) row(out, "skipped", note);
    for (const auto& option : o.ignored) row(out, "ignored", option);
    row(out, "workers",
        std::to_string(r.workers) + ", chunks " + grouped(r.chunks) +
            (r.retried_chunks > 0
                 ? ", retried " + grouped(r.retried_chunks) + " after a worker died"
                 : ""));
    row(out, "elements",
        grouped(o.elements) + (o.bytes > 0 ? ", " + si(static_cast<double>(o.bytes)) + "B" : ""));
    row(out, "sum", sum_text(o, r));
    row(out, "expected", expected_text(o));
    row(out, "check", o.check + (o.check_seconds > 1e-3 ? ", " + duration(o.check_seconds) : ""));
    row(out, "verified", o.verified ? "yes" : "NO: the sum disagrees with the check");
    if (o.fill_seconds > 0)
        row(out, "fill",
            duration(o.fill_seconds) + ", " + si(static_cast<double>(o.bytes) / o.fill_seconds) +
                "B/s");
    // Every phase the user waited for: the fill and the check are not the
    // sum's time, but they are time spent, so the headline includes them.
    const std::string sum_phases = "setup " + duration(r.seconds.setup) + " + compute " +
                                   duration(r.seconds.compute) + " + combine " +
                                   duration(r.seconds.combine);
    if (o.fill_seconds > 0 || o.check_seconds > 1e-3)
        row(out, "time",
            duration(o.all_phases_seconds()) + " = " +
                (o.fill_seconds > 0 ? "fill " + duration(o.fill_seconds) + " + " : "") + "sum " +
                duration(r.seconds.total()) + " (" + sum_phases + ") + check " +
                duration(o.check_seconds));
    else
        row(out, "time", duration(r.seconds.total()) + " = " + sum_phases);
    if (o.totals.size() > 1)
        row(out, "repeat",
            std::to_string(o.totals.size()) + " runs: min " + duration(o.min_total()) +
                ", median " + duration(o.median_total()) + ", max " + duration(o.max_total()));
    row(out, "throughput",
        si(o.elements_per_second()) + " elements/s" +
            (o.bytes > 0 ? ", " + si(o.bytes_per_second()) + "B/s read" : ""));
    for (const auto& [k, v] : r.details) row(out, k, v);
    return out.str();
}

std::string sum_line(const Outcome& o) {
    return (o.real ? real_text(rounded(o.result.real)) : to_string(o.result.sum)) + '\n';
}

std::string json_error(const std::string& message, int exit_code) {
    // Invalid UTF-8 in a file name must not make the error itself unparsable.
    return nlohmann::json{{"error", message}, {"exit_code", exit_code}}.dump(
               -1, ' ', false, nlohmann::json::error_handler_t::replace) +
           '\n';
}

std::string json_warning(const std::string& message) {
    return nlohmann::json{{"warning", message}}.dump(-1, ' ', false,
                                                     nlohmann::json::error_handler_t::replace) +
           '\n';
}

std::string format_mismatch(const Outcome& o) {
    if (o.real)
        return "sum " + real_text(rounded(o.result.real)) + " differs from the check " +
               real_text(o.expected_real) + " (" + o.check + ")";
    return "sum " + to_string(o.result.sum) + " differs from the check " + to_string(o.expected) +
           " (" + o.check + ")";
}

std::string format_comparison(const Job&, const Comparison& c) {
    const Outcome& first = c.runs.front();
    std::ostringstream out;
    out << "gpusum " << version() << ": sum of " << first.source << ", " << grouped(first.elements)
        << " elements, expected " << expected_text(first) << "\n\n";
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
    for (const Outcome& o : c.runs)
        for (const auto& option : o.ignored) out << "  ignored: " << option << '\n';
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
