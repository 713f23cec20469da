// Mapped files that change under us. Reading a page of a mapped file that has
// since been truncated raises SIGBUS (on Windows, where a mapped file cannot
// be truncated, a page that cannot be read in raises an exception); without a
// handler that kills the process with no word. While a FileGuard lives, the
// fault instead ends the process with
// exit 2 and one line naming the file, and process-pool workers end with
// kFileChangedExit, which the pool turns into the same InputError. A change
// that does not shrink the file is caught by comparing its stamps (size,
// modification time, inode) after the run.
#pragma once

#include <string>

namespace gpusum {

inline constexpr int kFileChangedExit = 86;

class FileGuard {
  public:
    explicit FileGuard(const std::string& file);
    ~FileGuard();
    FileGuard(const FileGuard&) = delete;
    FileGuard& operator=(const FileGuard&) = delete;
};

// In a forked worker: SIGBUS ends it quietly with kFileChangedExit.
void quiet_file_faults();

// "FILE: changed while being read ..." for the file being guarded.
std::string file_changed_message();

}  // namespace gpusum
