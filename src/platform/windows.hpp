// What only Windows needs, for the code that exists only there (the spawned
// process pool); windows.cpp implements it.
#pragma once

#include <cstdint>
#include <string>

namespace gpusum::platform {

std::wstring wide(const std::string& utf8);
std::string narrow(const std::wstring& text);
// The system's message for a GetLastError() code, in UTF-8.
std::string error_text(unsigned long code);

// The file mapping (a HANDLE) behind a view map_file made that holds
// [data, data + bytes): where in the view the bytes start, and the view's size.
struct FileMappingSpan {
    void* mapping = nullptr;
    std::uint64_t offset = 0;
    std::uint64_t view_size = 0;
};
bool file_mapping_holding(const void* data, std::uint64_t bytes, FileMappingSpan& span);

}  // namespace gpusum::platform
