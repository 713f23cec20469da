// libFuzzer target: the .npy header parser must reject any bytes cleanly,
// never crash or read outside the buffer it is given.
#include <cstddef>
#include <cstdint>

#include "input/sources.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const gpusum::NpyHeader h = gpusum::parse_npy_header({data, size}, size);
        // An accepted header describes data that lies inside the buffer.
        if (h.data_offset > size || h.count * gpusum::dtype_size(h.dtype) != size - h.data_offset)
            __builtin_trap();
    } catch (const gpusum::InputError&) {
    }
    return 0;
}
