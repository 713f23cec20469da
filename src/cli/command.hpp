// The gpusum command line: parsing into a Job (fuzzed and tested on its own),
// and running a parsed command with the documented exit codes.
#pragma once

#include <string>
#include <variant>

#include "plan/dispatch.hpp"
#include "run/job.hpp"

namespace gpusum::cli {

enum ExitCode { kOk = 0, kMismatch = 1, kUsage = 2, kUnavailable = 3 };

struct Command {
    Job job;
    bool json = false;
    bool compare = false;
    bool sum_only = false;  // print the sum alone
};

// Parsing ended the command: --help or --version (stdout text, exit 0) or
// a usage error (one line for stderr, exit 2 or 3).
struct Exit {
    int code = kOk;
    std::string out;
    std::string error;
    bool json = false;  // --json was on the command line: the error as JSON
};

std::variant<Command, Exit> parse(int argc, const char* const* argv, const BackendList& backends);

// "gpusum: <message>\n", with control characters and bytes that are not
// UTF-8 escaped, so an error is always exactly one readable line.
std::string error_line(const std::string& message);
// error_line, or with `json` the JSON error object (exit code included).
std::string error_text(const std::string& message, int code, bool json);

// Runs the command, prints the report on stdout and any error as one line on
// stderr; returns the exit code.
int run(const Command& command, const BackendList& backends);

}  // namespace gpusum::cli
