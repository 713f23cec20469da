#include "input/sources.hpp"

#include "platform/platform.hpp"
#include "support/parallel.hpp"
#include "support/progress.hpp"
#include "support/stop_signals.hpp"
#include "support/text.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>
#include <thread>
#include <vector>

namespace gpusum {

namespace {

constexpr unsigned char kMagic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

[[noreturn]] void bad(const std::string& why) {
    throw InputError(why);
}

// A strict reader for the Python dict literal NumPy writes as the header.
class HeaderText {
  public:
    explicit HeaderText(std::string_view text) : text_(text) {}

    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n')) ++pos_;
    }
    bool take(char c) {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    void expect(char c, const char* where) {
        if (!take(c)) bad(std::string("malformed .npy header: expected '") + c + "' " + where);
    }
    std::string quoted() {
        skip_space();
        if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
            bad("malformed .npy header: expected a quoted string");
        const char quote = text_[pos_++];
        const std::size_t end = text_.find(quote, pos_);
        if (end == std::string_view::npos) bad("malformed .npy header: unterminated string");
        std::string out(text_.substr(pos_, end - pos_));
        pos_ = end + 1;
        return out;
    }
    std::string word() {
        skip_space();
        const std::size_t start = pos_;
        while (pos_ < text_.size() && std::isalpha(static_cast<unsigned char>(text_[pos_]))) ++pos_;
        return std::string(text_.substr(start, pos_ - start));
    }
    // The raw text of the value here, up to the next ',' or '}': for messages.
    std::string_view value_text() {
        skip_space();
        const std::size_t end = std::min(text_.find_first_of(",}", pos_), text_.size());
        return text_.substr(pos_, end - pos_);
    }
    std::optional<std::uint64_t> number() {
        skip_space();
        std::uint64_t v = 0;
        const std::size_t start = pos_;
        while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
            if (v > (UINT64_MAX - 9) / 10) bad("the .npy shape has a dimension too large");
            v = v * 10 + static_cast<unsigned>(text_[pos_++] - '0');
        }
        if (pos_ == start) return std::nullopt;
        // NumPy on some platforms writes 3L; accept the suffix.
        if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;
        return v;
    }
    std::size_t position() const { return pos_; }
    bool at_end() {
        skip_space();
        return pos_ == text_.size();
    }

  private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

DType npy_dtype(const std::string& descr) {
    if (descr.size() < 2) bad("unsupported .npy dtype '" + descr + "'");
    const char order = descr[0];
    const std::string code = descr.substr(1);
    if (order != '<' && order != '|' && order != '=' && order != '>')
        bad("unsupported .npy dtype '" + descr + "'");
    if (const auto t = parse_dtype("<" + code)) return *t;
    bad("unsupported .npy dtype '" + descr +
        "' (supported: bool, int8..int64, uint8..uint64, float16, float32, float64)");
}

std::string shape_text(const std::vector<std::uint64_t>& dims) {
    std::string out = "(";
    for (std::size_t i = 0; i < dims.size(); ++i) out += (i ? ", " : "") + std::to_string(dims[i]);
    return out + (dims.size() == 1 ? ",)" : ")");
}

}  // namespace

NpyHeader parse_npy_header(std::span<const unsigned char> head,
                           std::optional<std::uint64_t> file_size) {
    if (head.size() < 8 || std::memcmp(head.data(), kMagic, sizeof kMagic) != 0)
        bad("not a .npy file (no \\x93NUMPY magic); for raw binary data give --dtype");
    const unsigned major = head[6];
    const unsigned minor = head[7];
    std::uint64_t header_len = 0;
    std::uint64_t start = 0;
    if (major == 1) {
        if (head.size() < 10) bad("truncated .npy header");
        header_len = head[8] | (head[9] << 8);
        start = 10;
    } else if (major == 2 || major == 3) {
        if (head.size() < 12) bad("truncated .npy header");
        header_len = static_cast<std::uint64_t>(head[8]) |
                     (static_cast<std::uint64_t>(head[9]) << 8) |
                     (static_cast<std::uint64_t>(head[10]) << 16) |
                     (static_cast<std::uint64_t>(head[11]) << 24);
        start = 12;
    } else {
        bad("unsupported .npy format version " + std::to_string(major) + "." +
            std::to_string(minor));
    }
    if (start + header_len > head.size() || (file_size && start + header_len > *file_size))
        bad("truncated .npy header (it claims " + std::to_string(header_len) + " bytes)");

    const std::string_view text(reinterpret_cast<const char*>(head.data() + start), header_len);
    HeaderText h(text);
    h.expect('{', "at the start of the header");
    std::optional<DType> dtype;
    bool big_endian = false;
    std::optional<bool> fortran;
    std::optional<std::vector<std::uint64_t>> dims;
    while (!h.take('}')) {
        const std::string key = h.quoted();
        h.expect(':', "after a key");
        if (key == "descr") {
            if (h.take('['))
                bad("structured dtype (a record of named fields) is not supported; save one "
                    "field, e.g. np.save(path, arr['name'])");
            const std::string descr = h.quoted();
            dtype = npy_dtype(descr);
            big_endian = descr.front() == '>';
        } else if (key == "fortran_order") {
            const std::string_view shown = h.value_text();
            const std::string w = h.word();
            if (w != "True" && w != "False")
                bad("malformed .npy header: fortran_order must be True or False, not " +
                    shortened(shown, 40));
            fortran = w == "True";
        } else if (key == "shape") {
            h.expect('(', "to open the shape");
            std::vector<std::uint64_t> d;
            while (!h.take(')')) {
                const auto n = h.number();
                if (!n)
                    bad("malformed .npy header: the shape must be a tuple of non-negative "
                        "integers");
                d.push_back(*n);
                if (h.take(')')) break;
                h.expect(',', "between shape dimensions");
            }
            dims = std::move(d);
        } else {
            bad("malformed .npy header: unexpected key '" + key + "'");
        }
        if (!h.take(',')) {
            h.expect('}', "to close the header");
            break;
        }
    }
    if (!h.at_end()) bad("malformed .npy header: text after the closing '}'");
    if (!dtype || !fortran || !dims)
        bad("malformed .npy header: it needs descr, fortran_order and shape");

    NpyHeader out;
    out.dtype = *dtype;
    out.big_endian = big_endian;
    out.fortran_order = *fortran;
    out.shape = shape_text(*dims);
    out.count = 1;
    for (const std::uint64_t d : *dims) {
        if (d != 0 && out.count > UINT64_MAX / d)
            bad("the .npy shape " + out.shape + " is too large");
        out.count *= d;
    }
    out.data_offset = start + header_len;
    const std::uint64_t item = dtype_size(out.dtype);
    if (out.count > (UINT64_MAX - out.data_offset) / item)
        bad("the .npy shape " + out.shape + " is too large");
    if (!file_size) return out;  // a stream: its reader counts the data
    const std::uint64_t needed = out.data_offset + out.count * item;
    if (*file_size < needed)
        bad("truncated: the header describes " + std::to_string(out.count * item) +
            " bytes of data, the file holds " + std::to_string(*file_size - out.data_offset));
    if (*file_size > needed)
        bad("the file holds " + std::to_string(*file_size - needed) +
            " bytes more than its header describes");
    return out;
}

namespace {

bool same_file(const platform::FileFacts& a, const platform::FileFacts& b) {
    return a.size == b.size && a.modified_ns == b.modified_ns && a.identity == b.identity;
}

std::string short_name(const std::string& n) {
    return n.size() > 4 && n.ends_with(".npy") ? n.substr(0, n.size() - 4) : n;
}

// The member of a .npz archive named `member` (with or without ".npy"), or
// its only one when no member is named.
ZipMember npz_member(std::span<const unsigned char> archive, const std::string& member,
                     bool named) {
    const std::vector<ZipMember> members = zip_members(archive);
    const ZipMember* chosen = nullptr;
    if (named) {
        for (const ZipMember& m : members)
            if (m.name == member || short_name(m.name) == member) chosen = &m;
    } else if (members.size() == 1) {
        chosen = &members.front();
    }
    if (chosen == nullptr) {
        std::string names;
        for (const ZipMember& m : members)
            names += (names.empty() ? "" : ", ") + short_name(m.name);
        const std::string listed = members.empty() ? "no arrays"
                                                   : std::to_string(members.size()) + " arrays (" +
                                                         shortened(names, 200) + ")";
        if (named)
            bad("the .npz archive has no array '" + shortened(member) + "'; it holds " + listed);
        if (members.empty()) bad("an empty .npz archive: it holds no arrays");
        bad("a .npz archive of " + listed +
            ": name one, e.g. --input FILE.npz:" + short_name(members.front().name));
    }
    if (!chosen->stored && !chosen->deflated)
        bad("array '" + short_name(chosen->name) +
            "' is compressed by a method other than deflate, which is not supported; save it "
            "with np.savez or np.savez_compressed");
    return *chosen;
}

bool is_zip(std::span<const unsigned char> bytes) {
    return bytes.size() >= 4 && bytes[0] == 'P' && bytes[1] == 'K' &&
           ((bytes[2] == 3 && bytes[3] == 4) || (bytes[2] == 5 && bytes[3] == 6));
}

}  // namespace

InputFile::InputFile(const std::string& name, std::optional<DType> raw_dtype) {
    // "FILE.npz:NAME" names an array in an archive, unless a file has that name.
    std::string path = name, member;
    bool member_named = false;
    if (const auto colon = name.rfind(':');
        colon != std::string::npos && colon > 0 && !platform::path_exists(name)) {
        path = name.substr(0, colon);
        member = name.substr(colon + 1);
        member_named = true;
    }
    auto no_archive = [&] {
        bad("cannot open: " + std::string(std::strerror(ENOENT)) + " (and '" + shortened(path) +
            "' is no .npz archive with an array '" + shortened(member) + "')");
    };
    const bool standard_input = path == "-";
    if (standard_input && platform::is_terminal(0))
        bad("standard input is a terminal: pipe or redirect the data in");
    // no_wait: opening a FIFO must not wait for a writer before it is known
    // to be one (a device is refused below without waiting).
    fd_ =
        standard_input ? platform::duplicate_standard_input() : platform::open_to_read(path, true);
    if (fd_ < 0) bad(std::string("cannot open: ") + std::strerror(errno));
    const bool known = platform::file_facts(fd_, facts_);
    const bool regular = known && facts_.kind == platform::FileKind::regular;
    const bool fifo = known && facts_.kind == platform::FileKind::pipe;
    try {
        if (regular && facts_.size > 0) {
            size_ = facts_.size;
            int error = 0;
            map_ = platform::map_file(fd_, size_, error);
            if (map_ != nullptr)
                platform::advise_sequential(map_, size_);
            else if (error != platform::kNotMappable)
                bad(std::string("cannot map: ") + std::strerror(error));
        }
        if (map_ == nullptr) {
            if (!regular && !fifo && !standard_input) bad("not a regular file, a FIFO or a pipe");
            if (member_named) no_archive();
            int source = fd_;
            if (fifo && !standard_input) {
                // Opened again, waiting for a writer: read now, a FIFO
                // without one would end at once.
                source = platform::open_to_read(path, false);
                if (source < 0) bad(std::string("cannot open: ") + std::strerror(errno));
                platform::close_descriptor(fd_);
            } else if (!standard_input) {
                platform::make_blocking(fd_);
            }
            fd_ = -1;
            stream_ = std::make_unique<ArrayStream>(descriptor_source(source), raw_dtype,
                                                    "read as a stream");
            description_ = stream_->description();
            return;
        }
        std::span<const unsigned char> npy{static_cast<const unsigned char*>(map_), size_};
        std::string where;
        if (is_zip(npy)) {
            if (raw_dtype)
                bad("is a .npz archive: its arrays' headers give the dtype, drop --dtype");
            const ZipMember m = npz_member(npy, member, member_named);
            where = ".npz member '" + short_name(m.name) + "', ";
            npy = npy.subspan(m.data_offset, m.size);
            if (m.deflated) {
                stream_ =
                    std::make_unique<ArrayStream>(inflate_source(npy, m.unpacked, m.crc, true),
                                                  std::nullopt, "inflated as it is read");
                description_ = where + stream_->description();
                return;
            }
        } else if (member_named) {
            no_archive();
        }
        const bool is_npy =
            npy.size() >= sizeof kMagic && std::memcmp(npy.data(), kMagic, sizeof kMagic) == 0;
        if (is_npy) {
            if (raw_dtype) bad("is a .npy file: its header gives the dtype, drop --dtype");
            const NpyHeader h = parse_npy_header(npy, npy.size());
            view_ = {npy.data() + h.data_offset, h.count, h.dtype};
            description_ = where + std::string(dtype_name(h.dtype)) + " .npy array, shape " +
                           h.shape + (h.fortran_order ? ", Fortran order" : "");
            if (h.big_endian && dtype_size(h.dtype) > 1) {
                // Read in place, each element's bytes reversed as it is summed.
                swapped_ = {{h.count}, {static_cast<std::int64_t>(dtype_size(h.dtype))}, true};
                view_.layout = &swapped_;
                description_ += ", big-endian";
            }
        } else if (!where.empty() || !raw_dtype) {
            parse_npy_header(npy, npy.size());  // throws: says what it is not
        } else {
            const std::uint64_t item = dtype_size(*raw_dtype);
            if (size_ % item != 0)
                bad("size " + std::to_string(size_) + " is not a multiple of the " +
                    std::string(dtype_name(*raw_dtype)) + " element size (" + std::to_string(item) +
                    ")");
            view_ = {npy.data(), size_ / item, *raw_dtype};
            description_ = "raw " + std::string(dtype_name(*raw_dtype)) + " data";
        }
    } catch (...) {
        stream_.reset();
        if (map_ != nullptr) platform::unmap(map_, size_);
        if (fd_ >= 0) platform::close_descriptor(fd_);
        throw;
    }
}

std::optional<ArrayView> InputFile::view() const {
    if (stream_) return std::nullopt;
    return view_;
}

bool InputFile::unchanged() const {
    if (map_ == nullptr) return true;  // a stream was read once: nothing to compare
    platform::FileFacts now;
    return platform::file_facts(fd_, now) && same_file(now, facts_);
}

InputFile::~InputFile() {
    stream_.reset();
    if (map_ != nullptr) platform::unmap(map_, size_);
    if (fd_ >= 0) platform::close_descriptor(fd_);
}

std::uint64_t available_memory() {
    return platform::available_memory();  // UINT64_MAX, unknown: the allocation decides
}

HostArray::HostArray(Progression series, unsigned workers, std::uint64_t chunks,
                     Progress* progress) {
    const std::uint64_t needed = series.count * sizeof(std::int64_t);
    const std::uint64_t available = available_memory();
    if (series.count > UINT64_MAX / 8 || needed > available)
        bad("needs " + bytes_text(static_cast<double>(series.count) * 8) + " for the array, " +
            bytes_text(static_cast<double>(available)) + " of memory available");
    constexpr std::uint64_t kHugePage = 2 << 20;
    const std::uint64_t rounded = (needed + kHugePage - 1) / kHugePage * kHugePage;
    size_ = rounded + kHugePage;  // room to start on a huge-page boundary
    map_ = platform::map_memory(size_);
    if (map_ == nullptr) {
        bad("cannot allocate " + bytes_text(static_cast<double>(needed)) + ": " +
            std::strerror(errno));
    }
    // 4 KiB first touches run at a fraction of memory speed; 2 MiB pages do
    // not, but only on 2 MiB-aligned addresses (measured here: 0.95 against
    // 6.9 GB/s for a 4 GiB memset).
    const std::uintptr_t misalignment = reinterpret_cast<std::uintptr_t>(map_) % kHugePage;
    unsigned char* out =
        static_cast<unsigned char*>(map_) + (misalignment == 0 ? 0 : kHugePage - misalignment);
    platform::advise_huge_pages(out, rounded);
    view_ = {out, series.count, DType::int64};
    // Filled in parallel, chunk by chunk, so the first touches (page faults)
    // are spread over every worker instead of serialised on one.
    const std::uint64_t used = effective_chunks(series.count, chunks);
    for_each_index(used, std::max(workers, 1U), [&](std::uint64_t c) {
        throw_if_stopped();
        const Progression part = gpusum::chunk_of(series, used, c);
        const std::uint64_t begin = chunk_begin(series.count, used, c);
        std::uint64_t x = static_cast<std::uint64_t>(part.first);
        for (std::uint64_t i = 0; i < part.count; ++i) {
            std::memcpy(out + (begin + i) * 8, &x, 8);
            x += static_cast<std::uint64_t>(part.step);
        }
        if (progress != nullptr) progress->advance(part.count);
    });
}

HostArray::~HostArray() {
    if (map_ != nullptr) platform::unmap(map_, size_);
}

}  // namespace gpusum
