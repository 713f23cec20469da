#include "cli/command.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <iostream>
#include <map>
#include <new>
#include <optional>
#include <sstream>

#include "backends/cpu/cpu_backends.hpp"
#include "backends/cuda/cuda_backends.hpp"
#include "backends/mpi/mpi_backend.hpp"
#include "input/sources.hpp"
#include "platform/platform.hpp"
#include "report/report.hpp"
#include "support/text.hpp"

namespace gpusum::cli {

namespace {

constexpr std::int64_t kMaxRepeat = 1'000'000;
constexpr std::size_t kLongestMessage = 600;

struct UsageError {
    std::string message;
};

// A value as messages quote it: cut when long, so an error stays one line.
std::string in_quotes(std::string_view value) {
    return "'" + shortened(value) + "'";
}

std::int64_t integer_flag(std::string_view flag, const std::string& text) {
    const ParsedInt parsed = parse_int64(text);
    if (!parsed.value)
        throw UsageError{std::string(flag) + ": " + in_quotes(text) + " " + parsed.error};
    return *parsed.value;
}

std::int64_t bounded_flag(std::string_view flag, const std::string& text, std::int64_t low,
                          std::int64_t high) {
    const std::int64_t v = integer_flag(flag, text);
    if (v < low || v > high)
        throw UsageError{std::string(flag) + ": " + shortened(text) + " is out of range (" +
                         std::to_string(low) + " to " + std::to_string(high) + ")"};
    return v;
}

Exit usage(const std::string& message) {
    return {kUsage, "", message};
}

// Applies every flag's meaning and cross-checks; throws UsageError.
void build_job(const CLI::App& app, const BackendList& backends, Command& command,
               const std::map<std::string, std::string>& text) {
    Job& job = command.job;
    job.range = {integer_flag("--start", text.at("start")), integer_flag("--stop", text.at("stop")),
                 integer_flag("--step", text.at("step"))};
    if (job.range.step == 0) throw UsageError{"--step: must not be zero"};
    const std::string& mode = text.at("mode");
    if (mode != "range" && mode != "array")
        throw UsageError{"--mode: unknown mode " + in_quotes(mode) + " (choose range|array)"};
    job.mode = mode == "array" ? Mode::array : Mode::range;
    const std::string& input = text.at("input");
    if (!input.empty()) {
        for (const char* flag : {"--start", "--stop", "--step", "--mode"})
            if (app.count(flag) > 0)
                throw UsageError{std::string("--input: cannot be combined with ") + flag};
        job.input = input;
    } else if (app.count("--input") > 0) {
        throw UsageError{"--input: the file name is empty"};
    }
    if (app.count("--dtype") > 0) {
        const std::string& dtype = text.at("dtype");
        if (input.empty()) throw UsageError{"--dtype: only applies to a raw --input file"};
        job.input_dtype = parse_dtype(dtype);
        if (!job.input_dtype)
            throw UsageError{"--dtype: unknown type " + in_quotes(dtype) +
                             " (NumPy names or codes, little-endian: bool, int8..int64, "
                             "uint8..uint64, float16, float32, float64; i8, <f4, u1, ?, ...)"};
    }
    const std::string& backend = text.at("backend");
    if (backend != "auto" && find_backend(backends, backend) == nullptr)
        throw UsageError{"--backend: unknown backend " + in_quotes(backend) + " (choose auto|" +
                         backend_names(backends) + ")"};
    if (command.compare && backend != "auto")
        throw UsageError{"--compare runs every backend; it cannot be combined with --backend"};
    if (backend == "mpi" && job.mode == Mode::array)
        throw UsageError{
            "--mode array: every rank would build the whole array; with --backend "
            "mpi sum the range itself or an --input file"};
    job.backend = backend;
    job.workers = static_cast<unsigned>(
        bounded_flag("--workers", text.at("workers"), 1, static_cast<std::int64_t>(kMaxWorkers)));
    job.chunks = static_cast<std::uint64_t>(
        bounded_flag("--chunks", text.at("chunks"), 1, static_cast<std::int64_t>(kMaxChunks)));
    job.repeat = static_cast<unsigned>(bounded_flag("--repeat", text.at("repeat"), 1, kMaxRepeat));
    if (app.count("--chunk-timeout") > 0) {
        const std::string& seconds = text.at("chunk-timeout");
        const ParsedSeconds parsed = parse_seconds(seconds);
        if (!parsed.value)
            throw UsageError{"--chunk-timeout: " + in_quotes(seconds) + " " + parsed.error};
        if (*parsed.value <= 0 || *parsed.value > kMaxChunkTimeout)
            throw UsageError{"--chunk-timeout: " + shortened(seconds) +
                             " is out of range (above 0, at most 1e9 seconds)"};
        job.chunk_timeout = *parsed.value;
    }
    for (const auto& [flag, on] :
         {std::pair{"--json", command.json}, {"--compare", command.compare}})
        if (command.sum_only && on)
            throw UsageError{std::string("--sum-only: cannot be combined with ") + flag};
    job.progress = !command.json && !command.sum_only && platform::is_terminal(2);
}

// "all" or "0,2,3": indices, each once. Throws UsageError.
std::vector<int> device_list(const std::string& text, std::size_t present) {
    std::vector<int> devices;
    if (text == "all") {
        for (std::size_t i = 0; i < present; ++i) devices.push_back(static_cast<int>(i));
        return devices;
    }
    std::string_view rest = text;
    while (true) {
        const std::size_t comma = rest.find(',');
        const std::string item(rest.substr(0, comma));
        const int d = static_cast<int>(bounded_flag("--devices", item, 0, INT32_MAX));
        if (std::find(devices.begin(), devices.end(), d) != devices.end())
            throw UsageError{"--devices: device " + item + " is listed twice"};
        devices.push_back(d);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return devices;
}

// --device and --devices are checked against the devices present, so a typo
// is exit 2 and a machine without a GPU is exit 3. Returns the exit that ends
// the command, if any.
std::optional<Exit> check_devices(const CLI::App& app,
                                  const std::map<std::string, std::string>& text, Job& job) {
    const bool one = app.count("--device") > 0, several = app.count("--devices") > 0;
    if (!one && !several) return std::nullopt;
    if (one && several) throw UsageError{"--device: cannot be combined with --devices"};
    const std::string flag = one ? "--device" : "--devices";
    const std::string& value = text.at(one ? "device" : "devices");
    // The syntax first: a typo is a usage error on any machine.
    if (one) job.device = static_cast<int>(bounded_flag("--device", value, 0, INT32_MAX));
    if (several && value != "all") device_list(value, 0);
    const GpuInventory gpus = gpu_inventory();
    if (gpus.devices.empty())
        return Exit{kUnavailable, "", flag + ": no usable CUDA device: " + gpus.problem};
    const auto why_unusable = [&](int d) {
        const auto i = static_cast<std::size_t>(d);
        return i < gpus.unusable.size() ? gpus.unusable[i] : std::string();
    };
    if (several) job.devices = device_list(value, gpus.devices.size());
    if (several && value == "all") {  // every device that can take work
        std::string reasons;
        std::erase_if(job.devices, [&](int d) {
            const std::string why = why_unusable(d);
            if (!why.empty())
                reasons += (reasons.empty() ? "" : "; ") + std::to_string(d) + ": " + why;
            return !why.empty();
        });
        if (job.devices.empty())
            return Exit{kUnavailable, "", flag + ": no usable CUDA device (" + reasons + ")"};
    }
    std::vector<int> asked = job.devices;
    if (one) asked.push_back(job.device);
    for (const int d : asked) {
        if (static_cast<std::size_t>(d) < gpus.devices.size()) {
            if (const std::string why = why_unusable(d); !why.empty()) {
                std::string message = flag + ": CUDA device " + std::to_string(d);
                message.append(" cannot be used: ").append(why);
                return Exit{kUnavailable, "", message};
            }
            continue;
        }
        std::string message = flag + ": " + std::to_string(d) + " is not a CUDA device (devices: ";
        for (std::size_t i = 0; i < gpus.devices.size(); ++i)
            message.append(i ? "; " : "")
                .append(std::to_string(i))
                .append(": ")
                .append(gpus.devices[i]);
        return usage(message + ")");
    }
    return std::nullopt;
}

}  // namespace

std::variant<Command, Exit> parse(int argc, const char* const* argv, const BackendList& backends) {
    const std::string names = backend_names(backends);
    CLI::App app{
        "gpusum: sum huge integer series exactly, as fast as the hardware allows, and prove\n"
        "the answer against the closed form. Sums range(start, stop, step) like Python."};
    app.set_version_flag("--version", std::string(version()));
    // Every value is taken as text and parsed here, so each error names its flag.
    std::map<std::string, std::string> text = {{"start", "0"},
                                               {"stop", "1000000000"},
                                               {"step", "1"},
                                               {"backend", "auto"},
                                               {"chunks", "100"},
                                               {"repeat", "1"},
                                               {"device", "0"},
                                               {"mode", "range"},
                                               {"input", ""},
                                               {"dtype", ""},
                                               {"chunk-timeout", ""},
                                               {"devices", ""},
                                               {"workers", std::to_string(usable_cores())}};
    Command command;
    app.add_option("--start", text["start"], "first element (Python range semantics)")
        ->capture_default_str();
    app.add_option("--stop", text["stop"], "end, exclusive")->capture_default_str();
    app.add_option("--step", text["step"], "step, negative allowed, not 0")->capture_default_str();
    app.add_option("-m,--mode", text["mode"],
                   "range: add the series; array: materialise it as int64, sum the array")
        ->capture_default_str();
    app.add_option("-i,--input", text["input"],
                   "sum a .npy file, an array of a .npz archive (FILE.npz:NAME), raw binary\n"
                   "data given --dtype, or - for standard input");
    app.add_option("--dtype", text["dtype"],
                   "element type of a raw --input file, as NumPy spells it: bool, int8..int64,\n"
                   "uint8..uint64, float16, float32, float64, or codes like i8, <f4, u1, ?");
    app.add_option("-b,--backend", text["backend"], "auto|" + names)->capture_default_str();
    app.add_option("-w,--workers", text["workers"],
                   "worker threads or processes (default: usable cores)")
        ->capture_default_str();
    app.add_option("-c,--chunks", text["chunks"],
                   "chunks the range is cut into, handed out dynamically")
        ->capture_default_str();
    app.add_option("-r,--repeat", text["repeat"], "run N times; report min / median / max")
        ->capture_default_str();
    app.add_option("-d,--device", text["device"], "CUDA device index for the GPU backends")
        ->capture_default_str();
    app.add_option("--devices", text["devices"],
                   "all|LIST: split the work across several GPUs, e.g. 0,1 (one partial\n"
                   "each, combined exactly)");
    app.add_option("--chunk-timeout", text["chunk-timeout"],
                   "process pool: seconds a worker may spend on one chunk before it is\n"
                   "replaced (default: 10 s + 1 s per 10 million elements of the chunk)");
    app.add_flag("-j,--json", command.json,
                 "print one JSON object instead of the table (errors, too, as JSON on stderr)");
    app.add_flag("-q,--quiet,--sum-only", command.sum_only,
                 "print only the sum (exit codes and errors as usual)");
    app.add_flag("--compare", command.compare, "run every usable backend side by side");
    app.footer(
        "Numbers accept _ separators and exact exponents: 1_000_000, 1e9, -25e8.\n"
        "Exit codes: 0 verified, 1 sum differs from the closed form, 2 bad usage,\n"
        "input or output, 3 requested backend unavailable, 130 interrupted (Ctrl-C),\n"
        "143 terminated (SIGTERM).");

    // Before parsing, so that a command line that does not parse still gets
    // its errors in the form it asked for.
    const bool json = std::any_of(argv + 1, argv + argc, [](const char* a) {
        return std::string_view(a) == "--json" || std::string_view(a) == "-j";
    });
    auto ended = [&](Exit exit) {
        exit.json = json;
        return exit;
    };
    try {
        app.parse(argc, argv);
        build_job(app, backends, command, text);
        if (auto exit = check_devices(app, text, command.job)) return ended(*exit);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() != 0) return ended(usage(std::string(e.what()) + " (see --help)"));
        std::ostringstream out, err;
        app.exit(e, out, err);
        return Exit{kOk, out.str(), ""};
    } catch (const UsageError& e) {
        return ended(usage(e.message));
    }
    return command;
}

std::string error_text(const std::string& message, int code, bool json) {
    return json ? json_error(shortened(message, kLongestMessage), code) : error_line(message);
}

std::string error_line(const std::string& message) {
    // Flag values are cut where they are quoted; this bounds everything else
    // (a 100 KB unknown flag, a path) the same way.
    return "gpusum: " + printable(shortened(message, kLongestMessage)) + "\n";
}

namespace {

int fail(int code, const std::string& message, bool json = false) {
    std::cerr << error_text(message, code, json);
    return code;
}

// The report goes out whole or the command fails: a full disk must not pass
// for success. A closed pipe ends the process by SIGPIPE, as for any filter.
int print(const std::string& report, bool json) {
    errno = 0;
    std::cout << report << std::flush;
    if (std::cout) return kOk;
    const int err = errno;
    return fail(kUsage,
                "cannot write the report to standard output" +
                    (err != 0 ? std::string(": ") + std::strerror(err) : std::string()),
                json);
}

// One process's run, reporting on stdout: the whole job, or rank 0's part.
int run_and_report(const Command& command, const BackendList& backends) {
    const Job& job = command.job;
    const bool json = command.json;
    try {
        if (command.compare) {
            const Comparison c = compare_backends(backends, job);
            if (const int code =
                    print(json ? json_comparison(job, c) : format_comparison(job, c), json))
                return code;
            for (const auto& o : c.runs)
                if (!o.verified)
                    return fail(kMismatch, o.backend + ": " + format_mismatch(o), json);
            return kOk;
        }
        if (const std::string warning = long_run_warning(backends, job); !warning.empty())
            std::cerr << (json ? json_warning(warning) : "gpusum: warning: " + warning + "\n");
        const Outcome o = run_job(backends, job);
        const std::string report = command.sum_only ? sum_line(o)
                                   : json           ? json_report(job, o)
                                                    : format_report(job, o);
        if (const int code = print(report, json)) return code;
        if (!o.verified) return fail(kMismatch, format_mismatch(o), json);
        return kOk;
    } catch (const InputError& e) {
        return fail(kUsage, e.what(), json);
    } catch (const Unavailable& e) {
        return fail(kUnavailable, e.what(), json);
    } catch (const Interrupted& e) {
        return fail(128 + e.signal, "interrupted; all workers stopped", json);
    } catch (const std::bad_alloc&) {
        return fail(kUsage, "out of memory: the job needs more memory than this process may use",
                    json);
    } catch (const std::exception& e) {  // a defect: still one line and an exit code
        return fail(kUnavailable, std::string("internal error: ") + e.what(), json);
    }
}

// A rank other than 0 under mpirun: takes part in the run and prints nothing
// unless it fails.
int serve_rank(const Command& command, const BackendList& backends, int rank) {
    const std::string who = "rank " + std::to_string(rank) + ": ";
    try {
        serve_job(backends, command.job);
        return kOk;
    } catch (const InputError& e) {
        return fail(kUsage, who + e.what());
    } catch (const std::runtime_error& e) {
        return fail(kUnavailable, who + e.what());
    }
}

}  // namespace

int run(const Command& command, const BackendList& backends) {
    const MpiPlace place = mpi_place();
    if (place.size <= 1) return run_and_report(command, backends);
    if (command.compare || command.job.backend != "mpi") {
        // Every rank would repeat the whole job: say so once, end them all.
        if (place.rank != 0) return kOk;
        const int code = fail(kUsage,
                              "under mpirun only --backend mpi spreads the work over "
                              "ranks; run gpusum without mpirun for the other backends");
        mpi_abort(code);
        return code;
    }
    const int code = place.rank == 0 ? run_and_report(command, backends)
                                     : serve_rank(command, backends, place.rank);
    // A failed rank ends the whole job: no rank may wait on it forever.
    if (code != kOk) mpi_abort(code);
    return code;
}

}  // namespace gpusum::cli
