// Two-dimensional convolution (cross-correlation, as in deep learning) of an
// NCHW batch by a filter bank, with zero padding and an optional bias, as one
// tape node. Layer: tensor.
//
//     y[n, f, i, j] = b[f] + sum_{c, p, q} w[f, c, p, q] x[n, c, i s + p - pad, j s + q - pad]
//
// (x read as 0 outside the image). The reverse is the same sum read three ways:
//     dx[n, c, i s + p - pad, j s + q - pad] += w[f, c, p, q] dy[n, f, i, j]
//     dw[f, c, p, q] += sum_{n, i, j} dy[n, f, i, j] x[n, c, i s + p - pad, j s + q - pad]
//     db[f]          += sum_{n, i, j} dy[n, f, i, j]
// Each image's patches are first laid out as columns (im2col: one row per
// (c, p, q), one column per output position), so that the forward and the
// first two sums of the reverse are matrix products (CBLAS when the build
// has it); the copies run along output rows whose bounds exclude the
// padding, so their inner loops carry no branches.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

#include <etape/tensor/matmul.hpp>
#include <etape/tensor/node_input.hpp>

namespace etape {

struct conv2d_options {
    std::size_t stride = 1;  ///< at least 1, the same along both axes
    std::size_t padding = 0; ///< zeros added on every side of each image
};

namespace detail {

/// The extents of one convolution: input N x C x H x W, filters F x C x KH x KW,
/// output N x F x OH x OW.
struct conv2d_geometry {
    std::size_t n, c, h, w;
    std::size_t f, kh, kw;
    std::size_t oh, ow;
    std::size_t stride, padding;
};

/// The outputs o in [0, out) whose input index o * stride + k - padding lies
/// in [0, in): o >= ceil((padding - k) / stride) and
/// o < ceil((in + padding - k) / stride).
struct output_run {
    std::size_t first, last;

    [[nodiscard]] static output_run of(std::size_t in, std::size_t out, std::size_t stride, std::size_t k,
                                       std::size_t padding) noexcept
    {
        const std::size_t lo = k >= padding ? 0 : ceil_div(padding - k, stride);
        const std::size_t hi = in + padding > k ? std::min(out, ceil_div(in + padding - k, stride)) : 0;
        return {std::min(lo, hi), hi};
    }

    /// ceil(a / b), without the wrap-around of (a + b - 1) / b for a huge stride b.
    [[nodiscard]] static constexpr std::size_t ceil_div(std::size_t a, std::size_t b) noexcept
    {
        return a / b + (a % b != 0 ? 1 : 0);
    }

    /// The input index of output `first` (valid when the run is not empty).
    [[nodiscard]] std::size_t input_of_first(std::size_t stride, std::size_t k, std::size_t padding) const noexcept
    {
        return first * stride + k - padding;
    }

    [[nodiscard]] std::size_t size() const noexcept { return last - first; }
};

/// y[j s] += x[j] for j < count.
template <class T>
void add_strided(std::size_t count, const T* __restrict x, T* __restrict y, std::size_t s) noexcept
{
    if (s == 1)
        for (std::size_t j = 0; j < count; ++j)
            y[j] += x[j];
    else
        for (std::size_t j = 0; j < count; ++j)
            y[j * s] += x[j];
}

/// For kernel offset (p, q), calls visit(out, in, count) once per output row
/// i whose input row i s + p - pad lies inside the image: `count` outputs
/// from offset `out` of the output plane read the inputs from offset `in` of
/// the input plane, `stride` apart. The run is the columns j whose input
/// column j s + q - pad lies inside the image too.
template <class Visit>
void for_each_kernel_row(const conv2d_geometry& g, std::size_t p, std::size_t q, Visit&& visit)
{
    const output_run rows = output_run::of(g.h, g.oh, g.stride, p, g.padding);
    const output_run cols = output_run::of(g.w, g.ow, g.stride, q, g.padding);
    if (rows.size() == 0 || cols.size() == 0)
        return;
    const std::size_t first_row = rows.input_of_first(g.stride, p, g.padding);
    const std::size_t first_col = cols.input_of_first(g.stride, q, g.padding);
    for (std::size_t i = rows.first; i < rows.last; ++i) {
        const std::size_t input_row = first_row + (i - rows.first) * g.stride;
        visit(i * g.ow + cols.first, input_row * g.w + first_col, cols.size());
    }
}

/// Copies one image's input patches into `col` [C KH KW, OH OW]: row (c, p,
/// q) holds, for every output position, the input the kernel's element (p,
/// q) of channel c meets there, 0 where it meets the padding.
template <class T>
void image_to_columns(const conv2d_geometry& g, const T* __restrict image, T* __restrict col) noexcept
{
    const std::size_t plane_in = g.h * g.w, plane_out = g.oh * g.ow;
    for (std::size_t c = 0; c < g.c; ++c)
        for (std::size_t p = 0; p < g.kh; ++p)
            for (std::size_t q = 0; q < g.kw; ++q) {
                T* row = col + ((c * g.kh + p) * g.kw + q) * plane_out;
                const T* xp = image + c * plane_in;
                if (g.padding > 0)
                    std::fill(row, row + plane_out, T(0));
                for_each_kernel_row(g, p, q, [&](std::size_t out, std::size_t in, std::size_t count) {
                    T* __restrict to = row + out;
                    const T* __restrict from = xp + in;
                    if (g.stride == 1)
                        std::copy(from, from + count, to);
                    else
                        for (std::size_t j = 0; j < count; ++j)
                            to[j] = from[j * g.stride];
                });
            }
}

/// The adjoint of image_to_columns: adds each element of `col` to the input
/// it was copied from.
template <class T>
void add_columns_to_image(const conv2d_geometry& g, const T* __restrict col, T* image) noexcept
{
    const std::size_t plane_in = g.h * g.w, plane_out = g.oh * g.ow;
    for (std::size_t c = 0; c < g.c; ++c)
        for (std::size_t p = 0; p < g.kh; ++p)
            for (std::size_t q = 0; q < g.kw; ++q) {
                const T* row = col + ((c * g.kh + p) * g.kw + q) * plane_out;
                T* xp = image + c * plane_in;
                for_each_kernel_row(g, p, q, [&](std::size_t out, std::size_t in, std::size_t count) {
                    add_strided(count, row + out, xp + in, g.stride);
                });
            }
}

/// y = conv2d(x, w) + b, written into y (N x F x OH x OW): per image, the
/// patches as columns (image_to_columns) and one matrix product
/// y_n [F, OH OW] = w [F, C KH KW] col [C KH KW, OH OW], on CBLAS when the
/// build has it. `col` holds C KH KW x OH OW values.
template <class T>
void conv2d_forward(const conv2d_geometry& g, const T* x, const T* w, const T* bias, T* y, T* col) noexcept
{
    const std::size_t plane_in = g.h * g.w, plane_out = g.oh * g.ow, patch = g.c * g.kh * g.kw;
    for (std::size_t n = 0; n < g.n; ++n) {
        T* yn = y + n * g.f * plane_out;
        for (std::size_t f = 0; f < g.f; ++f)
            std::fill(yn + f * plane_out, yn + (f + 1) * plane_out, bias ? bias[f] : T(0));
        image_to_columns(g, x + n * g.c * plane_in, col);
        gemm_accumulate(false, false, g.f, plane_out, patch, w, patch, col, plane_out, yn, plane_out);
    }
}

/// The reverse, per image: dw += dy_n col^T and dcol = w^T dy_n, whose
/// columns add back into dx (add_columns_to_image). `col` and `dcol` are
/// the node's two buffers of C KH KW x OH OW values, written in each sweep.
template <class T>
struct conv2d_reverse {
    node_input<T> x;
    node_input<T> w;
    std::optional<node_input<T>> bias;
    conv2d_geometry g;
    T* col;
    T* dcol;

    void operator()(T* adjoints, slot_index, first_writes, const T* dy) const noexcept
    {
        const std::size_t plane_in = g.h * g.w, plane_out = g.oh * g.ow, patch = g.c * g.kh * g.kw;
        if (bias && bias->active) {
            T* db = bias->adjoints(adjoints);
            for (std::size_t f = 0; f < g.f; ++f) {
                accumulator_t<T> sum = 0;
                for (std::size_t n = 0; n < g.n; ++n) {
                    const T* dyp = dy + (n * g.f + f) * plane_out;
                    for (std::size_t k = 0; k < plane_out; ++k)
                        sum += dyp[k];
                }
                db[f] += static_cast<T>(sum);
            }
        }
        // x and w may be the same tensor: their adjoints are never restrict.
        T* dx = x.active ? x.adjoints(adjoints) : nullptr;
        T* dw = w.active ? w.adjoints(adjoints) : nullptr;
        for (std::size_t n = 0; n < g.n && (dx || dw); ++n) {
            const T* dyn = dy + n * g.f * plane_out;
            if (dw) {
                image_to_columns(g, x.values + n * g.c * plane_in, col);
                gemm_accumulate(false, true, g.f, patch, plane_out, dyn, plane_out, col, plane_out, dw, patch);
            }
            if (dx) {
                std::fill(dcol, dcol + patch * plane_out, T(0));
                gemm_accumulate(true, false, patch, plane_out, g.f, w.values, patch, dyn, plane_out, dcol, plane_out);
                add_columns_to_image(g, dcol, dx + n * g.c * plane_in);
            }
        }
    }
};

/// Checks the shapes and options; returns the geometry of the output.
[[nodiscard]] inline conv2d_geometry conv2d_geometry_of(const shape& x, const shape& w, const shape* bias,
                                                        const conv2d_options& options)
{
    if (options.stride == 0)
        throw std::invalid_argument("etape: conv2d needs a stride of at least 1, got 0");
    if (x.rank() != 4 || w.rank() != 4)
        throw_shape_mismatch("conv2d (needs x [N, C, H, W] and w [F, C, KH, KW])", x, w);
    if (x[1] != w[1])
        throw_shape_mismatch("conv2d (channel counts of x and w differ)", x, w);
    if (w[2] == 0 || w[3] == 0)
        throw_shape_mismatch("conv2d (a kernel extent is 0)", x, w);
    if (options.padding > (std::numeric_limits<std::size_t>::max() - std::max(x[2], x[3])) / 2)
        throw std::invalid_argument("etape: conv2d: padding " + std::to_string(options.padding) +
                                    " is too large for x " + x.to_string());
    const std::size_t padded_h = x[2] + 2 * options.padding, padded_w = x[3] + 2 * options.padding;
    if (w[2] > padded_h || w[3] > padded_w)
        throw_shape_mismatch(
            "conv2d (kernel larger than the input with padding " + std::to_string(options.padding) + ")", x, w);
    if (bias && (bias->rank() != 1 || (*bias)[0] != w[0]))
        throw_shape_mismatch("conv2d (bias needs one value per filter of w)", w, *bias);
    conv2d_geometry g{};
    g.n = x[0];
    g.c = x[1];
    g.h = x[2];
    g.w = x[3];
    g.f = w[0];
    g.kh = w[2];
    g.kw = w[3];
    g.oh = (padded_h - g.kh) / options.stride + 1;
    g.ow = (padded_w - g.kw) / options.stride + 1;
    g.stride = options.stride;
    g.padding = options.padding;
    require_result_fits("conv2d", {g.n, g.f, g.oh, g.ow});
    return g;
}

template <class T>
[[nodiscard]] active_tensor<T> conv2d_node(node_input<T> x, node_input<T> w, std::optional<node_input<T>> bias,
                                           const conv2d_options& options)
{
    const conv2d_geometry g = conv2d_geometry_of(x.shape, w.shape, bias ? &bias->shape : nullptr, options);
    const std::size_t size = g.n * g.f * g.oh * g.ow;
    tape<T>& t = active_tape<T>();
    T* y = t.template allocate_scratch<T>(size);
    const std::size_t columns = g.c * g.kh * g.kw * g.oh * g.ow;
    T* col = t.template allocate_scratch<T>(columns);
    T* dcol = t.template allocate_scratch<T>(columns);
    conv2d_forward(g, x.values, w.values, bias ? bias->values : nullptr, y, col);
    const std::array<node_operand<T>, 3> operands{x.operand(), w.operand(),
                                                  bias ? bias->operand() : node_operand<T>{}};
    const std::array<node_input_slots, 3> written{x.slots(), w.slots(), bias ? bias->slots() : node_input_slots{}};
    const slot_index first = t.record_node(size, conv2d_reverse<T>{std::move(x), std::move(w), std::move(bias), g, col, dcol},
                                           {"conv2d", std::span(operands.data(), bias ? 3 : 2)},
                                           std::span<const node_input_slots>(written));
    return active_tensor<T>(y, shape{g.n, g.f, g.oh, g.ow}, first, t);
}

} // namespace detail

/// conv2d(x, w) of a batch x [N, C, H, W] by filters w [F, C, KH, KW]: y [N,
/// F, OH, OW] with OH = (H + 2 padding - KH) / stride + 1 (likewise OW). x
/// and w are active tensors, value tensors or tensor expressions (at least
/// one active). One tape node.
template <class X, class W, class T = typename detail::argument_precision<X>::type>
    requires tensor_argument<X, T> && tensor_argument<W, T> && (tensor_expression<X> || tensor_expression<W>)
[[nodiscard]] active_tensor<T> conv2d(const X& x, const W& w, conv2d_options options = {})
{
    auto ix = detail::as_node_input<T>(x);
    auto iw = detail::as_node_input<T>(w);
    return detail::conv2d_node<T>(std::move(ix), std::move(iw), std::nullopt, options);
}

/// conv2d(x, w) plus bias [F] on every output of filter f. One tape node.
template <class X, class W, class B, class T = typename detail::argument_precision<X>::type>
    requires tensor_argument<X, T> && tensor_argument<W, T> && tensor_argument<B, T> &&
             (tensor_expression<X> || tensor_expression<W> || tensor_expression<B>)
[[nodiscard]] active_tensor<T> conv2d(const X& x, const W& w, const B& bias, conv2d_options options = {})
{
    auto ix = detail::as_node_input<T>(x);
    auto iw = detail::as_node_input<T>(w);
    auto ib = detail::as_node_input<T>(bias);
    return detail::conv2d_node<T>(std::move(ix), std::move(iw), std::move(ib), options);
}

} // namespace etape
