// Human and machine-readable reports of a job. Every human report has a JSON
// twin carrying the same facts.
#pragma once

#include <string>
#include <string_view>

#include "run/job.hpp"

namespace gpusum {

std::string_view version();

std::string format_report(const Job& job, const Outcome& outcome);
std::string format_comparison(const Job& job, const Comparison& comparison);

// The sum alone, one line (--sum-only).
std::string sum_line(const Outcome& outcome);

// An error as one JSON object on one line: {"error": ..., "exit_code": ...}.
std::string json_error(const std::string& message, int exit_code);
// A warning the same way: {"warning": ...}.
std::string json_warning(const std::string& message);

// One line saying how a sum disagrees with its check (for exit code 1).
std::string format_mismatch(const Outcome& outcome);

std::string json_report(const Job& job, const Outcome& outcome);
std::string json_comparison(const Job& job, const Comparison& comparison);

}  // namespace gpusum
