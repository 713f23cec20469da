// Writes .npy files the way NumPy does, so tests make their own inputs.
#pragma once

#include <stdlib.h>  // mkdtemp (glibc)
#include <unistd.h>  // mkdtemp (macOS)

#include <cstdint>
#include <cstdio>
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

// A ZIP archive of stored members, as np.savez writes it. With `zip64` the
// central directory gives sizes and offsets in ZIP64 extra fields, as it
// does for arrays over 4 GiB; `method` 8 marks members as deflated.
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
        le(out, 0x04034b50, 4);
        le(out, 20, 2);  // version
        le(out, 0, 2);   // flags
        le(out, method, 2);
        le(out, 0, 4);  // time, date
        le(out, 0, 4);  // crc (not checked by readers of stored arrays here)
        le(out, e.bytes.size(), 4);
        le(out, e.bytes.size(), 4);
        le(out, e.name.size(), 2);
        le(out, 0, 2);
        out += e.name + e.bytes;
        le(directory, 0x02014b50, 4);
        le(directory, 45, 2);
        le(directory, 45, 2);
        le(directory, 0, 2);
        le(directory, method, 2);
        le(directory, 0, 4);
        le(directory, 0, 4);
        le(directory, zip64 ? 0xffffffffu : e.bytes.size(), 4);
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
            le(directory, e.bytes.size(), 8);
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

inline void write_file(const std::string& path, const std::string& bytes) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return;
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
}

// A fresh directory under /tmp for one test binary's files.
inline std::string temp_dir() {
    char tmpl[] = "/tmp/gpusum-test-XXXXXX";
    const char* dir = ::mkdtemp(tmpl);
    return dir != nullptr ? dir : "/tmp";
}

}  // namespace testfiles
