// Builds without zlib: compressed .npz members are refused with the reason.
#include "gpusum/errors.hpp"
#include "input/array_stream.hpp"

namespace gpusum {

std::unique_ptr<ByteSource> inflate_source(std::span<const unsigned char>, std::uint64_t,
                                           std::uint32_t, bool) {
    throw InputError(
        "the array is compressed (np.savez_compressed) and this build of gpusum has no zlib to "
        "inflate it; rebuild with zlib (Debian: zlib1g-dev), or save it with np.savez");
}

}  // namespace gpusum
