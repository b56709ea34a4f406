// Reductions over one axis (sum, mean, amax) and the largest element of a
// whole tensor (amax), each one tape node. The sum and mean of all
// elements are fused kernels (fused_kernel.hpp). amax is named after
// numpy/PyTorch because max(a, b) is the elementwise maximum. Layer: tensor.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include <etape/tensor/axis.hpp>
#include <etape/tensor/node_input.hpp>

namespace etape {

/// Sum over `axis`; the result has that axis removed. One tape node.
template <class X, class T = typename std::remove_cvref_t<X>::value_type>
    requires tensor_expression<X>
[[nodiscard]] active_tensor<T> sum(const X& x, std::size_t axis)
{
    const auto in = detail::as_node_input<T>(x);
    const auto split = detail::split_at(in.shape, axis, "sum");
    const shape out_shape = detail::without_axis(in.shape, axis);
    tape<T>& t = active_tape<T>();
    T* y = t.template allocate_scratch<T>(out_shape.size());
    std::fill(y, y + out_shape.size(), T(0));
    for (std::size_t o = 0; o < split.outer; ++o)
        for (std::size_t k = 0; k < split.extent; ++k) {
            const T* __restrict row = in.values + (o * split.extent + k) * split.inner;
            T* __restrict acc = y + o * split.inner;
            for (std::size_t j = 0; j < split.inner; ++j)
                acc[j] += row[j];
        }
    const slot_index input = in.first;
    const node_operand<T> operand = in.operand();
    const node_input_slots written = in.slots();
    const auto reverse = [split, input](T* adjoints, slot_index, first_writes, const T* output_adjoints) {
        for (std::size_t o = 0; o < split.outer; ++o)
            for (std::size_t k = 0; k < split.extent; ++k) {
                T* __restrict dx = adjoints + input + (o * split.extent + k) * split.inner;
                const T* __restrict dy = output_adjoints + o * split.inner;
                for (std::size_t j = 0; j < split.inner; ++j)
                    dx[j] += dy[j];
            }
    };
    const slot_index first =
        t.record_node(out_shape.size(), reverse, {"sum over an axis", std::span(&operand, 1)}, std::span(&written, 1));
    return active_tensor<T>(y, out_shape, first, t);
}

/// Mean over `axis`.
template <class X, class T = typename std::remove_cvref_t<X>::value_type>
    requires tensor_expression<X>
[[nodiscard]] active_tensor<T> mean(const X& x, std::size_t axis)
{
    const auto extent = static_cast<T>(detail::split_at(detail::shape_of(x), axis, "mean").extent);
    return sum(x, axis) * (T(1) / extent);
}

namespace detail {

/// Reverse of a selection: output i's adjoint goes to input index[i].
template <class T>
struct select_reverse {
    const std::uint32_t* index;
    std::size_t size;
    slot_index input;
    void operator()(T* adjoints, slot_index, first_writes, const T* dy) const noexcept
    {
        for (std::size_t i = 0; i < size; ++i)
            adjoints[input + index[i]] += dy[i];
    }
};

/// True when v should replace the running maximum m (NaN wins, ties keep the first).
template <class T>
bool beats(T v, T m) noexcept
{
    return v > m || (std::isnan(v) && !std::isnan(m));
}

} // namespace detail

/// The largest element over `axis` (NaN propagates; at a tie the gradient
/// goes to the first). One tape node.
template <class X, class T = typename std::remove_cvref_t<X>::value_type>
    requires tensor_expression<X>
[[nodiscard]] active_tensor<T> amax(const X& x, std::size_t axis)
{
    const auto in = detail::as_node_input<T>(x);
    const auto split = detail::split_at(in.shape, axis, "amax");
    if (split.extent == 0)
        throw shape_error("etape: amax over an empty axis of " + in.shape.to_string());
    const shape out_shape = detail::without_axis(in.shape, axis);
    tape<T>& t = active_tape<T>();
    const std::size_t n = out_shape.size();
    T* y = t.template allocate_scratch<T>(n);
    auto* index = t.template allocate_scratch<std::uint32_t>(n);
    for (std::size_t o = 0; o < split.outer; ++o)
        for (std::size_t j = 0; j < split.inner; ++j) {
            std::size_t best = o * split.extent * split.inner + j;
            for (std::size_t k = 1; k < split.extent; ++k) {
                const std::size_t at = (o * split.extent + k) * split.inner + j;
                if (detail::beats(in.values[at], in.values[best]))
                    best = at;
            }
            y[o * split.inner + j] = in.values[best];
            index[o * split.inner + j] = static_cast<std::uint32_t>(best);
        }
    const node_operand<T> operand = in.operand();
    const node_input_slots written = in.slots();
    const slot_index first =
        t.record_node(n, detail::select_reverse<T>{index, n, in.first}, {"amax over an axis", std::span(&operand, 1)},
                      std::span(&written, 1));
    return active_tensor<T>(y, out_shape, first, t);
}

/// The largest element of the whole tensor, as a var. One tape node.
template <class X, class T = typename std::remove_cvref_t<X>::value_type>
    requires tensor_expression<X>
[[nodiscard]] var<T> amax(const X& x)
{
    const auto in = detail::as_node_input<T>(x);
    const std::size_t n = in.shape.size();
    if (n == 0)
        throw shape_error("etape: amax of an empty tensor " + in.shape.to_string());
    std::size_t best = 0;
    for (std::size_t i = 1; i < n; ++i)
        if (detail::beats(in.values[i], in.values[best]))
            best = i;
    tape<T>& t = active_tape<T>();
    auto* index = t.template allocate_scratch<std::uint32_t>(1);
    index[0] = static_cast<std::uint32_t>(best);
    const node_operand<T> operand = in.operand();
    const node_input_slots written = in.slots();
    const slot_index first =
        t.record_node(1, detail::select_reverse<T>{index, 1, in.first}, {"amax", std::span(&operand, 1)},
                      std::span(&written, 1));
    return var<T>::with_stamp(first, in.values[best], var<T>::stamp_of(t, first));
}

} // namespace etape
