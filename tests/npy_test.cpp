#include <doctest/doctest.h>

#include <cstring>
#include <span>

#include "backends/cpu/simd/loops.hpp"
#include "helpers/npy_writer.hpp"
#include "input/sources.hpp"
#include "verify/array_check.hpp"

using gpusum::DType;

namespace {

gpusum::NpyHeader parse(const std::string& bytes) {
    return gpusum::parse_npy_header(
        {reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()}, bytes.size());
}

std::string npy(const std::string& descr, const std::string& shape, std::size_t data_bytes,
                bool fortran = false, int major = 1) {
    const std::string data(data_bytes, '\x01');
    return testfiles::npy_bytes(descr, shape, data.data(), data.size(), fortran, major);
}

}  // namespace

TEST_CASE("valid .npy headers") {
    auto h = parse(npy("<i8", "(3,)", 24));
    CHECK(h.dtype == DType::int64);
    CHECK(h.count == 3);
    CHECK(h.data_offset % 64 == 0);
    CHECK(h.shape == "(3,)");

    h = parse(npy("<f4", "(2, 3, 4)", 96, true));
    CHECK(h.dtype == DType::float32);
    CHECK(h.count == 24);
    CHECK(h.fortran_order);

    CHECK(parse(npy("|u1", "()", 1)).count == 1);  // a 0-d array holds one element
    CHECK(parse(npy("<u2", "(0,)", 0)).count == 0);
    CHECK(parse(npy("<i4", "(5,)", 20, false, 2)).count == 5);  // format 2.0
    CHECK(parse(npy("<f8", "(5,)", 40, false, 3)).dtype == DType::float64);
    CHECK(parse(npy("=i2", "(1,)", 2)).dtype == DType::int16);
    CHECK(parse(npy("|i1", "(4,)", 4)).dtype == DType::int8);
}

TEST_CASE("every hostile header is a clear error, never a read past the buffer") {
    struct Case {
        std::string bytes;
        std::string fragment;
    };
    std::string bad_version = npy("<i8", "(1,)", 8);
    bad_version[6] = 9;
    std::string long_header = npy("<i8", "(1,)", 8);
    long_header[8] = '\xff';
    long_header[9] = '\x7f';
    const std::vector<Case> cases = {
        {"", "not a .npy file"},
        {"hello world, not numpy", "not a .npy file"},
        {std::string("\x93NUMPY", 6), "not a .npy file"},
        {std::string("\x93NUMPY\x01\x00", 8), "truncated .npy header"},
        {bad_version, "unsupported .npy format version 9.0"},
        {long_header, "truncated .npy header"},
        {npy("<c16", "(1,)", 16), "unsupported .npy dtype '<c16'"},
        {npy("<M8[ns]", "(1,)", 8), "unsupported .npy dtype '<M8[ns]'"},
        {npy("|O", "(1,)", 8), "unsupported .npy dtype '|O'"},
        {npy("<i8", "(3,)", 16),
         "truncated: the header describes 24 bytes of data, the file holds 16"},
        {npy("<i8", "(3,)", 32), "8 bytes more than its header describes"},
        {npy("<i8", "(-3,)", 0), "shape must be a tuple of non-negative integers"},
        {npy("<i8", "(3.5,)", 0), "expected ','"},
        {npy("<i8", "[3]", 0), "expected '('"},
        {npy("<i8", "(4294967296, 4294967296, 4294967296)", 0), "is too large"},
        {npy("<i8", "(99999999999999999999999,)", 0), "dimension too large"},
        {std::string("\x93NUMPY\x01\x00\x04\x00{}  ", 14), "needs descr, fortran_order and shape"},
        {std::string("\x93NUMPY\x01\x00\x06\x00{'a':1", 16), "unexpected key 'a'"},
        {std::string("\x93NUMPY\x01\x00\x08\x00{'descr'", 18), "expected ':'"},
        {std::string("\x93NUMPY\x01\x00\x0a\x00{'descr': ", 20), "expected a quoted string"},
        {std::string("\x93NUMPY\x01\x00\x0b\x00{'descr': '", 21), "unterminated string"},
        {std::string("\x93NUMPY\x01\x00\x18\x00{'fortran_order': 'yes'}", 34),
         "fortran_order must be True or False, not 'yes'"},
        // A NUL byte in the header is shown, and so is what follows it.
        {npy(std::string("<i8\0tail", 8), "(1,)", 8), "unsupported .npy dtype '<i8\\x00tail'"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.fragment);
        try {
            parse(c.bytes);
            FAIL("accepted a hostile header");
        } catch (const gpusum::InputError& e) {
            CHECK(std::string(e.what()).find(c.fragment) != std::string::npos);
        }
    }
}

TEST_CASE("a header cut short anywhere is rejected") {
    const std::string whole = npy("<i4", "(10, 10)", 400);
    for (std::size_t cut = 0; cut < 128; ++cut) {
        const std::string part = whole.substr(0, cut);
        CHECK_THROWS_AS(parse(part), gpusum::InputError);
    }
}

TEST_CASE("mapped inputs: .npy by magic, raw by --dtype, with checks") {
    const std::string dir = testfiles::temp_dir();
    const std::vector<std::int32_t> values = {5, -7, 11, 2147483647, -2147483647 - 1};
    testfiles::write_file(dir + "/a.npy", testfiles::npy_bytes("<i4", "(5,)", values.data(), 20));
    gpusum::InputFile npy_file(dir + "/a.npy", std::nullopt);
    REQUIRE(npy_file.view());
    CHECK(npy_file.stream() == nullptr);
    CHECK(npy_file.view()->count == 5);
    CHECK(npy_file.view()->dtype == DType::int32);
    CHECK(gpusum::sum_integers(*npy_file.view()) == gpusum::check_sum_integers(*npy_file.view()));

    testfiles::write_file(dir + "/a.raw",
                          std::string(reinterpret_cast<const char*>(values.data()), 20));
    gpusum::InputFile raw(dir + "/a.raw", DType::int32);
    CHECK(raw.view()->count == 5);
    CHECK_THROWS_WITH_AS(gpusum::InputFile(dir + "/a.raw", DType::int64),
                         "size 20 is not a multiple of the int64 element size (8)",
                         gpusum::InputError);
    CHECK_THROWS_WITH_AS(gpusum::InputFile(dir + "/a.raw", std::nullopt),
                         doctest::Contains("for raw binary data give --dtype"), gpusum::InputError);
    CHECK_THROWS_WITH_AS(gpusum::InputFile(dir + "/a.npy", DType::int32),
                         doctest::Contains("drop --dtype"), gpusum::InputError);
    CHECK_THROWS_WITH_AS(gpusum::InputFile(dir + "/missing.npy", std::nullopt),
                         "cannot open: No such file or directory", gpusum::InputError);
#ifdef _WIN32
    // Windows opens no directory as a file.
    CHECK_THROWS_WITH_AS(gpusum::InputFile(dir, std::nullopt), "cannot open: Is a directory",
                         gpusum::InputError);
#else
    CHECK_THROWS_WITH_AS(gpusum::InputFile(dir, std::nullopt),
                         "not a regular file, a FIFO or a pipe", gpusum::InputError);
#endif
    // An empty file cannot be mapped: it is read as an empty stream.
    testfiles::write_file(dir + "/empty.raw", "");
    gpusum::InputFile empty(dir + "/empty.raw", DType::uint8);
    REQUIRE(empty.stream() != nullptr);
    CHECK(!empty.stream()->next());
}

TEST_CASE("array mode refuses what cannot fit, before allocating") {
    const gpusum::Progression huge{0, std::uint64_t{1} << 50, 1};  // 8 PiB of int64
    CHECK_THROWS_WITH_AS(gpusum::HostArray(huge, 2, 100), doctest::Contains("needs 9007.2 TB"),
                         gpusum::InputError);
    const gpusum::HostArray small(gpusum::Progression{-5, 1000, 3}, 3, 7);
    CHECK(gpusum::sum_integers(small.view()) == gpusum::closed_form_sum({-5, 1000, 3}));
}

TEST_CASE("NumPy dtype spellings: names, codes, byte orders") {
    const std::pair<const char*, DType> spellings[] = {
        {"int64", DType::int64},     {"i8", DType::int64},       {"<i8", DType::int64},
        {"=i8", DType::int64},       {"q", DType::int64},        {"int", DType::int64},
        {"u1", DType::uint8},        {"|u1", DType::uint8},      {"B", DType::uint8},
        {"<f4", DType::float32},     {"single", DType::float32}, {"f", DType::float32},
        {"float64", DType::float64}, {"double", DType::float64}, {"float", DType::float64},
        {"d", DType::float64},       {"f2", DType::float16},     {"half", DType::float16},
        {"float16", DType::float16}, {"bool", DType::boolean},   {"?", DType::boolean},
        {"|b1", DType::boolean},     {"h", DType::int16},        {"uint32", DType::uint32}};
    for (const auto& spelling : spellings) {
        CAPTURE(spelling.first);
        const auto parsed = gpusum::parse_dtype(spelling.first);
        REQUIRE(parsed.has_value());
        CHECK(*parsed == spelling.second);
    }
    for (const char* bad : {"", ">i8", ">f4", "i16", "int128", "c16", "<", "<<i8", "float8", "O",
                            "S10", "i8 ", " i8", "Int64"}) {
        CAPTURE(bad);
        CHECK_FALSE(gpusum::parse_dtype(bad).has_value());
    }
    CHECK(gpusum::dtype_size(DType::float16) == 2);
    CHECK(gpusum::dtype_size(DType::boolean) == 1);
    // .npy headers with the new types, and a structured dtype named as such.
    CHECK(parse(npy("|b1", "(3,)", 3)).dtype == DType::boolean);
    CHECK(parse(npy("<f2", "(3,)", 6)).dtype == DType::float16);
    CHECK_FALSE(parse(npy("<i8", "(1,)", 8)).big_endian);
    const auto big = parse(npy(">i8", "(1,)", 8));
    CHECK(big.dtype == DType::int64);
    CHECK(big.big_endian);
    const std::string fields = "[('a', '<i8'), ('b', '<f8')]";
    std::string header = npy("<i8", "(1,)", 16);
    header.replace(header.find("'<i8'"), 5, fields);
    CHECK_THROWS_WITH_AS(parse(header), doctest::Contains("structured dtype"), gpusum::InputError);
}

TEST_CASE(".npz archives: members found where the directory says, ZIP64 included") {
    const std::string a = npy("<i8", "(3,)", 24), b = npy("<f8", "(2,)", 16);
    for (const bool zip64 : {false, true}) {
        const std::string zip = testfiles::zip_bytes({{"a.npy", a}, {"b.npy", b}}, zip64);
        const std::span<const unsigned char> bytes{
            reinterpret_cast<const unsigned char*>(zip.data()), zip.size()};
        const auto members = gpusum::zip_members(bytes);
        CAPTURE(zip64);
        REQUIRE(members.size() == 2);
        CHECK(members[1].name == "b.npy");
        CHECK(members[1].stored);
        CHECK(zip.substr(members[1].data_offset, members[1].size) == b);
        CHECK(zip.substr(members[0].data_offset, members[0].size) == a);
        // Every truncation is refused cleanly (the end record is looked for
        // from the end, so a cut archive has none, or points past its end).
        for (std::size_t cut = 0; cut < zip.size(); ++cut)
            CHECK_THROWS_AS(gpusum::zip_members(bytes.first(cut)), gpusum::InputError);
    }
    const std::string deflated = testfiles::zip_bytes({{"a.npy", a}}, false, 8);
    const auto members = gpusum::zip_members(
        {reinterpret_cast<const unsigned char*>(deflated.data()), deflated.size()});
    REQUIRE(members.size() == 1);
    CHECK_FALSE(members[0].stored);
}
