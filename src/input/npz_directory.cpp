// The directory of a ZIP archive, as NumPy's .npz files are: read from the
// end (the central directory), with the ZIP64 extensions np.savez uses for
// large arrays. Every offset and size is checked against the file before use.
#include <cstring>

#include "input/sources.hpp"

namespace gpusum {

namespace {

[[noreturn]] void bad_zip(const std::string& why) {
    throw InputError("malformed .npz (ZIP) archive: " + why);
}

class Reader {
  public:
    explicit Reader(std::span<const unsigned char> file) : file_(file) {}
    std::uint64_t get(std::uint64_t at, unsigned bytes) const {
        if (at > file_.size() || bytes > file_.size() - at) bad_zip("a record lies past the end");
        std::uint64_t v = 0;
        for (unsigned i = 0; i < bytes; ++i) v |= std::uint64_t{file_[at + i]} << (8 * i);
        return v;
    }
    std::string text(std::uint64_t at, std::uint64_t length) const {
        if (at > file_.size() || length > file_.size() - at) bad_zip("a name lies past the end");
        return {reinterpret_cast<const char*>(file_.data() + at), length};
    }
    std::uint64_t size() const { return file_.size(); }

  private:
    std::span<const unsigned char> file_;
};

constexpr std::uint32_t kEndOfDirectory = 0x06054b50;
constexpr std::uint32_t kZip64Locator = 0x07064b50;
constexpr std::uint32_t kZip64End = 0x06064b50;
constexpr std::uint32_t kDirectoryEntry = 0x02014b50;
constexpr std::uint32_t kLocalHeader = 0x04034b50;
constexpr std::uint64_t kUnset32 = 0xffffffffu;

}  // namespace

std::vector<ZipMember> zip_members(std::span<const unsigned char> file) {
    const Reader r(file);
    // The end-of-directory record: 22 bytes plus a comment of up to 64 KiB.
    if (r.size() < 22) bad_zip("too short");
    std::uint64_t end = r.size() - 22;
    const std::uint64_t earliest = r.size() > 22 + 0xffff ? r.size() - 22 - 0xffff : 0;
    while (r.get(end, 4) != kEndOfDirectory) {
        if (end == earliest) bad_zip("no end-of-directory record");
        --end;
    }
    std::uint64_t entries = r.get(end + 10, 2);
    std::uint64_t directory = r.get(end + 16, 4);
    if ((directory == kUnset32 || entries == 0xffff) && end >= 20 &&
        r.get(end - 20, 4) == kZip64Locator) {
        const std::uint64_t zip64_end = r.get(end - 20 + 8, 8);
        if (r.get(zip64_end, 4) != kZip64End) bad_zip("bad ZIP64 end-of-directory record");
        entries = r.get(zip64_end + 32, 8);
        directory = r.get(zip64_end + 48, 8);
    }
    if (entries > r.size() / 46) bad_zip("more entries than the file can hold");
    std::vector<ZipMember> members;
    std::uint64_t at = directory;
    for (std::uint64_t e = 0; e < entries; ++e) {
        if (r.get(at, 4) != kDirectoryEntry) bad_zip("bad central directory entry");
        ZipMember m;
        const auto method = r.get(at + 10, 2);
        std::uint64_t packed = r.get(at + 20, 4);
        std::uint64_t unpacked = r.get(at + 24, 4);
        const std::uint64_t name_length = r.get(at + 28, 2);
        const std::uint64_t extra_length = r.get(at + 30, 2);
        const std::uint64_t comment_length = r.get(at + 32, 2);
        std::uint64_t local = r.get(at + 42, 4);
        m.name = r.text(at + 46, name_length);
        // ZIP64: the sizes and offset that did not fit, in this order.
        for (std::uint64_t x = at + 46 + name_length;
             x + 4 <= at + 46 + name_length + extra_length;) {
            const std::uint64_t id = r.get(x, 2), length = r.get(x + 2, 2);
            std::uint64_t field = x + 4;
            if (id == 1) {
                for (std::uint64_t* value : {&unpacked, &packed, &local}) {
                    if (*value != kUnset32) continue;
                    if (field + 8 > x + 4 + length) bad_zip("short ZIP64 field");
                    *value = r.get(field, 8);
                    field += 8;
                }
            }
            x += 4 + length;
        }
        if (r.get(local, 4) != kLocalHeader) bad_zip("bad local header for " + m.name);
        m.data_offset = local + 30 + r.get(local + 26, 2) + r.get(local + 28, 2);
        m.size = packed;
        m.unpacked = unpacked;
        m.crc = static_cast<std::uint32_t>(r.get(at + 16, 4));
        m.stored = method == 0 && packed == unpacked;
        m.deflated = method == 8;
        if (m.data_offset > r.size() || m.size > r.size() - m.data_offset)
            bad_zip(m.name + " lies past the end of the file");
        members.push_back(std::move(m));
        at += 46 + name_length + extra_length + comment_length;
    }
    return members;
}

}  // namespace gpusum
