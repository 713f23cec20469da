// What only Windows needs, for the code that exists only there (the spawned
// process pool); windows.cpp implements it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace gpusum::platform {

std::wstring wide(const std::string& utf8);
// The system's message for a GetLastError() code, in UTF-8.
std::string error_text(unsigned long code);

// Whole transfers on a HANDLE (a pipe, a file, a console): false when the
// other end is gone or the transfer fails part way.
bool write_all(void* handle, const void* data, std::size_t size);
bool read_all(void* handle, void* data, std::size_t size);

// The file mapping (a HANDLE) behind a view map_file made that holds
// [data, data + bytes): where in the view the bytes start, and the view's size.
struct FileMappingSpan {
    void* mapping = nullptr;
    std::uint64_t offset = 0;
    std::uint64_t view_size = 0;
};
bool file_mapping_holding(const void* data, std::uint64_t bytes, FileMappingSpan& span);

}  // namespace gpusum::platform
