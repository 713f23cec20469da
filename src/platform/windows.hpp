// What only Windows needs, for the code that exists only there (the spawned
// process pool); windows.cpp implements it.
#pragma once

#include <string>

namespace gpusum::platform {

std::wstring wide(const std::string& utf8);
std::string narrow(const std::wstring& text);
// The system's message for a GetLastError() code, in UTF-8.
std::string error_text(unsigned long code);

}  // namespace gpusum::platform
