// The gpusum command: parse, call the library, print. No arithmetic here.
#include <iostream>

#include "cli.hpp"

int main(int argc, char** argv) {
    const gpusum::BackendList backends = gpusum::all_backends();
    auto parsed = gpusum::cli::parse(argc, argv, backends);
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
