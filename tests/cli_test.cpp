// Runs the built gpusum binary as a user would and checks what it says
// (its behaviour under faults: fault_cli_test.cpp).
#include <doctest/doctest.h>
#ifndef _WIN32
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "helpers/npy_writer.hpp"
#include "helpers/platform_skip.hpp"
#include "helpers/process_table.hpp"
#include "helpers/reference.hpp"
#include "helpers/spawn.hpp"

using gpusum::testing::alive;
using gpusum::testing::children_of;
using spawn::finish;
using spawn::Finished;
using spawn::Launch;
using spawn::lines;
using spawn::Process;
using spawn::run;
using spawn::start;

TEST_CASE("the default job sums range(0, 1e9) and verifies it") {
    const Finished f = run({});
    CHECK(f.code == 0);
    CHECK(f.out.find("sum of range(0, 1000000000, 1)") != std::string::npos);
    CHECK(f.out.find("verified    yes") != std::string::npos);
    CHECK(f.out.find("499999999500000000") != std::string::npos);
    CHECK(f.out.find("auto:") != std::string::npos);
    CHECK(f.err.empty());  // no progress bar: stderr is not a terminal
}

TEST_CASE("--json carries every documented field") {
    const Finished f =
        run({"--start", "-7", "--stop", "1e6", "--step", "3", "--backend", "process", "--json"});
    REQUIRE(f.code == 0);
    const auto j = nlohmann::json::parse(f.out);
    for (const char* key :
         {"backend", "reason", "start", "stop", "step", "elements", "workers", "chunks", "sum",
          "expected", "verified", "seconds", "elements_per_second", "retried_chunks", "repeat"})
        CHECK_MESSAGE(j.contains(key), key);
    CHECK(j["backend"] == "process");
    CHECK(j["start"] == -7);
    CHECK(j["elements"] == 333336);
    CHECK(j["sum"] == j["expected"]);
    CHECK(j["sum"].is_string());
    CHECK(j["verified"] == true);
    CHECK(j["seconds"]["total"].get<double>() >= j["seconds"]["compute"].get<double>());
}

TEST_CASE("sums beyond 64 bits are printed exactly") {
    const Finished f =
        run({"--start", "-9223372036854775808", "--stop", "-9223372036854775000", "--json"});
    REQUIRE(f.code == 0);
    const auto j = nlohmann::json::parse(f.out);
    // 808 elements, each about -2^63: the total is below -2^72.
    CHECK(j["sum"] == ref::decimal(ref::naive_sum({INT64_MIN, -9223372036854775000, 1})));
    CHECK(j["sum"].get<std::string>().size() > 22);
    CHECK(j["verified"] == true);
}

TEST_CASE("--repeat reports min, median and max") {
    const Finished f = run({"--stop", "1e7", "--repeat", "5", "--json"});
    REQUIRE(f.code == 0);
    const auto j = nlohmann::json::parse(f.out);
    CHECK(j["repeat"]["count"] == 5);
    CHECK(j["repeat"]["min"].get<double>() <= j["repeat"]["median"].get<double>());
    CHECK(j["repeat"]["median"].get<double>() <= j["repeat"]["max"].get<double>());
}

TEST_CASE("--compare runs every backend side by side") {
    const Finished f = run({"--stop", "1e8", "--compare"});
    REQUIRE(f.code == 0);
    for (const char* b : {"serial", "threads", "process"})
        CHECK_MESSAGE(f.out.find(std::string("  ") + b + " ") != std::string::npos, b);
    CHECK(f.out.find("vs serial") != std::string::npos);
    const Finished j = run({"--stop", "1e6", "--compare", "--json"});
    REQUIRE(j.code == 0);
    const auto parsed = nlohmann::json::parse(j.out);
    REQUIRE(parsed["runs"].is_array());
    CHECK(parsed["runs"].size() >= 3);
    for (const auto& r : parsed["runs"]) CHECK(r["verified"] == true);
}

TEST_CASE("an empty range sums to 0, negative steps work") {
    CHECK(nlohmann::json::parse(run({"--start", "5", "--stop", "5", "--json"}).out)["sum"] == "0");
    const auto j = nlohmann::json::parse(
        run({"--start", "10", "--stop", "-10", "--step", "-3", "--json"}).out);
    CHECK(j["elements"] == 7);  // 10 7 4 1 -2 -5 -8
    CHECK(j["sum"] == "7");
}

TEST_CASE("chunks beyond the element count are capped, not an error") {
    const auto j = nlohmann::json::parse(run({"--stop", "10", "--chunks", "1000", "--json"}).out);
    CHECK(j["chunks"] == 10);
    CHECK(j["verified"] == true);
}

TEST_CASE("--help and --version exit 0") {
    const Finished help = run({"--help"});
    CHECK(help.code == 0);
    for (const char* flag : {"--start", "--stop", "--step", "--backend", "--workers", "--chunks",
                             "--repeat", "--json", "--compare", "Exit codes"})
        CHECK_MESSAGE(help.out.find(flag) != std::string::npos, flag);
    const Finished v = run({"--version"});
    CHECK(v.code == 0);
    CHECK(v.out.find('.') != std::string::npos);
    // Text that could not be written is no success.
    if (!spawn::has_dev_full()) {
        MESSAGE("skipped the write-failure part: no /dev/full here");
        return;
    }
    Launch full;
    full.stdout_path = "/dev/full";
    for (const char* flag : {"--help", "--version"}) {
        const Finished f = run({flag}, full);
        CAPTURE(flag);
        CHECK(f.code == 2);
        CHECK(f.err.find("cannot write to standard output") != std::string::npos);
    }
}

TEST_CASE("GPU backends: exit 3 with one line when no GPU can run them, else verified") {
    for (const char* backend : {"cuda", "cub", "thrust"}) {
        CAPTURE(backend);
        const Finished f = run({"--backend", backend, "--stop", "1e6", "--json"});
        if (f.code == 3) {
            CHECK(f.out.empty());
            CHECK(lines(f.err) == 1);
            CHECK(f.err.find(std::string("backend '") + backend + "' is unavailable: ") !=
                  std::string::npos);
        } else {
            REQUIRE(f.code == 0);
            CHECK(nlohmann::json::parse(f.out)["verified"] == true);
        }
    }
}

TEST_CASE("--backend mpi outside mpirun: exit 3 with the reason, --compare leaves it out") {
    const Finished f = run({"--backend", "mpi", "--stop", "1e6"});
    CHECK(f.code == 3);
    CHECK(f.out.empty());
    CHECK(lines(f.err) == 1);
    const bool why = f.err.find("built without MPI") != std::string::npos ||
                     f.err.find("not started by mpirun") != std::string::npos;
    CHECK_MESSAGE(why, f.err);
    const auto j = nlohmann::json::parse(run({"--stop", "1e6", "--compare", "--json"}).out);
    std::string notes;
    for (const auto& n : j["notes"]) notes += n.get<std::string>() + "\n";
    CHECK(notes.find("mpi: runs only when asked for") != std::string::npos);
}

TEST_CASE("auto says why it did not use the GPU") {
    const auto j = nlohmann::json::parse(run({"--stop", "1e6", "--json"}).out);
    CHECK(j["backend"] == "serial");
    REQUIRE(j["notes"].is_array());
    bool mentions_cuda = false;
    for (const auto& note : j["notes"])
        mentions_cuda = mentions_cuda || note.get<std::string>().rfind("cuda: ", 0) == 0;
    CHECK(mentions_cuda);
}

TEST_CASE("--device must name a usable CUDA device") {
    const Finished f = run({"--device", "99", "--stop", "10"});
    CHECK((f.code == 2 || f.code == 3));
    CHECK(lines(f.err) == 1);
    CHECK(f.err.find("--device: ") != std::string::npos);
}

TEST_CASE("--mode array materialises the range and verifies it") {
    const Finished f =
        run({"--mode", "array", "--start", "-3", "--stop", "2e6", "--step", "7", "--json"});
    REQUIRE(f.code == 0);
    const auto j = nlohmann::json::parse(f.out);
    CHECK(j["mode"] == "array");
    CHECK(j["verified"] == true);
    CHECK(j["bytes"] == j["elements"].get<std::uint64_t>() * 8);
    CHECK(j["fill_seconds"].get<double>() > 0);
    CHECK(j["sum"] == ref::decimal(ref::naive_sum({-3, 2'000'000, 7})));
}

TEST_CASE("--input sums .npy files of every dtype exactly, on every CPU backend") {
    const std::string dir = testfiles::temp_dir();
    std::mt19937_64 rng(13);
    std::vector<std::uint64_t> raw(3001);
    for (auto& x : raw) x = rng();
    struct Type {
        const char* descr;
        std::size_t size;
        bool is_signed;
    };
    for (const Type t : {Type{"|i1", 1, true}, Type{"<i2", 2, true}, Type{"<i4", 4, true},
                         Type{"<i8", 8, true}, Type{"|u1", 1, false}, Type{"<u2", 2, false},
                         Type{"<u4", 4, false}, Type{"<u8", 8, false}}) {
        CAPTURE(t.descr);
        // The expected total, from the same bytes, by the plainest loop.
        const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
        ref::i128 expected = 0;
        for (std::size_t i = 0; i < raw.size(); ++i) {
            std::uint64_t u = 0;
            std::memcpy(&u, bytes + i * t.size, t.size);
            const unsigned shift = 64 - 8 * static_cast<unsigned>(t.size);
            expected += t.is_signed
                            ? static_cast<ref::i128>(static_cast<std::int64_t>(u << shift) >> shift)
                            : static_cast<ref::i128>(u);
        }
        const std::string path = dir + "/" + std::string(t.descr + 1) + ".npy";
        testfiles::write_file(path,
                              testfiles::npy_bytes(t.descr, "(3001,)", bytes, raw.size() * t.size));
        for (const char* backend : {"serial", "threads", "process"}) {
            CAPTURE(std::string(backend));
            const Finished f =
                run({"--input", path, "--backend", backend, "--chunks", "7", "--json"});
            REQUIRE(f.code == 0);
            const auto j = nlohmann::json::parse(f.out);
            CHECK(j["sum"] == ref::decimal(expected));
            CHECK(j["verified"] == true);
            CHECK(j["elements"] == 3001);
            CHECK(j["check"].get<std::string>().find("second CPU path") != std::string::npos);
        }
    }
}

TEST_CASE("file names are UTF-8 on every system, as given on the command line") {
    // On Windows the arguments are read again from the wide command line and
    // files opened through the wide API: an ANSI code page would lose these.
    const std::string dir = testfiles::temp_dir();
    const std::string name = dir + "/\xc3\xa9t\xc3\xa9 \xce\xb1\xce\xb2 \xe6\x95\xb0.npy";
    const std::int32_t values[3] = {7, -2, 40};
    testfiles::write_file(name, testfiles::npy_bytes("<i4", "(3,)", values, sizeof values));
    for (const char* backend : {"serial", "process"}) {
        CAPTURE(std::string(backend));
        const Finished f = run({"--input", name, "--backend", backend, "--json"});
        REQUIRE(f.code == 0);
        CHECK(nlohmann::json::parse(f.out)["sum"] == "45");
    }
}

TEST_CASE("--input float files: the exact sum, identical on every backend and worker count") {
    const std::string dir = testfiles::temp_dir();
    std::vector<float> f32(10'000);
    std::vector<double> f64(10'000);
    std::mt19937_64 rng(14);
    std::normal_distribution<double> dist(0, 1e3);
    for (std::size_t i = 0; i < f64.size(); ++i) {
        f64[i] = std::ldexp(dist(rng), static_cast<int>(rng() % 80) - 40);
        f32[i] = static_cast<float>(f64[i]);
    }
    testfiles::write_file(dir + "/f32.npy",
                          testfiles::npy_bytes("<f4", "(100, 100)", f32.data(), 40'000));
    testfiles::write_file(dir + "/f64.raw",
                          std::string(reinterpret_cast<const char*>(f64.data()), 80'000));
    for (const auto& args :
         {std::vector<std::string>{"--input", dir + "/f32.npy"},
          std::vector<std::string>{"--input", dir + "/f64.raw", "--dtype", "float64"}}) {
        std::string first;
        for (const auto& how : {std::vector<std::string>{"--backend", "serial", "--chunks", "1"},
                                std::vector<std::string>{"--backend", "threads", "--workers", "2"},
                                std::vector<std::string>{"--backend", "process", "--workers", "3",
                                                         "--chunks", "77"}}) {
            auto with_json = args;
            with_json.insert(with_json.end(), how.begin(), how.end());
            with_json.emplace_back("--json");
            const Finished f = run(with_json);
            REQUIRE(f.code == 0);
            const auto j = nlohmann::json::parse(f.out);
            CHECK(j["verified"] == true);
            REQUIRE(j["sum"].is_number());
            CHECK(j["sum"] == j["expected"]);
            CHECK(j["check"].get<std::string>().find("bits must match") != std::string::npos);
            if (first.empty()) first = j["sum"].dump();
            CHECK(j["sum"].dump() == first);  // the same bits, as a round-trip repr
        }
    }
    const Finished table = run({"--input", dir + "/f32.npy"});
    CHECK(table.out.find("correctly rounded") != std::string::npos);
}

TEST_CASE("--input float files: infinities, NaN and overflow follow IEEE, JSON carries them") {
    const std::string dir = testfiles::temp_dir();
    const double inf = std::numeric_limits<double>::infinity();
    const struct {
        std::vector<double> values;
        const char* sum;  // in the table and in JSON ("inf" as a string)
    } cases[] = {
        {{1.0, inf, 2.0}, "inf"},
        {{1.0, -inf}, "-inf"},
        {{inf, -inf}, "nan"},
        {{1.0, std::nan(""), 2.0}, "nan"},
        {{1.7e308, 1.7e308, -1.7e308}, "1.7e+308"},
        {{1e16, 1.0, -1e16, 1e16, 1.0, -1e16}, "2"},
    };
    for (const auto& c : cases) {
        const std::string path = dir + "/special.npy";
        std::string shape = std::to_string(c.values.size());
        shape.insert(0, 1, '(');
        shape += ",)";
        testfiles::write_file(
            path, testfiles::npy_bytes("<f8", shape, c.values.data(), c.values.size() * 8));
        CAPTURE(c.sum);
        const Finished table = run({"--input", path});
        CHECK(table.code == 0);
        const std::string sum_row = "sum         " + std::string(c.sum);
        CHECK(table.out.find(sum_row) != std::string::npos);
        const Finished f = run({"--input", path, "--json"});
        REQUIRE(f.code == 0);
        const auto j = nlohmann::json::parse(f.out);  // a strict parser accepts it
        CHECK(j["verified"] == true);
        if (std::isfinite(std::strtod(c.sum, nullptr)))
            CHECK(j["sum"].get<double>() == std::strtod(c.sum, nullptr));
        else
            CHECK(j["sum"] == c.sum);
        CHECK(j["expected"] == j["sum"]);
    }
}

TEST_CASE("/proc files and standard input are read as streams, never summed as empty") {
    // /proc/version reports size 0 and has content.
    if (std::ifstream version{"/proc/version", std::ios::binary}) {
        const std::string text((std::istreambuf_iterator<char>(version)), {});
        REQUIRE(!text.empty());
        long expected = 0;
        for (const char c : text) expected += static_cast<unsigned char>(c);
        const Finished proc = run({"--input", "/proc/version", "--dtype", "uint8", "--json"});
        REQUIRE(proc.code == 0);
        const auto j = nlohmann::json::parse(proc.out);
        CHECK(j["sum"] == std::to_string(expected));
        CHECK(j["source"].get<std::string>().find("read as a stream") != std::string::npos);
    } else {
        MESSAGE("no /proc/version here: standard input only");
    }
    // A pipe on standard input: raw bytes, and a .npy file.
    spawn::Launch piped;
    piped.stdin_bytes = std::string(100'000, '\x03');
    const Finished raw = run({"--input", "-", "--dtype", "uint8", "--json"}, piped);
    REQUIRE(raw.code == 0);
    CHECK(nlohmann::json::parse(raw.out)["sum"] == "300000");
    const double halves[4] = {0.5, 1.5, 2.5, -0.25};
    piped.stdin_bytes = testfiles::npy_bytes("<f8", "(4,)", halves, 32);
    const Finished npy = run({"--input", "-", "--backend", "process", "--json"}, piped);
    REQUIRE(npy.code == 0);
    CHECK(nlohmann::json::parse(npy.out)["sum"] == 4.25);
#ifndef _WIN32
    // A terminal on standard input is refused, not waited on.
    Launch terminal;
    terminal.in_child = [] { spawn::terminal_as(0); };
    const Finished tty = run({"--input", "-", "--dtype", "uint8"}, terminal);
    if (tty.code != 125) {
        CHECK(tty.code == 2);
        CHECK(tty.err.find("standard input is a terminal") != std::string::npos);
    }
#endif
}

TEST_CASE("/sys files, which report 4096 bytes and cannot be mapped, are read as streams") {
    const char* path = "/sys/devices/system/cpu/online";
    std::ifstream file(path, std::ios::binary);
#ifdef _WIN32
    file.close();  // under wine /sys is a folder of the host: no such file on Windows
#endif
    if (!file.is_open()) {
        MESSAGE("skipped: no " << std::string(path) << " here");
        return;
    }
    const std::string text((std::istreambuf_iterator<char>(file)), {});
    REQUIRE(!text.empty());
    long expected = 0;
    for (const char c : text) expected += static_cast<unsigned char>(c);
    const Finished f = run({"--input", path, "--dtype", "uint8", "--json"});
    REQUIRE(f.code == 0);
    const auto j = nlohmann::json::parse(f.out);
    CHECK(j["sum"] == std::to_string(expected));
    CHECK(j["source"].get<std::string>().find("read as a stream") != std::string::npos);
}

#ifdef _WIN32
SKIPPED_TEST_CASE(
    "a file that shrinks or changes while being read: exit 2 on every backend, no signal",
    "Windows refuses to shrink a mapped file, and this test writes with POSIX calls")
#else
TEST_CASE("a file that shrinks or changes while being read: exit 2 on every backend, no signal") {
    const std::string dir = testfiles::temp_dir();
    const std::string path = dir + "/shrinking.raw";
    for (const char* backend : {"serial", "threads", "process"}) {
        for (const bool shrink : {true, false}) {
            // A sparse file: 256 MiB of zeros that take no disk.
            const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            REQUIRE(fd >= 0);
            REQUIRE(::ftruncate(fd, 256 << 20) == 0);
            const spawn::Process p = spawn::start(
                {"--input", path, "--dtype", "int64", "--backend", backend, "--repeat", "100000"});
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            if (shrink)
                REQUIRE(::ftruncate(fd, 4096) == 0);
            else
                REQUIRE(::pwrite(fd, "x", 1, 12345) == 1);  // same size, new content
            ::close(fd);
            const Finished f = spawn::finish(p);
            CAPTURE(std::string(backend));
            CAPTURE(shrink);
            CHECK(f.code == 2);
            CHECK(f.err.find("shrinking.raw: changed while being read") != std::string::npos);
            CHECK(spawn::lines(f.err) == 1);
            CHECK(f.out.empty());
        }
    }
}

#endif

TEST_CASE("--sum-only prints the sum alone, with --json errors are JSON too") {
    const Finished quiet = run({"--stop", "1.5e6", "--sum-only"});
    CHECK(quiet.code == 0);
    CHECK(quiet.out == "1124999250000\n");
    CHECK(run({"-q", "--stop", "10"}).out == "45\n");
    const Finished both = run({"--sum-only", "--json"});
    CHECK(both.code == 2);
    CHECK(nlohmann::json::parse(both.err)["error"] == "--sum-only: cannot be combined with --json");
    // Parse errors, input errors and unavailable backends alike; exit codes unchanged.
    for (const auto& expected :
         {std::pair{std::vector<std::string>{"--stop", "x", "--json"}, 2},
          std::pair{std::vector<std::string>{"--json", "--bogus"}, 2},
          std::pair{std::vector<std::string>{"--json", "--input", "/nonexistent/file.npy"}, 2},
          std::pair{std::vector<std::string>{"--json", "--backend", "thrust", "--stop", "9"}, 3}}) {
        const std::vector<std::string>& args = expected.first;
        const int code = expected.second;
        const Finished f = run(args);
        CAPTURE(args.back());
        if (args.back() == "9" && f.code == 0) continue;  // a machine with a GPU
        CHECK(f.code == code);
        CHECK(f.out.empty());
        CHECK(lines(f.err) == 1);
        const auto j = nlohmann::json::parse(f.err);
        CHECK(j["exit_code"] == code);
        CHECK(!j["error"].get<std::string>().empty());
    }
}

TEST_CASE("reports say what they did: options ignored, workers capped, values cut") {
    const Finished timeout = run({"--stop", "1e6", "--chunk-timeout", "5", "--backend", "serial"});
    CHECK(timeout.code == 0);
    CHECK(timeout.out.find("ignored     --chunk-timeout: the serial backend") != std::string::npos);
    const Finished pool =
        run({"--stop", "1e6", "--chunk-timeout", "5", "--backend", "process", "--json"});
    CHECK(nlohmann::json::parse(pool.out)["ignored"].empty());
    // More workers than chunks: the reason names the workers that ran.
    const Finished many = run({"--stop", "1e8", "--workers", "1000", "--json"});
    const auto j = nlohmann::json::parse(many.out);
    CHECK(j["workers"] == 100);
    CHECK(j["reason"].get<std::string>().find("100 workers (1000 asked") != std::string::npos);
    // A 100 KB value is cut in the message, which stays one line (30 KB on
    // Windows, whose command lines hold 32,767 characters).
#ifdef _WIN32
    const std::size_t long_value = 30'000;
#else
    const std::size_t long_value = 100'000;
#endif
    const Finished huge = run({"--stop", std::string(long_value, '7')});
    CHECK(huge.code == 2);
    CHECK(huge.err.size() < 300);
    const std::string cut = std::to_string(long_value) + " bytes)";
    CHECK(huge.err.find(cut) != std::string::npos);
    const Finished flag = run({"--" + std::string(long_value, 'x')});
    CHECK(flag.code == 2);
    CHECK(flag.err.size() < 1000);
    CHECK(lines(flag.err) == 1);
}

TEST_CASE(".npz members, bool and float16 arrays, NumPy dtype spellings") {
    const std::string dir = testfiles::temp_dir();
    const std::int64_t ints[3] = {1, 2, 3};
    const double reals[2] = {0.5, 0.25};
    testfiles::write_file(
        dir + "/two.npz",
        testfiles::zip_bytes({{"ints.npy", testfiles::npy_bytes("<i8", "(3,)", ints, 24)},
                              {"reals.npy", testfiles::npy_bytes("<f8", "(2,)", reals, 16)}}));
    testfiles::write_file(
        dir + "/one.npz",
        testfiles::zip_bytes({{"arr_0.npy", testfiles::npy_bytes("<i8", "(3,)", ints, 24)}}, true));
    const unsigned char flags[5] = {1, 0, 1, 1, 0};
    testfiles::write_file(dir + "/flags.npy", testfiles::npy_bytes("|b1", "(5,)", flags, 5));
    // Any nonzero byte is True: three of these five.
    const unsigned char odd_flags[5] = {2, 0, 255, 128, 0};
    testfiles::write_file(dir + "/odd-flags.npy",
                          testfiles::npy_bytes("|b1", "(5,)", odd_flags, 5));
    testfiles::write_file(dir + "/odd-flags.raw",
                          std::string(reinterpret_cast<const char*>(odd_flags), 5));
    // float16: 1.5, 65504 (the largest), the smallest subnormal 2^-24, -2.
    const std::uint16_t halves[4] = {0x3e00, 0x7bff, 0x0001, 0xc000};
    testfiles::write_file(dir + "/halves.npy", testfiles::npy_bytes("<f2", "(4,)", halves, 8));
    testfiles::write_file(dir + "/halves.raw",
                          std::string(reinterpret_cast<const char*>(halves), 8));
    // Big-endian files, summed in place with each element's bytes reversed.
    const std::uint16_t big_halves[4] = {0x003e, 0xff7b, 0x0100, 0x00c0};
    testfiles::write_file(dir + "/big-halves.npy",
                          testfiles::npy_bytes(">f2", "(2, 2)", big_halves, 8));
    const std::uint64_t big_ints[3] = {0x0100000000000000, 0xfeffffffffffffff,
                                       0x00000000000000c0};  // 1, -2, -(2^62)
    testfiles::write_file(dir + "/big-ints.npy", testfiles::npy_bytes(">i8", "(3,)", big_ints, 24));
    const struct {
        std::vector<std::string> args;
        std::string sum;
    } cases[] = {
        {{"--input", dir + "/two.npz:ints"}, "6"},
        {{"--input", dir + "/two.npz:reals.npy"}, "0.75"},
        {{"--input", dir + "/one.npz"}, "6"},  // the only array, ZIP64 directory
        {{"--input", dir + "/flags.npy"}, "3"},
        {{"--input", dir + "/odd-flags.npy"}, "3"},
        {{"--input", dir + "/odd-flags.npy", "--backend", "process"}, "3"},
        {{"--input", dir + "/odd-flags.raw", "--dtype", "bool", "--backend", "threads"}, "3"},
        {{"--input", dir + "/odd-flags.raw", "--dtype", "?", "--backend", "serial"}, "3"},
        {{"--input", dir + "/halves.npy"}, "65503.50000005960464477539"},
        {{"--input", dir + "/halves.raw", "--dtype", "<f2"}, "65503.50000005960464477539"},
        {{"--input", dir + "/halves.raw", "--dtype", "half", "--backend", "process"},
         "65503.50000005960464477539"},
        {{"--input", dir + "/halves.raw", "--dtype", "u2"}, "96768"},
        {{"--input", dir + "/halves.raw", "--dtype", "=i4"}, "1006583297"},
        {{"--input", dir + "/big-halves.npy"}, "65503.50000005960464477539"},
        {{"--input", dir + "/big-halves.npy", "--backend", "process"},
         "65503.50000005960464477539"},
        {{"--input", dir + "/big-ints.npy"}, "-4611686018427387905"},
        {{"--input", dir + "/big-ints.npy", "--backend", "serial"}, "-4611686018427387905"},
    };
    for (const auto& c : cases) {
        auto args = c.args;
        args.emplace_back("--json");
        const Finished f = run(args);
        CAPTURE(args[1]);
        REQUIRE(f.code == 0);
        const auto j = nlohmann::json::parse(f.out);
        CHECK(j["verified"] == true);
        // Integers as decimal strings, floats as numbers.
        if (j["sum"].is_string())
            CHECK(j["sum"] == c.sum);
        else
            CHECK(j["sum"].get<double>() == std::strtod(c.sum.c_str(), nullptr));
    }
    // Archives name their arrays when asked for something else.
    const Finished which = run({"--input", dir + "/two.npz"});
    CHECK(which.code == 2);
    CHECK(which.err.find("a .npz archive of 2 arrays (ints, reals): name one, e.g. --input "
                         "FILE.npz:ints") != std::string::npos);
    CHECK(which.err.find("--dtype") == std::string::npos);
    const Finished missing = run({"--input", dir + "/two.npz:nope"});
    CHECK(missing.code == 2);
    CHECK(missing.err.find("has no array 'nope'; it holds 2 arrays (ints, reals)") !=
          std::string::npos);
    const Finished raw = run({"--input", dir + "/two.npz:ints", "--dtype", "int64"});
    CHECK(raw.code == 2);
    CHECK(raw.err.find("drop --dtype") != std::string::npos);
}

TEST_CASE("hostile input: each gets its exit code and one line naming the flag or file") {
    const std::string dir = testfiles::temp_dir();
    const std::int64_t three[3] = {1, 2, 3};
    testfiles::write_file(dir + "/short.npy", testfiles::npy_bytes("<i8", "(4,)", three, 24));
    testfiles::write_file(dir + "/c16.npy", testfiles::npy_bytes("<c16", "(1,)", three, 16));
    testfiles::write_file(dir + "/huge-shape.npy",
                          testfiles::npy_bytes("<i8", "(99999999999999999999,)", three, 24));
    testfiles::write_file(dir + "/negative-shape.npy",
                          testfiles::npy_bytes("<i8", "(-3,)", three, 24));
    testfiles::write_file(dir + "/empty.npy", "");
    testfiles::write_file(dir + "/text.txt", "1 2 3\n");
    testfiles::write_file(dir + "/ok.npy", testfiles::npy_bytes("<i8", "(3,)", three, 24));
    std::string fields = testfiles::npy_bytes("<i8", "(1,)", three, 16);
    fields.replace(fields.find("'<i8'"), 5, "[('a', '<i8'), ('b', '<i8')]");
    testfiles::write_file(dir + "/fields.npy", fields);
    const std::string a = testfiles::npy_bytes("<i8", "(3,)", three, 24);
    testfiles::write_file(dir + "/two.npz", testfiles::zip_bytes({{"a.npy", a}, {"b.npy", a}}));
    testfiles::write_file(dir + "/packed.npz", testfiles::zip_bytes({{"a.npy", a}}, false, 12));
    testfiles::write_file(dir + "/empty.npz", testfiles::zip_bytes({}));
    std::string bad_zip = testfiles::zip_bytes({{"a.npy", a}});
    bad_zip.resize(bad_zip.size() - 1);
    bad_zip = "PK\x03\x04" + bad_zip.substr(4);
    testfiles::write_file(dir + "/bad.npz", bad_zip);
    struct Case {
        std::vector<std::string> args;
        int code;
        std::string fragment;
    };
    const std::vector<Case> cases = {
        // Numbers: empty, whitespace, signs, separators, bases, exponents, overflow by one.
        {{"--start", ""}, 2, "--start: '' is not an integer"},
        {{"--start", " 5"}, 2, "--start: ' 5' is not an integer"},
        {{"--start", "5 "}, 2, "--start: '5 ' is not an integer"},
        {{"--start", "\t5"}, 2, "--start: '\\x095' is not an integer"},
        {{"--start", "+-5"}, 2, "--start: '+-5' is not an integer"},
        {{"--start", "--5"}, 2, "--start: '--5' is not an integer"},
        {{"--start", "abc"}, 2, "--start: 'abc' is not an integer"},
        {{"--start", "1__0"}, 2, "--start: '1__0' is not an integer"},
        {{"--start", "_1"}, 2, "--start: '_1' is not an integer"},
        {{"--start", "1_"}, 2, "--start: '1_' is not an integer"},
        {{"--start", "0x10"}, 2, "--start: '0x10' is not an integer"},
        {{"--start", "\xef\xbc\x91"}, 2, "is not an integer"},  // a full-width digit one
        {{"--stop", "1.5"}, 2, "--stop: '1.5' is not an integer"},
        {{"--stop", "1e-3"}, 2, "exponent must be a non-negative integer"},
        {{"--stop", "1e"}, 2, "exponent must be a non-negative integer"},
        {{"--stop", "1e19"}, 2, "--stop: '1e19' is out of range"},
        {{"--stop", "9223372036854775808"}, 2, "--stop: '9223372036854775808' is out of range"},
        {{"--start", "-9223372036854775809"}, 2, "'-9223372036854775809' is out of range"},
        {{"--step", "0"}, 2, "--step: must not be zero"},
        {{"--step", "-0"}, 2, "--step: must not be zero"},
#ifdef _WIN32
        // Windows arguments are UTF-16: bytes that are no UTF-8 cannot be given.
        {{"--step", "\xc3\xa9"}, 2, "--step: '\xc3\xa9' is not an integer"},
#else
        {{"--step", "\xff\xfe"}, 2, "--step: '\\xFF\\xFE' is not an integer"},
#endif
        // Counts: zero, negative, huge.
        {{"--workers", "0"}, 2, "--workers: 0 is out of range"},
        {{"--workers", "1e9"}, 2, "--workers: 1e9 is out of range (1 to 4096)"},
        {{"--workers", ""}, 2, "--workers: '' is not an integer"},
        {{"--chunks", "0"}, 2, "--chunks: 0 is out of range"},
        {{"--chunks", "-3"}, 2, "--chunks: -3 is out of range"},
        {{"--chunks", "99999999999"}, 2, "--chunks: 99999999999 is out of range"},
        {{"--repeat", "0"}, 2, "--repeat: 0 is out of range"},
        {{"--repeat", "1e7"}, 2, "--repeat: 1e7 is out of range"},
        {{"--chunk-timeout", "0"}, 2, "--chunk-timeout: 0 is out of range"},
        {{"--chunk-timeout", "-1"}, 2, "--chunk-timeout: -1 is out of range"},
        {{"--chunk-timeout", "nan"}, 2, "--chunk-timeout: 'nan' is not a number of seconds"},
        {{"--chunk-timeout", "inf"}, 2, "--chunk-timeout: 'inf' is not a number of seconds"},
        {{"--chunk-timeout", "1s"}, 2, "--chunk-timeout: '1s' is not a number of seconds"},
        {{"--chunk-timeout", "1e999"}, 2, "--chunk-timeout: '1e999' is out of range"},
        {{"--device", "abc"}, 2, "--device: 'abc' is not an integer"},
        {{"--devices", "0,x"}, 2, "--devices: 'x' is not an integer"},
        {{"--devices", "1,,2"}, 2, "--devices: '' is not an integer"},
        {{"--devices", "0,0"}, 2, "--devices: device 0 is listed twice"},
        {{"--device", "0", "--devices", "1"}, 2, "--device: cannot be combined with --devices"},
        // Unknown, missing, repeated and conflicting flags; stray arguments.
        {{"--bogus"}, 2, "--bogus"},
        {{"--bo\ngus"}, 2, "--bo\\x0Agus"},
        {{"--start"}, 2, "--start"},
        {{"stray"}, 2, "not expected: stray"},
        {{"--start", "1", "--start", "2"}, 2, "--start"},
        {{"--backend", ""}, 2, "--backend: unknown backend ''"},
        {{"--backend", "gpu9000"}, 2, "--backend: unknown backend 'gpu9000'"},
        {{"--compare", "--backend", "serial"}, 2, "--compare"},
        {{"--mode", "matrix"}, 2, "--mode: unknown mode 'matrix'"},
        {{"--mode", "array", "--stop", "9e18"}, 2, "--mode array: needs"},
        {{"--mode", "array", "--backend", "mpi"}, 2, "--mode array: every rank would build"},
        // Files and the flags that go with them.
        {{"--input", dir + "/missing.npy"}, 2, "missing.npy: cannot open: No such file"},
#ifdef _WIN32
        {{"--input", dir + "/no\nsuch\xc3\xa9"}, 2, "no\\x0Asuch\xc3\xa9: cannot open"},
#else
        {{"--input", dir + "/no\nsuch\xff"}, 2, "no\\x0Asuch\\xFF: cannot open"},
#endif
        {{"--input", dir + "/short.npy"}, 2, "short.npy: truncated"},
        {{"--input", dir + "/c16.npy"}, 2, "unsupported .npy dtype '<c16'"},
        {{"--input", dir + "/huge-shape.npy"}, 2, "huge-shape.npy: "},
        {{"--input", dir + "/negative-shape.npy"}, 2, "negative-shape.npy: "},
        {{"--input", dir + "/empty.npy"}, 2, "empty.npy: not a .npy file"},
        {{"--input", dir + "/text.txt"}, 2, "text.txt: not a .npy file"},
        {{"--input", dir + "/text.txt", "--dtype", "int32"},
         2,
         "is not a multiple of the int32 element size"},
        {{"--input", dir + "/ok.npy", "--dtype", "int64"}, 2, "drop --dtype"},
#ifdef _WIN32
        {{"--input", dir}, 2, "cannot open: Is a directory"},  // Windows opens no directory
#else
        {{"--input", dir}, 2, "not a regular file"},
#endif
        {{"--input", "/dev/zero"}, 2, "/dev/zero: not a regular file, a FIFO or a pipe"},
        {{"--input", dir + "/ok.npy", "--stop", "5"}, 2, "--input: cannot be combined with --stop"},
        {{"--input", ""}, 2, "--input: the file name is empty"},
        {{"--dtype", "int8"}, 2, "--dtype: only applies to a raw --input file"},
        {{"--input", dir + "/text.txt", "--dtype", "int128"}, 2, "--dtype: unknown type 'int128'"},
        {{"--input", dir + "/text.txt", "--dtype", ""}, 2, "--dtype: unknown type ''"},
        {{"--input", dir + "/text.txt", "--dtype", ">i8"}, 2, "--dtype: unknown type '>i8'"},
        {{"--input", dir + "/text.txt", "--dtype", std::string(5000, 'f')}, 2, "(5000 bytes)"},
        {{"--input", dir + "/fields.npy"}, 2, "fields.npy: structured dtype"},
        {{"--input", dir + "/two.npz"}, 2, "two.npz: a .npz archive of 2 arrays (a, b): name one"},
        {{"--input", dir + "/two.npz:c"}, 2, "has no array 'c'; it holds 2 arrays (a, b)"},
        {{"--input", dir + "/packed.npz"}, 2, "compressed by a method other than deflate"},
        {{"--input", dir + "/empty.npz"}, 2, "an empty .npz archive"},
        {{"--input", dir + "/bad.npz"}, 2, "malformed .npz (ZIP) archive"},
        {{"--input", dir + "/ok.npy:x"}, 2, "is no .npz archive with an array 'x'"},
    };
    CHECK(cases.size() >= 40);
    for (const Case& c : cases) {
        std::string joined;
        for (const auto& a : c.args) joined += a + ' ';
        CAPTURE(joined);
        const Finished f = run(c.args);
        CHECK(f.code == c.code);
        CHECK(f.out.empty());  // never a partial result
        CHECK(f.err.rfind("gpusum: ", 0) == 0);
        CHECK_MESSAGE(f.err.find(c.fragment) != std::string::npos, f.err);
        CHECK(lines(f.err) == 1);
    }
    const Finished ok = run({"--input", dir + "/ok.npy"});
    CHECK(ok.code == 0);
}
