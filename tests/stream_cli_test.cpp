// Streams through the command line: standard input, FIFOs and compressed
// .npz members, summed a piece at a time (32 MiB) as they arrive.
#include <doctest/doctest.h>
#ifndef _WIN32
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "helpers/npy_writer.hpp"
#include "helpers/platform_skip.hpp"
#include "helpers/spawn.hpp"

using spawn::finish;
using spawn::Finished;
using spawn::Launch;
using spawn::lines;
using spawn::Process;
using spawn::run;
using spawn::start;

namespace {

// 5,000,000 doubles (40 MB, two pieces) whose exact sum is three times the
// smallest subnormal: pairs of opposite values up to 1e301, element i and
// i + 2,500,000 (most pairs split between the pieces), and three
// subnormals in place of a pair and a half. Any rounding on the way loses it.
std::string cancelling_doubles_npy() {
    constexpr std::size_t n = 5'000'000;
    std::vector<double> v(n);
    std::mt19937_64 random(7);
    std::uniform_real_distribution<double> mantissa(1, 2);
    std::uniform_int_distribution<int> exponent(-1000, 1000);
    for (std::size_t i = 0; i < n / 2; ++i) {
        v[i] = std::ldexp(mantissa(random), exponent(random));
        v[i + n / 2] = -v[i];
    }
    const double tiny = std::numeric_limits<double>::denorm_min();
    v[0] = v[n / 2] = v[1] = tiny;
    v[1 + n / 2] = 0;
    return testfiles::npy_bytes("<f8", "(5000000,)", v.data(), n * sizeof(double));
}

bool has_zlib(const Finished& f) {
    return f.err.find("has no zlib") == std::string::npos;
}

}  // namespace

TEST_CASE("a stream is summed a piece at a time, exact across pieces, on every CPU backend") {
    Launch piped;
    piped.stdin_bytes = cancelling_doubles_npy();
    const double expected = 3 * std::numeric_limits<double>::denorm_min();
    for (const char* backend : {"auto", "serial", "threads", "process"}) {
        CAPTURE(backend);
        const Finished f = run({"--input", "-", "--backend", backend, "--json"}, piped);
        REQUIRE(f.code == 0);
        const auto j = nlohmann::json::parse(f.out);
        CHECK(j["verified"] == true);
        CHECK(j["sum"].get<double>() == expected);
        CHECK(j["elements"] == 5'000'000);
        CHECK(j["source"].get<std::string>().find("read as a stream") != std::string::npos);
        CHECK(j["details"]["stream"].get<std::string>().find("2 pieces") == 0);
    }
    // Big-endian data is swapped as it is read; integers past one piece.
    std::vector<std::uint32_t> big(9'000'000);
    for (std::size_t i = 0; i < big.size(); ++i)
        big[i] = __builtin_bswap32(static_cast<std::uint32_t>(i + 1));
    piped.stdin_bytes = testfiles::npy_bytes(">u4", "(9000000,)", big.data(), big.size() * 4);
    const Finished f = run({"--input", "-", "--sum-only"}, piped);
    REQUIRE(f.code == 0);
    CHECK(f.out == "40500004500000\n");
}

#ifdef _WIN32
SKIPPED_TEST_CASE("a FIFO is read as its writer writes, never refused or taken for empty", NO_FIFOS)
#else
TEST_CASE("a FIFO is read as its writer writes, never refused or taken for empty") {
    const std::string dir = testfiles::temp_dir();
    const std::string fifo = dir + "/fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const std::int64_t values[4] = {1, -2, 3, 1'000'000'000'000};
    const std::string bytes = testfiles::npy_bytes("<i8", "(4,)", values, sizeof values);
    // The writer opens late: gpusum waits for it instead of reading an end.
    std::thread writer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        std::ofstream(fifo, std::ios::binary) << bytes;
    });
    const Finished f = run({"--input", fifo, "--json"});
    writer.join();
    REQUIRE(f.code == 0);
    const auto j = nlohmann::json::parse(f.out);
    CHECK(j["sum"] == "1000000000002");
    CHECK(j["verified"] == true);
}

#endif

TEST_CASE("a stream that ends early, runs long or splits an element: exit 2, no result") {
    const std::int64_t ten[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    const std::string whole = testfiles::npy_bytes("<i8", "(10,)", ten, sizeof ten);
    struct Case {
        std::string stdin_bytes;
        std::vector<std::string> args;
        std::string fragment;
    };
    const std::vector<Case> cases = {
        {whole.substr(0, whole.size() - 8),
         {},
         "standard input: truncated: the header describes 80 bytes of data, the stream held 72"},
        {whole + "x", {}, "standard input: the stream holds more bytes than its header describes"},
        {std::string(7, '\1'), {"--dtype", "int32"}, "size 7 is not a multiple of the int32"},
        {whole.substr(0, 9), {}, "standard input: truncated .npy header"},
        {"PK\x03\x04 rest of an archive", {}, "a .npz archive cannot be read as a stream"},
        {"plain text\n", {}, "standard input: not a .npy file"},
        {whole, {"--repeat", "2"}, "--repeat: a stream is read once"},
        {whole, {"--compare"}, "--compare: a stream is read once"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.fragment);
        Launch piped;
        piped.stdin_bytes = c.stdin_bytes;
        std::vector<std::string> args = {"--input", "-"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        const Finished f = run(args, piped);
        CHECK(f.code == 2);
        CHECK(f.out.empty());
        CHECK_MESSAGE(f.err.find(c.fragment) != std::string::npos, f.err);
        CHECK(lines(f.err) == 1);
    }
}

TEST_CASE("compressed .npz members are inflated as they are read, exactly, with their CRC") {
    const std::string dir = testfiles::temp_dir();
    // 5,000,000 int64 (40 MB, two pieces) and a small float member.
    std::vector<std::int64_t> big(5'000'000);
    for (std::size_t i = 0; i < big.size(); ++i)
        big[i] = (i % 2 == 0 ? 1 : -1) * static_cast<std::int64_t>(i) * 1'000'003;
    const double floats[3] = {1e300, 1.0, -1e300};
    const std::string a = testfiles::npy_bytes("<i8", "(5000000,)", big.data(), big.size() * 8);
    const std::string b = testfiles::npy_bytes("<f8", "(3,)", floats, sizeof floats);
    testfiles::write_file(dir + "/c.npz",
                          testfiles::zip_bytes({{"a.npy", a}, {"b.npy", b}}, false, 8));
    const Finished fa = run({"--input", dir + "/c.npz:a", "--json"});
    if (!has_zlib(fa)) {
        MESSAGE("skipped: this build has no zlib");
        return;
    }
    REQUIRE(fa.code == 0);
    const auto j = nlohmann::json::parse(fa.out);
    // Pairs (2k, 2k+1) add -1,000,003 each: 2,500,000 of them.
    CHECK(j["sum"] == "-2500007500000");
    CHECK(j["verified"] == true);
    CHECK(j["source"].get<std::string>().find("inflated as it is read") != std::string::npos);
    const Finished fb = run({"--input", dir + "/c.npz:b", "--sum-only"});
    CHECK(fb.out == "1\n");
    // A flipped bit in the data fails the CRC; a cut one ends early.
    std::string zip = testfiles::zip_bytes({{"b.npy", b}}, false, 8);
    std::string flipped = zip;
    flipped[zip.find("\x93NUMPY") + 130] ^= 1;
    testfiles::write_file(dir + "/flipped.npz", flipped);
    const Finished bad = run({"--input", dir + "/flipped.npz"});
    CHECK(bad.code == 2);
    CHECK(bad.out.empty());
    CHECK(bad.err.find("flipped.npz: the member's CRC-32 does not match its data") !=
          std::string::npos);
    std::string cut = zip;
    cut[zip.find("\x93NUMPY") - 5] = 0;  // the one stored block is not the last
    testfiles::write_file(dir + "/cut.npz", cut);
    const Finished ended = run({"--input", dir + "/cut.npz"});
    CHECK(ended.code == 2);
    CHECK(ended.err.find("cut.npz: the compressed data ends early") != std::string::npos);
}
