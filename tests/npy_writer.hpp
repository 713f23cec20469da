// Writes .npy files the way NumPy does, so tests make their own inputs.
#pragma once

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
