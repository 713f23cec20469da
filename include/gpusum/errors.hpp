// What gpusum throws. Each message is one line for a person; a NUL byte in it
// (from a file's header, a Python string) is written as \x00, since what()
// is read as a C string and would end there.
#pragma once

#include <stdexcept>
#include <string>

namespace gpusum {

class Error : public std::runtime_error {
  public:
    explicit Error(const std::string& message) : std::runtime_error(nul_escaped(message)) {}

  private:
    static std::string nul_escaped(const std::string& message) {
        std::string out;
        out.reserve(message.size());
        for (const char c : message) {
            if (c == '\0')
                out += "\\x00";
            else
                out += c;
        }
        return out;
    }
};

// Bad input: a missing or malformed file, bad arguments, an impossible
// allocation. The CLI prints the message and exits 2.
class InputError : public Error {
  public:
    using Error::Error;
};

// The requested backend exists but cannot run here; the CLI exits 3.
class Unavailable : public Error {
  public:
    using Error::Error;
};

// A failure at run time (fork failed, CUDA error, ...). The dispatcher may
// fall back to another backend; an explicitly requested one exits 3.
class BackendError : public Error {
  public:
    using Error::Error;
};

// SIGINT or SIGTERM arrived mid-run; every worker and device has been
// stopped by the time it propagates.
class Interrupted : public Error {
  public:
    explicit Interrupted(int signal_number) : Error("interrupted"), signal(signal_number) {}
    int signal;
};

// An answer disagreed with its independent check: never returned.
class Mismatch : public Error {
  public:
    using Error::Error;
};

}  // namespace gpusum
