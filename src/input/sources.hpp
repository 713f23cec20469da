// Where arrays come from: NumPy .npy and .npz files and raw binary files,
// memory-mapped (never copied) or streamed, and ranges materialised in
// memory for array mode.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpusum/array.hpp"
#include "gpusum/errors.hpp"
#include "input/array_stream.hpp"
#include "platform/platform.hpp"

namespace gpusum {

class Progress;

struct NpyHeader {
    DType dtype = DType::int64;
    std::uint64_t count = 0;        // product of the shape
    std::uint64_t data_offset = 0;  // where the elements start
    bool fortran_order = false;     // irrelevant to a sum, reported
    bool big_endian = false;        // '>' in descr: the bytes are swapped as they are read
    std::string shape;              // as written, e.g. "(1000, 3)"
};

// Parses and checks a .npy header. `head` is the start of the file (as much
// as is available), `file_size` the whole file's size: the element data must
// fill the rest of the file exactly (a stream, of unknown size: no size is
// checked). Throws InputError saying what is wrong. Never reads outside `head`.
NpyHeader parse_npy_header(std::span<const unsigned char> head,
                           std::optional<std::uint64_t> file_size);

// One file in a ZIP archive (a .npz): its name, where its bytes start in the
// archive and how many there are, and how they are kept: stored as they are
// (np.savez) or deflated (np.savez_compressed, inflated to `unpacked` bytes
// whose CRC-32 is `crc`).
struct ZipMember {
    std::string name;
    std::uint64_t data_offset = 0;
    std::uint64_t size = 0;
    std::uint64_t unpacked = 0;
    std::uint32_t crc = 0;
    bool stored = false;
    bool deflated = false;
};

// The members listed in a ZIP archive's central directory. Throws
// InputError when the directory is malformed; never reads outside `file`.
std::vector<ZipMember> zip_members(std::span<const unsigned char> file);

// An --input file. Mapped read-only where it can be, its elements then one
// ArrayView; else read as a stream, a piece at a time in bounded memory:
// "-" (standard input), FIFOs, files the kernel sizes as 0 that still have
// content (/proc) or that cannot be mapped (/sys), and compressed .npz
// members, inflated as they are read. Other files that are not regular
// files are refused.
class InputFile {
  public:
    // .npy files are recognised by their magic; anything else needs `raw_dtype`.
    InputFile(const std::string& path, std::optional<DType> raw_dtype);
    ~InputFile();
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;

    // The mapped elements; empty for a stream.
    std::optional<ArrayView> view() const;
    // The stream to read, or null for a mapped file.
    ArrayStream* stream() const { return stream_.get(); }
    const std::string& description() const { return description_; }
    // False if a mapped file's size, modification time or inode changed
    // since it was opened (its contents may then have been read half old).
    bool unchanged() const;

  private:
    void* map_ = nullptr;
    std::uint64_t size_ = 0;
    int fd_ = -1;                // kept open for unchanged()
    platform::FileFacts facts_;  // when opened: size, modification time, identity
    ArrayView view_;
    Layout swapped_;  // big-endian .npy data: view_.layout
    std::string description_;
    std::unique_ptr<ArrayStream> stream_;  // reads map_ when inflating: reset first
};

// An int64 array in anonymous memory backed by huge pages where the kernel
// allows, filled in parallel so each worker first-touches its own chunks.
class HostArray {
  public:
    // The elements of `series`; InputError if they cannot fit in memory.
    // `progress`, if given, counts the elements written.
    HostArray(Progression series, unsigned workers, std::uint64_t chunks,
              Progress* progress = nullptr);
    ~HostArray();
    HostArray(const HostArray&) = delete;
    HostArray& operator=(const HostArray&) = delete;

    ArrayView view() const { return view_; }

  private:
    void* map_ = nullptr;
    std::uint64_t size_ = 0;
    ArrayView view_;
};

// Bytes of memory the kernel reports available now (MemAvailable).
std::uint64_t available_memory();

}  // namespace gpusum
