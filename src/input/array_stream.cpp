#include "input/array_stream.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "input/sources.hpp"
#include "platform/platform.hpp"
#include "support/stop_signals.hpp"

namespace gpusum {

namespace {

constexpr unsigned char kNpyMagic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
// The longest .npy header taken from a stream: NumPy writes a few hundred
// bytes; a corrupt length must not become an allocation.
constexpr std::uint64_t kLongestHeader = std::uint64_t{1} << 20;
// How often a wait for data looks at cancellation and stop signals.
constexpr int kPollMilliseconds = 100;

[[noreturn]] void bad(const std::string& why) {
    throw InputError(why);
}

class DescriptorSource final : public ByteSource {
  public:
    explicit DescriptorSource(int fd) : fd_(fd) { platform::enlarge_pipe_buffer(fd_); }
    ~DescriptorSource() override { platform::close_descriptor(fd_); }
    DescriptorSource(const DescriptorSource&) = delete;
    DescriptorSource& operator=(const DescriptorSource&) = delete;

    // Waits with a timeout rather than in read(): a writer that never
    // writes must not keep Ctrl-C or the end of the stream waiting.
    std::size_t read(unsigned char* out, std::size_t size,
                     const std::atomic<bool>& cancelled) override {
        for (;;) {
            const bool ready = platform::wait_readable(fd_, kPollMilliseconds);
            if (cancelled.load(std::memory_order_relaxed)) return 0;
            throw_if_stopped();
            if (!ready) continue;
            const long got = platform::read_some(fd_, out, size);
            if (got >= 0) return static_cast<std::size_t>(got);
            if (errno == EINTR || errno == EAGAIN) continue;
            bad(std::string("cannot read: ") + std::strerror(errno));
        }
    }

  private:
    int fd_;
};

// Uninitialised: every byte is read into before it is used, and pages never
// touched take no memory.
std::unique_ptr<unsigned char[]> uninitialised(std::size_t bytes) {
    // NOLINTNEXTLINE(modernize-make-unique): make_unique would zero them all
    return std::unique_ptr<unsigned char[]>(new unsigned char[bytes]);
}

void swap_each(unsigned char* data, std::size_t bytes, std::size_t item) {
    for (std::size_t at = 0; at < bytes; at += item) std::reverse(data + at, data + at + item);
}

}  // namespace

std::unique_ptr<ByteSource> descriptor_source(int fd) {
    return std::make_unique<DescriptorSource>(fd);
}

ArrayStream::ArrayStream(std::unique_ptr<ByteSource> source, std::optional<DType> raw_dtype,
                         const std::string& how)
    : source_(std::move(source)) {
    // Twelve bytes hold the magic, the version and the header's length in
    // every .npy version.
    head_.resize(12);
    head_.resize(fill(head_.data(), head_.size()));
    const bool is_npy = head_.size() >= sizeof kNpyMagic &&
                        std::memcmp(head_.data(), kNpyMagic, sizeof kNpyMagic) == 0;
    if (is_npy) {
        if (raw_dtype) bad("is a .npy file: its header gives the dtype, drop --dtype");
        if (head_.size() < 10) bad("truncated .npy header");
        const bool v1 = head_[6] == 1;
        std::uint64_t length = head_[8] | (head_[9] << 8);
        if (!v1) length |= (std::uint64_t{head_[10]} << 16) | (std::uint64_t{head_[11]} << 24);
        if (length > kLongestHeader)
            bad("the .npy header claims " + std::to_string(length) +
                " bytes, more than a NumPy header takes");
        const std::size_t whole = (v1 ? 10 : 12) + length;
        const std::size_t had = head_.size();
        if (whole > had) {
            head_.resize(whole);
            head_.resize(had + fill(head_.data() + had, whole - had));
        }
        const NpyHeader h = parse_npy_header(head_, std::nullopt);
        dtype_ = h.dtype;
        item_ = dtype_size(dtype_);
        data_bytes_ = h.count * item_;
        swap_bytes_ = h.big_endian && item_ > 1;
        head_.erase(head_.begin(), head_.begin() + static_cast<std::ptrdiff_t>(h.data_offset));
        description_ = std::string(dtype_name(dtype_)) + " .npy array, shape " + h.shape +
                       (h.fortran_order ? ", Fortran order" : "") +
                       (h.big_endian && item_ > 1 ? ", big-endian" : "") + ", " + how;
    } else if (raw_dtype) {
        dtype_ = *raw_dtype;
        item_ = dtype_size(dtype_);
        description_ = "raw " + std::string(dtype_name(dtype_)) + " data, " + how;
    } else if (head_.size() >= 4 && std::memcmp(head_.data(), "PK\x03\x04", 4) == 0) {
        bad("a .npz archive cannot be read as a stream (its directory is at its end): give its "
            "file name");
    } else {
        parse_npy_header(head_, std::nullopt);  // throws: says what it is not
    }
    buffers_.reserve(kPieces);
    reader_ = std::thread([this] { read_ahead(); });
}

ArrayStream::~ArrayStream() {
    {
        const std::lock_guard lock(mutex_);
        cancelled_ = true;
    }
    changed_.notify_all();
    reader_.join();
}

std::optional<std::uint64_t> ArrayStream::announced_elements() const {
    if (!data_bytes_) return std::nullopt;
    return *data_bytes_ / item_;
}

std::size_t ArrayStream::fill(unsigned char* out, std::size_t size) {
    std::size_t got = 0;
    while (got < size) {
        const std::size_t n = source_->read(out + got, size - got, cancelled_);
        if (n == 0) break;
        got += n;
        bytes_read_.fetch_add(n, std::memory_order_relaxed);
    }
    return got;
}

unsigned char* ArrayStream::take_buffer() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] {
        return cancelled_ || !free_.empty() || buffers_.size() < std::size_t{kPieces};
    });
    if (cancelled_) return nullptr;
    if (!free_.empty()) {
        unsigned char* buffer = free_.back();
        free_.pop_back();
        return buffer;
    }
    buffers_.push_back(uninitialised(kPieceBytes));
    return buffers_.back().get();
}

void ArrayStream::read_ahead() {
    try {
        std::uint64_t total = 0;  // data bytes handed over
        bool first = true;
        for (;;) {
            unsigned char* buffer = take_buffer();
            if (buffer == nullptr) return;
            std::size_t want = kPieceBytes;
            if (data_bytes_)
                want =
                    static_cast<std::size_t>(std::min<std::uint64_t>(want, *data_bytes_ - total));
            std::size_t got = 0;
            if (first) {  // raw data read with the header's bytes
                got = std::min(head_.size(), want);
                std::copy_n(head_.begin(), got, buffer);
                first = false;
            }
            got += fill(buffer + got, want - got);
            if (cancelled_) return;
            total += got;
            const bool at_end = got < want || (data_bytes_ && total == *data_bytes_);
            if (at_end && data_bytes_) {
                if (total < *data_bytes_)
                    bad("truncated: the header describes " + std::to_string(*data_bytes_) +
                        " bytes of data, the stream held " + std::to_string(total));
                unsigned char extra = 0;
                if (fill(&extra, 1) == 1)
                    bad("the stream holds more bytes than its header describes (" +
                        std::to_string(*data_bytes_) + ")");
            } else if (at_end && total % item_ != 0) {
                bad("size " + std::to_string(total) + " is not a multiple of the " +
                    std::string(dtype_name(dtype_)) + " element size (" + std::to_string(item_) +
                    ")");
            }
            if (swap_bytes_) swap_each(buffer, got, item_);
            {
                const std::lock_guard lock(mutex_);
                if (got > 0)
                    filled_.push_back({buffer, got});
                else
                    free_.push_back(buffer);
                ended_ = at_end;
            }
            changed_.notify_all();
            if (at_end) return;
        }
    } catch (...) {
        {
            const std::lock_guard lock(mutex_);
            error_ = std::current_exception();
        }
        changed_.notify_all();
    }
}

std::optional<ArrayView> ArrayStream::next() {
    std::unique_lock lock(mutex_);
    if (held_ != nullptr) {
        free_.push_back(held_);
        held_ = nullptr;
        changed_.notify_all();
    }
    for (;;) {
        if (error_) std::rethrow_exception(error_);
        if (!filled_.empty()) break;
        if (ended_) return std::nullopt;
        changed_.wait_for(lock, std::chrono::milliseconds(kPollMilliseconds));
        throw_if_stopped();
    }
    const Filled piece = filled_.front();
    filled_.pop_front();
    held_ = piece.data;
    return ArrayView{piece.data, piece.bytes / item_, dtype_};
}

}  // namespace gpusum
