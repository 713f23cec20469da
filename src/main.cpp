// The gpusum command: parse, call the library, print. No arithmetic here.
#include <iostream>

#include "cli.hpp"

int main(int argc, char** argv) {
    const gpusum::BackendList backends = gpusum::all_backends();
    auto parsed = gpusum::cli::parse(argc, argv, backends);
    if (const auto* command = std::get_if<gpusum::cli::Command>(&parsed))
        return gpusum::cli::run(*command, backends);
    const auto& exit = std::get<gpusum::cli::Exit>(parsed);
    std::cout << exit.out;
    if (!exit.error.empty()) std::cerr << gpusum::cli::error_line(exit.error);
    return exit.code;
}
