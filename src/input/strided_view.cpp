// Views of arrays laid out by shape and strides, as the buffer protocol and
// DLPack describe them (array.hpp).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "gpusum/array.hpp"
#include "gpusum/errors.hpp"

namespace gpusum {

ArrayView strided_view(const unsigned char* origin, DType dtype,
                       std::span<const std::int64_t> shape, std::span<const std::int64_t> strides,
                       bool swapped, Layout& layout) {
    if (strides.size() != shape.size())
        throw InputError("the array has " + std::to_string(strides.size()) + " strides for " +
                         std::to_string(shape.size()) + " dimensions");
    for (const std::int64_t n : shape)
        if (n < 0) throw InputError("the array's shape has a negative extent");
    const auto itemsize = static_cast<std::int64_t>(dtype_size(dtype));
    std::uint64_t count = 1;
    for (const auto n : shape) count *= static_cast<std::uint64_t>(n);
    if (count == 0) return {origin, 0, dtype};
    layout = {{}, {}, swapped};
    for (std::size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] == 1) continue;
        if (!layout.shape.empty() && layout.strides.back() == strides[d] * shape[d]) {
            layout.shape.back() *= static_cast<std::uint64_t>(shape[d]);
            layout.strides.back() = strides[d];
            continue;
        }
        layout.shape.push_back(static_cast<std::uint64_t>(shape[d]));
        layout.strides.push_back(strides[d]);
    }
    // One block if the |strides|, sorted, step by the extents below them.
    std::vector<std::pair<std::int64_t, std::int64_t>> dims;  // |stride|, extent
    std::int64_t lowest = 0;                                  // bytes from origin
    for (std::size_t d = 0; d < layout.shape.size(); ++d) {
        const std::int64_t stride = layout.strides[d];
        const auto extent = static_cast<std::int64_t>(layout.shape[d]);
        if (stride < 0) lowest += stride * (extent - 1);
        dims.emplace_back(stride < 0 ? -stride : stride, extent);
    }
    std::sort(dims.begin(), dims.end());
    std::int64_t expected = itemsize;
    bool dense = !swapped;
    for (const auto& [stride, extent] : dims) {
        dense = dense && stride == expected;
        expected *= extent;
    }
    if (dense) return {origin + lowest, count, dtype};
    return {origin, count, dtype, &layout};
}

}  // namespace gpusum
