// The gpusum command: parse, call the library, print. No arithmetic here.
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "gpusum/gpusum.hpp"
#include "platform/platform.hpp"

namespace {

int run_command(int argc, char** argv) {
    gpusum::platform::prepare_standard_streams();
    const std::vector<std::string> arguments = gpusum::platform::utf8_arguments(argc, argv);
    std::vector<const char*> pointers;
    pointers.reserve(arguments.size());
    for (const std::string& a : arguments) pointers.push_back(a.c_str());
    const gpusum::BackendList backends = gpusum::all_backends();
    auto parsed = gpusum::cli::parse(static_cast<int>(pointers.size()), pointers.data(), backends);
    if (const auto* command = std::get_if<gpusum::cli::Command>(&parsed))
        return gpusum::cli::run(*command, backends);
    const auto& exit = std::get<gpusum::cli::Exit>(parsed);
    // --help and --version succeed only if their text got out (a full disk,
    // a closed pipe's EPIPE with SIGPIPE ignored: exit 2).
    if (!(std::cout << exit.out << std::flush)) {
        std::cerr << gpusum::cli::error_line("cannot write to standard output");
        return gpusum::cli::kUsage;
    }
    if (!exit.error.empty()) std::cerr << gpusum::cli::error_text(exit.error, exit.code, exit.json);
    return exit.code;
}

}  // namespace

// The job's own errors are reported by cli::run with their exit codes; what
// escapes it still ends as one line and a documented code, never an abort.
int main(int argc, char** argv) {
    gpusum::serve_process_pool_worker(argc, argv);
    try {
        return run_command(argc, argv);
    } catch (const std::bad_alloc&) {
        std::cerr << gpusum::cli::error_line("out of memory");
        return gpusum::cli::kUsage;
    } catch (const std::exception& e) {
        std::cerr << gpusum::cli::error_line(std::string("internal error: ") + e.what());
        return gpusum::cli::kUnavailable;
    }
}
