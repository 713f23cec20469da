// Compressed .npz members (np.savez_compressed): raw deflate data inflated by
// zlib straight into the stream's pieces, never into a whole copy.
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "gpusum/errors.hpp"
#include "input/array_stream.hpp"
#include "platform/platform.hpp"

namespace gpusum {

namespace {

class InflateSource final : public ByteSource {
  public:
    InflateSource(std::span<const unsigned char> deflated, std::uint64_t inflated_size,
                  std::uint32_t crc, bool file_mapping)
        : rest_(deflated),
          page_(platform::page_size()),
          released_(page_start(deflated.data())),
          expected_size_(inflated_size),
          expected_crc_(crc),
          file_mapping_(file_mapping) {
        // Negative window bits: raw deflate, as ZIP stores it (no zlib header).
        if (inflateInit2(&z_, -MAX_WBITS) != Z_OK) throw InputError("zlib cannot start inflating");
    }
    ~InflateSource() override { inflateEnd(&z_); }
    InflateSource(const InflateSource&) = delete;
    InflateSource& operator=(const InflateSource&) = delete;

    std::size_t read(unsigned char* out, std::size_t size,
                     const std::atomic<bool>& cancelled) override {
        if (ended_ || cancelled.load(std::memory_order_relaxed)) return 0;
        // zlib counts in 32-bit units: out at most 1 GiB at a time.
        constexpr std::size_t kMost = std::size_t{1} << 30;
        z_.next_out = out;
        z_.avail_out = static_cast<uInt>(std::min(size, kMost));
        while (z_.avail_out > 0 && !ended_) {
            if (z_.avail_in == 0) {
                release_read_pages();
                const std::size_t take = std::min(rest_.size(), kInputSlice);
                z_.next_in = const_cast<Bytef*>(rest_.data());  // zlib's API is not const
                z_.avail_in = static_cast<uInt>(take);
                rest_ = rest_.subspan(take);
            }
            const int status = inflate(&z_, Z_NO_FLUSH);
            if (status == Z_STREAM_END) {
                ended_ = true;
            } else if (status == Z_BUF_ERROR && z_.avail_in == 0 && rest_.empty()) {
                throw InputError("the compressed data ends early (a truncated archive)");
            } else if (status != Z_OK && status != Z_BUF_ERROR) {
                throw InputError(std::string("the compressed data is corrupt (zlib: ") +
                                 (z_.msg != nullptr ? z_.msg : "no reason given") + ")");
            }
        }
        const std::size_t got = static_cast<std::size_t>(z_.next_out - out);
        crc_ = crc32_z(crc_, out, got);
        produced_ += got;
        if (ended_) {
            if (produced_ != expected_size_)
                throw InputError("the member inflates to " + std::to_string(produced_) +
                                 " bytes, its directory entry says " +
                                 std::to_string(expected_size_));
            if (crc_ != expected_crc_)
                throw InputError("the member's CRC-32 does not match its data (a corrupt archive)");
        }
        return got;
    }

  private:
    // In a read-only file mapping, pages already inflated are let go (they
    // are only dropped: the file is unchanged, and read again if touched).
    void release_read_pages() {
        if (!file_mapping_) return;
        const unsigned char* end = page_start(rest_.data());
        if (end > released_) {
            platform::release_pages(const_cast<unsigned char*>(released_),
                                    static_cast<std::size_t>(end - released_));
            released_ = end;
        }
    }
    const unsigned char* page_start(const unsigned char* at) const {
        return at - reinterpret_cast<std::uintptr_t>(at) % page_;
    }

    static constexpr std::size_t kInputSlice = std::size_t{4} << 20;
    z_stream z_{};
    std::span<const unsigned char> rest_;
    std::uintptr_t page_;
    const unsigned char* released_;  // pages below this are let go
    std::uint64_t expected_size_;
    std::uint32_t expected_crc_;
    bool file_mapping_;
    uLong crc_ = crc32(0, nullptr, 0);
    std::uint64_t produced_ = 0;
    bool ended_ = false;
};

}  // namespace

std::unique_ptr<ByteSource> inflate_source(std::span<const unsigned char> deflated,
                                           std::uint64_t inflated_size, std::uint32_t crc,
                                           bool file_mapping) {
    return std::make_unique<InflateSource>(deflated, inflated_size, crc, file_mapping);
}

}  // namespace gpusum
