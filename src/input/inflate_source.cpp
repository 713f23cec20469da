// Compressed .npz members (np.savez_compressed): raw deflate data inflated by
// zlib straight into the stream's pieces, never into a whole copy.
#include <zlib.h>

#include <algorithm>
#include <limits>

#include "gpusum/errors.hpp"
#include "input/array_stream.hpp"

namespace gpusum {

namespace {

class InflateSource final : public ByteSource {
  public:
    InflateSource(std::span<const unsigned char> deflated, std::uint64_t inflated_size,
                  std::uint32_t crc)
        : rest_(deflated), expected_size_(inflated_size), expected_crc_(crc) {
        // Negative window bits: raw deflate, as ZIP stores it (no zlib header).
        if (inflateInit2(&z_, -MAX_WBITS) != Z_OK) throw InputError("zlib cannot start inflating");
    }
    ~InflateSource() override { inflateEnd(&z_); }
    InflateSource(const InflateSource&) = delete;
    InflateSource& operator=(const InflateSource&) = delete;

    std::size_t read(unsigned char* out, std::size_t size,
                     const std::atomic<bool>& cancelled) override {
        if (ended_ || cancelled.load(std::memory_order_relaxed)) return 0;
        // zlib counts in 32-bit units: a piece at a time of at most 1 GiB.
        constexpr std::size_t kMost = std::size_t{1} << 30;
        z_.next_out = out;
        z_.avail_out = static_cast<uInt>(std::min(size, kMost));
        while (z_.avail_out > 0 && !ended_) {
            if (z_.avail_in == 0) {
                const std::size_t take = std::min(rest_.size(), kMost);
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
    z_stream z_{};
    std::span<const unsigned char> rest_;
    std::uint64_t expected_size_;
    std::uint32_t expected_crc_;
    uLong crc_ = crc32(0, nullptr, 0);
    std::uint64_t produced_ = 0;
    bool ended_ = false;
};

}  // namespace

std::unique_ptr<ByteSource> inflate_source(std::span<const unsigned char> deflated,
                                           std::uint64_t inflated_size, std::uint32_t crc) {
    return std::make_unique<InflateSource>(deflated, inflated_size, crc);
}

}  // namespace gpusum
