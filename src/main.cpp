// The gpusum command: parse, call the library, print. No arithmetic here.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "gpusum/cpu.hpp"
#include "gpusum/cuda.hpp"
#include "gpusum/dispatch.hpp"
#include "gpusum/input.hpp"
#include "gpusum/report.hpp"
#include "gpusum/text.hpp"

namespace {

enum ExitCode { kOk = 0, kMismatch = 1, kUsage = 2, kUnavailable = 3 };

constexpr std::int64_t kMaxWorkers = 4096;
constexpr std::int64_t kMaxChunks = 1 << 20;  // partials are kept per chunk
constexpr std::int64_t kMaxRepeat = 1'000'000;

struct UsageError {
    std::string message;
};

std::int64_t integer_flag(std::string_view flag, const std::string& text) {
    const gpusum::ParsedInt parsed = gpusum::parse_int64(text);
    if (!parsed.value) throw UsageError{std::string(flag) + ": '" + text + "' " + parsed.error};
    return *parsed.value;
}

std::int64_t bounded_flag(std::string_view flag, const std::string& text, std::int64_t low,
                          std::int64_t high) {
    const std::int64_t v = integer_flag(flag, text);
    if (v < low || v > high)
        throw UsageError{std::string(flag) + ": " + text + " is out of range (" +
                         std::to_string(low) + " to " + std::to_string(high) + ")"};
    return v;
}

int fail(ExitCode code, const std::string& message) {
    std::cerr << "gpusum: " << message << '\n';
    return code;
}

}  // namespace

int main(int argc, char** argv) {
    const gpusum::BackendList backends = gpusum::all_backends();
    const std::string names = gpusum::backend_names(backends);

    CLI::App app{
        "gpusum: sum huge integer series exactly, as fast as the hardware allows, and prove\n"
        "the answer against the closed form. Sums range(start, stop, step) like Python."};
    app.set_version_flag("--version", std::string(gpusum::version()));
    std::string start = "0", stop = "1000000000", step = "1";
    std::string backend = "auto";
    std::string workers = std::to_string(gpusum::online_cores());
    std::string chunks = "100", repeat = "1", device = "0";
    std::string mode = "range", input, dtype;
    bool json = false, compare = false;
    app.add_option("--start", start, "first element (Python range semantics)")
        ->capture_default_str();
    app.add_option("--stop", stop, "end, exclusive")->capture_default_str();
    app.add_option("--step", step, "step, negative allowed, not 0")->capture_default_str();
    app.add_option("-m,--mode", mode,
                   "range: add the series; array: materialise it as int64, sum the array")
        ->capture_default_str();
    app.add_option("-i,--input", input, "sum a .npy file, or raw binary data given --dtype");
    app.add_option("--dtype", dtype,
                   "element type of a raw --input file: int8|int16|int32|int64|uint8|uint16|"
                   "uint32|uint64|float32|float64");
    app.add_option("-b,--backend", backend, "auto|" + names)->capture_default_str();
    app.add_option("-w,--workers", workers, "worker threads or processes (default: online cores)")
        ->capture_default_str();
    app.add_option("-c,--chunks", chunks, "chunks the range is cut into, handed out dynamically")
        ->capture_default_str();
    app.add_option("-r,--repeat", repeat, "run N times; report min / median / max")
        ->capture_default_str();
    app.add_option("-d,--device", device, "CUDA device index for the GPU backends")
        ->capture_default_str();
    app.add_flag("-j,--json", json, "print one JSON object instead of the table");
    app.add_flag("--compare", compare, "run every usable backend side by side");
    app.footer(
        "Numbers accept _ separators and exact exponents: 1_000_000, 1e9, -25e8.\n"
        "Exit codes: 0 verified, 1 sum differs from the closed form, 2 bad usage or\n"
        "input, 3 requested backend unavailable, 130 interrupted (Ctrl-C).");

    gpusum::Job job;
    try {
        app.parse(argc, argv);
        job.range = {integer_flag("--start", start), integer_flag("--stop", stop),
                     integer_flag("--step", step)};
        if (job.range.step == 0) throw UsageError{"--step: must not be zero"};
        if (mode != "range" && mode != "array")
            throw UsageError{"--mode: unknown mode '" + mode + "' (choose range|array)"};
        job.mode = mode == "array" ? gpusum::Mode::array : gpusum::Mode::range;
        if (!input.empty()) {
            for (const char* flag : {"--start", "--stop", "--step", "--mode"})
                if (app.count(flag) > 0)
                    throw UsageError{std::string("--input: cannot be combined with ") + flag};
            job.input = input;
        } else if (app.count("--input") > 0) {
            throw UsageError{"--input: the file name is empty"};
        }
        if (app.count("--dtype") > 0) {
            if (input.empty()) throw UsageError{"--dtype: only applies to a raw --input file"};
            job.input_dtype = gpusum::parse_dtype(dtype);
            if (!job.input_dtype)
                throw UsageError{"--dtype: unknown type '" + dtype +
                                 "' (choose int8|int16|int32|int64|uint8|uint16|uint32|uint64|"
                                 "float32|float64)"};
        }
        if (backend != "auto" && gpusum::find_backend(backends, backend) == nullptr)
            throw UsageError{"--backend: unknown backend '" + backend + "' (choose auto|" + names +
                             ")"};
        if (compare && backend != "auto")
            throw UsageError{"--compare runs every backend; it cannot be combined with --backend"};
        job.backend = backend;
        job.workers = static_cast<unsigned>(bounded_flag("--workers", workers, 1, kMaxWorkers));
        job.chunks = static_cast<std::uint64_t>(bounded_flag("--chunks", chunks, 1, kMaxChunks));
        job.repeat = static_cast<unsigned>(bounded_flag("--repeat", repeat, 1, kMaxRepeat));
        job.progress = !json && ::isatty(STDERR_FILENO);
        if (app.count("--device") > 0) {
            const gpusum::GpuInventory gpus = gpusum::gpu_inventory();
            if (gpus.devices.empty())
                return fail(kUnavailable, "--device: no usable CUDA device: " + gpus.problem);
            job.device = static_cast<int>(bounded_flag("--device", device, 0, INT32_MAX));
            if (static_cast<std::size_t>(job.device) >= gpus.devices.size()) {
                std::string list;
                for (std::size_t i = 0; i < gpus.devices.size(); ++i)
                    list += (i ? "; " : "") + std::to_string(i) + ": " + gpus.devices[i];
                throw UsageError{"--device: " + device + " is not a CUDA device (devices: " + list +
                                 ")"};
            }
        }
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);
        return fail(kUsage, std::string(e.what()) + " (see --help)");
    } catch (const UsageError& e) {
        return fail(kUsage, e.message);
    }

    try {
        if (compare) {
            const gpusum::Comparison c = gpusum::compare_backends(backends, job);
            std::cout << (json ? gpusum::json_comparison(job, c)
                               : gpusum::format_comparison(job, c));
            for (const auto& o : c.runs)
                if (!o.verified)
                    return fail(kMismatch, o.backend + ": " + gpusum::format_mismatch(o));
            return kOk;
        }
        const gpusum::Outcome o = gpusum::run_job(backends, job);
        std::cout << (json ? gpusum::json_report(job, o) : gpusum::format_report(job, o));
        if (!o.verified) return fail(kMismatch, gpusum::format_mismatch(o));
        return kOk;
    } catch (const gpusum::InputError& e) {
        return fail(kUsage, e.what());
    } catch (const gpusum::Unavailable& e) {
        return fail(kUnavailable, e.what());
    } catch (const gpusum::Interrupted& e) {
        return fail(static_cast<ExitCode>(128 + e.signal), "interrupted; all workers stopped");
    }
}
