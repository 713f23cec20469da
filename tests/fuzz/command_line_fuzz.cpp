// libFuzzer target: the whole command line. The input is split on NUL bytes
// into arguments; parsing must end in a usable command, help text, or one
// error line, never a crash or an exception escaping.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "plan/dispatch.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const gpusum::BackendList backends = gpusum::all_backends();
    std::vector<std::string> args{"gpusum"};
    std::string current;
    for (std::size_t i = 0; i < size && args.size() < 24; ++i) {
        if (data[i] == 0) {
            args.push_back(current);
            current.clear();
        } else {
            current += static_cast<char>(data[i]);
        }
    }
    args.push_back(current);
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());

    const auto parsed = gpusum::cli::parse(static_cast<int>(argv.size()), argv.data(), backends);
    if (const auto* exit = std::get_if<gpusum::cli::Exit>(&parsed)) {
        if ((exit->code == 0) != exit->error.empty()) __builtin_trap();
        const std::string line = gpusum::cli::error_line(exit->error);
        if (line.find('\n') != line.size() - 1) __builtin_trap();  // exactly one line
        return 0;
    }
    const gpusum::Job& job = std::get<gpusum::cli::Command>(parsed).job;
    if (job.range.step == 0 || job.workers < 1 || job.workers > 4096 || job.chunks < 1 ||
        job.repeat < 1 || !(job.chunk_timeout >= 0))
        __builtin_trap();
    if (!job.input.empty() && job.mode != gpusum::Mode::range) __builtin_trap();
    return 0;
}
