// Arrays that arrive as a stream of bytes (a pipe, a FIFO, a file that
// cannot be mapped, a compressed .npz member being inflated), handed over a
// piece at a time in bounded memory: one thread reads ahead into a few
// fixed buffers while the caller sums the piece it holds.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "gpusum/array.hpp"

namespace gpusum {

// Where a stream's bytes come from.
class ByteSource {
  public:
    virtual ~ByteSource() = default;
    // Up to `size` bytes into `out`, waiting for some; 0 only at the end.
    // Returns 0 early once `cancelled` is set (polled while it waits).
    // Throws InputError when the bytes cannot be read.
    virtual std::size_t read(unsigned char* out, std::size_t size,
                             const std::atomic<bool>& cancelled) = 0;
};

// The bytes of an open file descriptor (closed with the source).
std::unique_ptr<ByteSource> descriptor_source(int fd);

// The bytes of raw deflate data (a ZIP member), inflated as they are read;
// InputError at the end unless they are exactly `inflated_size` bytes with
// CRC-32 `crc`. `deflated` must outlive the source. With `file_mapping`
// (`deflated` lies in a read-only mapping of a file) the pages already
// inflated are let go, so resident memory stays bounded however large the
// archive. A build without zlib refuses, naming zlib.
std::unique_ptr<ByteSource> inflate_source(std::span<const unsigned char> deflated,
                                           std::uint64_t inflated_size, std::uint32_t crc,
                                           bool file_mapping);

class ArrayStream {
  public:
    // Pieces of this many bytes (the last may be shorter), at most this many
    // in memory at once: the stream's memory whatever its length.
    static constexpr std::size_t kPieceBytes = std::size_t{32} << 20;
    static constexpr int kPieces = 4;

    // Reads the .npy header from the first bytes, or takes the data as raw
    // elements of `raw_dtype`; InputError if neither fits. `how` ends the
    // description ("read as a stream").
    ArrayStream(std::unique_ptr<ByteSource> source, std::optional<DType> raw_dtype,
                const std::string& how);
    ~ArrayStream();
    ArrayStream(const ArrayStream&) = delete;
    ArrayStream& operator=(const ArrayStream&) = delete;

    DType dtype() const { return dtype_; }
    const std::string& description() const { return description_; }
    // The elements a .npy header announced; empty for raw data.
    std::optional<std::uint64_t> announced_elements() const;
    std::uint64_t bytes_read() const { return bytes_read_.load(std::memory_order_relaxed); }

    // The next piece of elements, valid until the next call, or empty once
    // the stream ended as its header said (raw data: on whole elements).
    // Throws InputError for a stream that ends early, holds more than its
    // header describes, or cannot be read.
    std::optional<ArrayView> next();

  private:
    struct Filled {
        unsigned char* data;
        std::size_t bytes;
    };
    void read_ahead();
    // A buffer to fill: a free one, a new one, or null once cancelled.
    unsigned char* take_buffer();
    // Fills `out` from the source: `size` bytes unless the stream ends.
    std::size_t fill(unsigned char* out, std::size_t size);

    std::unique_ptr<ByteSource> source_;
    DType dtype_ = DType::uint8;
    std::size_t item_ = 1;
    std::optional<std::uint64_t> data_bytes_;  // from a .npy header
    bool swap_bytes_ = false;                  // a big-endian .npy stream: swapped as read
    std::string description_;
    std::vector<unsigned char> head_;  // bytes read with the header that are data

    // Made as the reader first needs them: a short stream takes one.
    std::vector<std::unique_ptr<unsigned char[]>> buffers_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<Filled> filled_;
    std::vector<unsigned char*> free_;
    unsigned char* held_ = nullptr;  // the buffer of the piece last handed out
    bool ended_ = false;
    std::exception_ptr error_;
    std::atomic<bool> cancelled_{false};
    std::atomic<std::uint64_t> bytes_read_{0};
    std::thread reader_;
};

}  // namespace gpusum
