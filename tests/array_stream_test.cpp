// ArrayStream: the bytes of a stream handed over a piece at a time by a
// reader thread, in order, whole, and in bounded memory.
#include <doctest/doctest.h>
#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#else
#include <sys/socket.h>
#include <unistd.h>
#endif

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include "helpers/npy_writer.hpp"
#include "input/array_stream.hpp"
#ifndef _WIN32
#include "platform/posix.hpp"
#endif

using gpusum::ArrayStream;
using gpusum::DType;

namespace {

// Writes `bytes` into a socket in writes of random sizes from its own
// thread; the stream reads the other end. A socket rather than a pipe: a
// write after the reader closed fails (kSendNoSignal) instead of raising
// SIGPIPE in the test program. Windows has no SIGPIPE: a pipe there.
#ifdef _WIN32
long send_some(int fd, const char* data, std::size_t n) {
    return ::_write(fd, data, static_cast<unsigned>(n));
}
void close_end(int fd) {
    ::_close(fd);
}
bool connected_pair(int (&ends)[2]) {
    return ::_pipe(ends, 1 << 16, _O_BINARY) == 0;
}
#else
long send_some(int fd, const char* data, std::size_t n) {
    return ::send(fd, data, n, gpusum::platform::kSendNoSignal);
}
void close_end(int fd) {
    ::close(fd);
}
bool connected_pair(int (&ends)[2]) {
    return gpusum::platform::socket_pair(ends);
}
#endif

class Writer {
  public:
    explicit Writer(std::string bytes) : bytes_(std::move(bytes)) {
        REQUIRE(connected_pair(ends_));
        thread_ = std::thread([this] {
            std::mt19937 random(3);
            std::size_t at = 0;
            while (at < bytes_.size()) {
                const std::size_t n =
                    std::min<std::size_t>(bytes_.size() - at, 1 + random() % 300'000);
                const long sent = send_some(ends_[1], bytes_.data() + at, n);
                if (sent <= 0) break;  // the reader has gone
                at += static_cast<std::size_t>(sent);
            }
            close_end(ends_[1]);
        });
    }
    ~Writer() { thread_.join(); }
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    int read_end() const { return ends_[0]; }

  private:
    std::string bytes_;
    int ends_[2] = {-1, -1};
    std::thread thread_;
};

}  // namespace

TEST_CASE("array stream: every byte once, in order, in pieces of at most 32 MiB") {
    // 70 MB of int32: three pieces, the last one short.
    std::string data;
    data.resize(70'000'000);
    std::mt19937 random(5);
    for (char& c : data) c = static_cast<char>(random());
    for (const bool npy : {false, true}) {
        CAPTURE(npy);
        const std::string bytes =
            npy ? testfiles::npy_bytes("<i4", "(17500000,)", data.data(), data.size()) : data;
        Writer writer(bytes);
        ArrayStream stream(gpusum::descriptor_source(writer.read_end()),
                           npy ? std::nullopt : std::optional(DType::int32), "read as a stream");
        CHECK(stream.dtype() == DType::int32);
        CHECK(stream.announced_elements() ==
              (npy ? std::optional<std::uint64_t>(17'500'000) : std::nullopt));
        std::string seen;
        int pieces = 0;
        while (const auto piece = stream.next()) {
            CHECK(piece->bytes() <= ArrayStream::kPieceBytes);
            seen.append(reinterpret_cast<const char*>(piece->data), piece->bytes());
            ++pieces;
        }
        CHECK(pieces == 3);
        CHECK(seen == data);
        CHECK(stream.bytes_read() == bytes.size());
        CHECK(!stream.next());  // the end stays the end
    }
}

TEST_CASE("array stream: big-endian elements are swapped as they are read") {
    const std::uint16_t values[3] = {0x0102, 0x0304, 0xff00};
    Writer writer(testfiles::npy_bytes(">u2", "(3,)", values, sizeof values));
    ArrayStream stream(gpusum::descriptor_source(writer.read_end()), std::nullopt, "read");
    const auto piece = stream.next();
    REQUIRE(piece);
    std::uint16_t got[3];
    std::memcpy(got, piece->data, sizeof got);
    CHECK(got[0] == 0x0201);
    CHECK(got[1] == 0x0403);
    CHECK(got[2] == 0x00ff);
    CHECK(stream.description().find("big-endian") != std::string::npos);
}

TEST_CASE("array stream: left before its end, the reader stops and nothing waits") {
    std::string ones;
    ones.resize(200'000'000, '\1');
    Writer writer(ones);
    std::chrono::steady_clock::time_point left;
    {
        ArrayStream stream(gpusum::descriptor_source(writer.read_end()), DType::uint8, "read");
        REQUIRE(stream.next());
        left = std::chrono::steady_clock::now();
    }  // joins the reader; the writer's next send fails and it ends
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - left).count();
    CHECK(seconds < 1.0);
}
