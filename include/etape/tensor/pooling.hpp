// Max and average pooling over the two spatial axes of an NCHW batch: square
// windows, no padding, each pooling one tape node. Layer: tensor.
//
// Window (i, j) of image plane (n, c) covers rows i s .. i s + size - 1 and
// columns j s .. j s + size - 1:
//     max: y[n, c, i, j] = x[a(n, c, i, j)], a = the window's first maximum
//          (its first NaN, if any: NaN propagates); dx[a] += dy
//     avg: y[n, c, i, j] = sum_window x / size^2;  dx[window] += dy / size^2
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include <etape/tensor/node_input.hpp>

namespace etape {

struct pool2d_options {
    std::size_t size = 2;   ///< the window is size x size, at least 1
    std::size_t stride = 2; ///< at least 1, the same along both axes
};

namespace detail {

/// The extents of one pooling: `planes` = N C image planes of H x W, each
/// pooled to OH x OW.
struct pool2d_geometry {
    std::size_t planes, h, w;
    std::size_t oh, ow;
    std::size_t size, stride;
};

/// Checks the shape and options; `operation` names the pooling in messages.
[[nodiscard]] inline pool2d_geometry pool2d_geometry_of(std::string_view operation, const shape& x,
                                                        const pool2d_options& options)
{
    const std::string name(operation);
    if (options.size == 0 || options.stride == 0)
        throw std::invalid_argument("etape: " + name + " needs a window size and a stride of at least 1, got size " +
                                    std::to_string(options.size) + " and stride " + std::to_string(options.stride));
    // the window as text, not as a shape: a huge one has more elements than a shape may
    // appended, not `"[" + std::to_string(...)`: g++ 12 -O3 warns -Wrestrict (falsely) in that operator+
    std::string window(1, '[');
    window.append(std::to_string(options.size)).append(", ").append(std::to_string(options.size)).append("]");
    if (x.rank() != 4)
        throw shape_error("etape: shape mismatch in " + name + " (needs x [N, C, H, W] and a window [size, size]): " +
                          x.to_string() + " and " + window);
    if (options.size > x[2] || options.size > x[3])
        throw shape_error("etape: shape mismatch in " + name + " (window larger than the input): " + x.to_string() +
                          " and " + window);
    pool2d_geometry g{};
    g.planes = x[0] * x[1];
    g.h = x[2];
    g.w = x[3];
    g.oh = (g.h - options.size) / options.stride + 1;
    g.ow = (g.w - options.size) / options.stride + 1;
    g.size = options.size;
    g.stride = options.stride;
    return g;
}

/// Reverse of max pooling: each output's adjoint goes to its saved argmax,
/// an offset into the input's slots (which fit a slot_index).
template <class T>
struct max_pool2d_reverse {
    slot_index input;
    const slot_index* argmax;
    std::size_t size;

    void operator()(T* adjoints, slot_index, first_writes, const T* __restrict dy) const noexcept
    {
        T* __restrict dx = adjoints + input;
        for (std::size_t k = 0; k < size; ++k)
            dx[argmax[k]] += dy[k];
    }
};

/// Reverse of average pooling: dx[window] += dy / size^2.
template <class T>
struct avg_pool2d_reverse {
    slot_index input;
    pool2d_geometry g;

    void operator()(T* adjoints, slot_index, first_writes, const T* output_adjoints) const noexcept
    {
        const T inverse = T(1) / static_cast<T>(g.size * g.size);
        for (std::size_t plane = 0; plane < g.planes; ++plane)
            for (std::size_t i = 0; i < g.oh; ++i) {
                const T* __restrict dy = output_adjoints + (plane * g.oh + i) * g.ow;
                for (std::size_t p = 0; p < g.size; ++p) {
                    T* __restrict dx = adjoints + input + (plane * g.h + i * g.stride + p) * g.w;
                    for (std::size_t q = 0; q < g.size; ++q)
                        for (std::size_t j = 0; j < g.ow; ++j)
                            dx[j * g.stride + q] += inverse * dy[j];
                }
            }
    }
};

} // namespace detail

/// Max pooling of an active x [N, C, H, W] (or an expression, recorded
/// first): y [N, C, OH, OW] with OH = (H - size) / stride + 1 (likewise OW).
/// Stores one index per output in the tape's arena. One tape node.
template <tensor_expression X>
[[nodiscard]] active_tensor<typename X::value_type> max_pool2d(const X& x, pool2d_options options = {})
{
    using T = typename X::value_type;
    const detail::node_input<T> ix = detail::as_node_input<T>(x);
    const detail::pool2d_geometry g = detail::pool2d_geometry_of("max_pool2d", ix.shape, options);
    const std::size_t size = g.planes * g.oh * g.ow;
    tape<T>& t = active_tape<T>();
    T* y = t.template allocate_scratch<T>(size);
    slot_index* argmax = t.template allocate_scratch<slot_index>(size);
    // One output row at a time, the window's elements in order, each against
    // the whole row's running maxima: the windows of a row are independent and
    // the inner loop vectorises, where one window after the other is one long
    // dependency chain.
    for (std::size_t plane = 0; plane < g.planes; ++plane) {
        const std::size_t plane_at = plane * g.h * g.w;
        const T* xp = ix.values + plane_at;
        for (std::size_t i = 0; i < g.oh; ++i) {
            const std::size_t out = (plane * g.oh + i) * g.ow, top = i * g.stride * g.w;
            T* __restrict best = y + out;
            slot_index* __restrict at = argmax + out;
            for (std::size_t j = 0; j < g.ow; ++j) {
                best[j] = xp[top + j * g.stride];
                at[j] = static_cast<slot_index>(plane_at + top + j * g.stride);
            }
            for (std::size_t p = 0; p < g.size; ++p)
                for (std::size_t q = p == 0 ? 1 : 0; q < g.size; ++q) {
                    const std::size_t offset = top + p * g.w + q;
                    const T* __restrict row = xp + offset;
                    for (std::size_t j = 0; j < g.ow; ++j) {
                        const T v = row[j * g.stride];
                        // strictly greater, or the first NaN: ties keep the first maximum
                        const bool take = !(v <= best[j]) && best[j] == best[j];
                        best[j] = take ? v : best[j];
                        at[j] = take ? static_cast<slot_index>(plane_at + offset + j * g.stride) : at[j];
                    }
                }
        }
    }
    const node_operand<T> operand = ix.operand();
    const node_input_slots written = ix.slots();
    const slot_index first = t.record_node(size, detail::max_pool2d_reverse<T>{ix.first, argmax, size},
                                           {"max_pool2d", std::span(&operand, 1)}, std::span(&written, 1));
    return active_tensor<T>(y, shape{ix.shape[0], ix.shape[1], g.oh, g.ow}, first, t);
}

/// Average pooling of an active x [N, C, H, W] (or an expression, recorded
/// first) over size x size windows: y [N, C, OH, OW] as for max_pool2d. One
/// tape node.
template <tensor_expression X>
[[nodiscard]] active_tensor<typename X::value_type> avg_pool2d(const X& x, pool2d_options options = {})
{
    using T = typename X::value_type;
    const detail::node_input<T> ix = detail::as_node_input<T>(x);
    const detail::pool2d_geometry g = detail::pool2d_geometry_of("avg_pool2d", ix.shape, options);
    const std::size_t size = g.planes * g.oh * g.ow;
    tape<T>& t = active_tape<T>();
    T* y = t.template allocate_scratch<T>(size);
    std::fill(y, y + size, T(0));
    const T inverse = T(1) / static_cast<T>(g.size * g.size);
    for (std::size_t plane = 0; plane < g.planes; ++plane)
        for (std::size_t i = 0; i < g.oh; ++i) {
            T* __restrict yr = y + (plane * g.oh + i) * g.ow;
            for (std::size_t p = 0; p < g.size; ++p) {
                const T* __restrict xr = ix.values + (plane * g.h + i * g.stride + p) * g.w;
                for (std::size_t q = 0; q < g.size; ++q)
                    for (std::size_t j = 0; j < g.ow; ++j)
                        yr[j] += inverse * xr[j * g.stride + q];
            }
        }
    const node_operand<T> operand = ix.operand();
    const node_input_slots written = ix.slots();
    const slot_index first = t.record_node(size, detail::avg_pool2d_reverse<T>{ix.first, g},
                                           {"avg_pool2d", std::span(&operand, 1)}, std::span(&written, 1));
    return active_tensor<T>(y, shape{ix.shape[0], ix.shape[1], g.oh, g.ow}, first, t);
}

} // namespace etape
