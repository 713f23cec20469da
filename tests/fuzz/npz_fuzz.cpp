// libFuzzer target: the ZIP directory reader behind .npz inputs, the
// inflating stream behind compressed members, and the NumPy dtype
// spellings must reject any bytes cleanly, never crash, hang or read
// outside the buffer they are given.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "input/sources.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // The first bytes as a dtype spelling: whatever it parses to has a size.
    const std::string_view text(reinterpret_cast<const char*>(data), size < 12 ? size : 12);
    if (const auto t = gpusum::parse_dtype(text); t && gpusum::dtype_size(*t) == 0)
        __builtin_trap();
    try {
        for (const gpusum::ZipMember& m : gpusum::zip_members({data, size})) {
            // An accepted member lies inside the buffer.
            if (m.data_offset > size || m.size > size - m.data_offset) __builtin_trap();
            if (!m.deflated) continue;
            // A deflated one inflates through a stream to its end or an error.
            try {
                gpusum::ArrayStream stream(gpusum::inflate_source({data + m.data_offset, m.size},
                                                                  m.unpacked, m.crc, false),
                                           std::nullopt, "inflated");
                while (stream.next()) {
                }
            } catch (const gpusum::InputError&) {
            }
        }
    } catch (const gpusum::InputError&) {
    }
    return 0;
}
