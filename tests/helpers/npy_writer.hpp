// Writes .npy files the way NumPy does, so tests make their own inputs.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace testfiles {

inline std::string npy_bytes(const std::string& descr, const std::string& shape, const void* data,
                             std::size_t bytes, bool fortran = false, int major = 1) {
    std::string dict = "{'descr': '" + descr +
                       "', 'fortran_order': " + (fortran ? "True" : "False") +
                       ", 'shape': " + shape + ", }";
    const std::size_t prefix = major == 1 ? 10 : 12;
    // Pad with spaces so the data starts on a 64-byte boundary; end with '\n'.
    while ((prefix + dict.size() + 1) % 64 != 0) dict += ' ';
    dict += '\n';
    std::string out = "\x93NUMPY";
    out += static_cast<char>(major);
    out += '\0';
    const std::size_t len = dict.size();
    out += static_cast<char>(len & 0xff);
    out += static_cast<char>((len >> 8) & 0xff);
    if (major != 1) {
        out += static_cast<char>((len >> 16) & 0xff);
        out += static_cast<char>((len >> 24) & 0xff);
    }
    out += dict;
    out.append(static_cast<const char*>(data), bytes);
    return out;
}

// The CRC-32 ZIP keeps of a member's bytes (bit by bit: test data is small).
inline std::uint32_t crc32_of(const std::string& bytes) {
    std::uint32_t crc = 0xffffffffu;
    for (const char c : bytes) {
        crc ^= static_cast<unsigned char>(c);
        for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

// Raw deflate data of `bytes` in stored blocks (BTYPE 00, up to 65,535
// bytes each): valid input to any inflater, written without a compressor.
inline std::string deflate_stored(const std::string& bytes) {
    std::string out;
    std::size_t at = 0;
    do {
        const std::size_t n = std::min<std::size_t>(bytes.size() - at, 65535);
        const bool last = at + n == bytes.size();
        out += static_cast<char>(last ? 1 : 0);
        for (const std::size_t v : {n, n ^ 0xffffu}) {
            out += static_cast<char>(v & 0xff);
            out += static_cast<char>((v >> 8) & 0xff);
        }
        out += bytes.substr(at, n);
        at += n;
    } while (at < bytes.size());
    return out;
}

// A ZIP archive of stored members, as np.savez writes it. With `zip64` the
// central directory gives sizes and offsets in ZIP64 extra fields, as it
// does for arrays over 4 GiB. `method` 8 deflates members (in stored
// blocks) as np.savez_compressed does, with their CRC-32; other methods
// only mark them.
struct ZipEntry {
    std::string name;
    std::string bytes;
};

inline std::string zip_bytes(const std::vector<ZipEntry>& entries, bool zip64 = false,
                             int method = 0) {
    auto le = [](std::string& out, std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
    };
    std::string out, directory;
    for (const ZipEntry& e : entries) {
        const std::uint64_t local = out.size();
        const std::string packed = method == 8 ? deflate_stored(e.bytes) : e.bytes;
        const std::uint32_t crc = method == 8 ? crc32_of(e.bytes) : 0;
        le(out, 0x04034b50, 4);
        le(out, 20, 2);  // version
        le(out, 0, 2);   // flags
        le(out, method, 2);
        le(out, 0, 4);  // time, date
        le(out, crc, 4);
        le(out, packed.size(), 4);
        le(out, e.bytes.size(), 4);
        le(out, e.name.size(), 2);
        le(out, 0, 2);
        out += e.name + packed;
        le(directory, 0x02014b50, 4);
        le(directory, 45, 2);
        le(directory, 45, 2);
        le(directory, 0, 2);
        le(directory, method, 2);
        le(directory, 0, 4);
        le(directory, crc, 4);
        le(directory, zip64 ? 0xffffffffu : packed.size(), 4);
        le(directory, zip64 ? 0xffffffffu : e.bytes.size(), 4);
        le(directory, e.name.size(), 2);
        le(directory, zip64 ? 28 : 0, 2);
        le(directory, 0, 2);  // comment
        le(directory, 0, 2);  // disk
        le(directory, 0, 2);  // internal attributes
        le(directory, 0, 4);  // external attributes
        le(directory, zip64 ? 0xffffffffu : local, 4);
        directory += e.name;
        if (zip64) {
            le(directory, 1, 2);
            le(directory, 24, 2);
            le(directory, e.bytes.size(), 8);
            le(directory, packed.size(), 8);
            le(directory, local, 8);
        }
    }
    const std::uint64_t start = out.size();
    out += directory;
    le(out, 0x06054b50, 4);
    le(out, 0, 4);
    le(out, entries.size(), 2);
    le(out, entries.size(), 2);
    le(out, directory.size(), 4);
    le(out, start, 4);
    le(out, 0, 2);
    return out;
}

// `path` in UTF-8, on every system (Windows: through the wide file API).
inline void write_file(const std::string& path, const std::string& bytes) {
    const std::u8string utf8(path.begin(), path.end());
    std::ofstream(std::filesystem::path(utf8), std::ios::binary) << bytes;
}

// A fresh directory in the system's temporary folder for one test binary's
// files, named with '/' on every system (Windows takes it too).
inline std::string temp_dir() {
    std::random_device random;
    const std::filesystem::path base = std::filesystem::temp_directory_path();
    for (;;) {
        const std::filesystem::path dir = base / ("gpusum-test-" + std::to_string(random()));
        if (std::filesystem::create_directory(dir)) return dir.generic_string();
    }
}

}  // namespace testfiles
