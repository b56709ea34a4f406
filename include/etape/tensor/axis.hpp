// Splitting a shape around one axis: outer x extent x inner, the loop
// structure every axis-wise node (reductions, softmax, concat) uses.
// Layer: tensor.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <etape/tensor/shape.hpp>

namespace etape::detail {

/// Element (o, k, j) of the split is flat index (o * extent + k) * inner + j.
struct axis_split {
    std::size_t outer = 1;
    std::size_t extent = 1;
    std::size_t inner = 1;
};

[[nodiscard]] inline axis_split split_at(const shape& s, std::size_t axis, const char* operation)
{
    if (axis >= s.rank())
        throw shape_error(std::string("etape: ") + operation + ": axis " + std::to_string(axis) +
                          " of a tensor of shape " + s.to_string());
    axis_split split;
    for (std::size_t a = 0; a < axis; ++a)
        split.outer *= s[a];
    split.extent = s[axis];
    for (std::size_t a = axis + 1; a < s.rank(); ++a)
        split.inner *= s[a];
    return split;
}

/// `s` without `axis`.
[[nodiscard]] inline shape without_axis(const shape& s, std::size_t axis)
{
    std::vector<std::size_t> extents;
    for (std::size_t a = 0; a < s.rank(); ++a)
        if (a != axis)
            extents.push_back(s[a]);
    return shape{std::span<const std::size_t>(extents)};
}

} // namespace etape::detail
