// Nodes that move elements without arithmetic: concatenation along an axis
// and gathering rows by index (embeddings, mini-batches). Reshape and
// flatten are views (members of active_tensor) and record nothing.
// Layer: tensor.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <etape/tensor/axis.hpp>
#include <etape/tensor/node_input.hpp>

namespace etape {

/// The tensors of `parts` joined along `axis`; all other extents must agree.
/// One tape node.
template <class T>
[[nodiscard]] active_tensor<T> concat(std::span<const active_tensor<T>> parts, std::size_t axis = 0)
{
    if (parts.empty())
        throw shape_error("etape: concat of no tensors");
    tape<T>& t = active_tape<T>();
    const shape& first_shape = parts[0].shape();
    const auto split0 = detail::split_at(first_shape, axis, "concat");
    std::vector<std::size_t> extents(first_shape.extents().begin(), first_shape.extents().end());
    extents[axis] = 0;
    for (const auto& p : parts) {
        p.check_on(t);
        if (p.rank() != first_shape.rank())
            detail::throw_shape_mismatch("concat", first_shape, p.shape());
        for (std::size_t a = 0; a < first_shape.rank(); ++a)
            if (a != axis && p.shape()[a] != first_shape[a])
                detail::throw_shape_mismatch("concat", first_shape, p.shape());
        extents[axis] += p.shape()[axis];
    }
    const shape out_shape{std::span<const std::size_t>(extents)};
    const std::size_t total_extent = extents[axis];

    // per part: first slot, values, extent along the axis
    struct part {
        slot_index first;
        const T* values;
        std::size_t extent;
    };
    auto* list = t.template allocate_scratch<part>(parts.size());
    for (std::size_t i = 0; i < parts.size(); ++i)
        list[i] = {parts[i].first_slot(), parts[i].data(), parts[i].shape()[axis]};
    const std::size_t count = parts.size(), outer = split0.outer, inner = split0.inner;

    T* y = t.template allocate_scratch<T>(out_shape.size());
    for (std::size_t o = 0; o < outer; ++o) {
        std::size_t offset = 0;
        for (std::size_t i = 0; i < count; ++i) {
            const std::size_t block = list[i].extent * inner;
            std::copy(list[i].values + o * block, list[i].values + (o + 1) * block,
                      y + (o * total_extent + offset) * inner);
            offset += list[i].extent;
        }
    }
    std::vector<node_operand<T>> operands; // anomaly mode's view of the parts
    if (t.detecting_anomalies())
        for (const auto& p : parts)
            operands.push_back({p.first_slot(), p.shape().size(), p.data()});
    std::vector<node_input_slots> written; // the plan's (record_node)
    written.reserve(parts.size());
    for (const auto& p : parts)
        written.push_back({p.first_slot(), static_cast<slot_index>(p.size()), false});
    const slot_index first = t.record_node(
        out_shape.size(),
        [list, count, outer, inner, total_extent](T* adjoints, slot_index, first_writes, const T* output_adjoints) {
            for (std::size_t o = 0; o < outer; ++o) {
                std::size_t offset = 0;
                for (std::size_t i = 0; i < count; ++i) {
                    const std::size_t block = list[i].extent * inner;
                    T* __restrict dx = adjoints + list[i].first + o * block;
                    const T* __restrict dy = output_adjoints + (o * total_extent + offset) * inner;
                    for (std::size_t j = 0; j < block; ++j)
                        dx[j] += dy[j];
                    offset += list[i].extent;
                }
            }
        },
        {"concat", operands}, std::span<const node_input_slots>(written));
    return active_tensor<T>(y, out_shape, first, t);
}

template <class T>
[[nodiscard]] active_tensor<T> concat(std::initializer_list<active_tensor<T>> parts, std::size_t axis = 0)
{
    return concat(std::span<const active_tensor<T>>(parts.begin(), parts.size()), axis);
}

/// Rows `indices` of x (its first axis), in that order; an index may repeat,
/// and its gradients add up. An index out of range throws std::out_of_range
/// naming the index and the extent. One tape node.
template <class X, class T = typename std::remove_cvref_t<X>::value_type>
    requires tensor_expression<X>
[[nodiscard]] active_tensor<T> gather_rows(const X& x, std::span<const std::size_t> indices)
{
    const auto in = detail::as_node_input<T>(x);
    if (in.shape.rank() == 0)
        throw shape_error("etape: gather_rows of a scalar");
    const std::size_t rows = in.shape[0];
    const std::size_t row = rows == 0 ? 0 : in.shape.size() / rows;
    for (std::size_t r = 0; r < indices.size(); ++r)
        if (indices[r] >= rows)
            throw std::out_of_range("etape: gather_rows: index " + std::to_string(indices[r]) + " (position " +
                                    std::to_string(r) + ") out of range for extent " + std::to_string(rows));
    std::array<std::size_t, shape::max_rank> extents{};
    std::copy(in.shape.extents().begin(), in.shape.extents().end(), extents.begin());
    extents[0] = indices.size();
    const shape out_shape{std::span<const std::size_t>(extents.data(), in.shape.rank())};

    tape<T>& t = active_tape<T>();
    auto* index = t.template allocate_scratch<std::uint32_t>(indices.size());
    T* y = t.template allocate_scratch<T>(out_shape.size());
    for (std::size_t r = 0; r < indices.size(); ++r) {
        index[r] = static_cast<std::uint32_t>(indices[r]);
        std::copy(in.values + indices[r] * row, in.values + (indices[r] + 1) * row, y + r * row);
    }
    const std::size_t count = indices.size();
    const slot_index input = in.first;
    const node_operand<T> operand = in.operand();
    const node_input_slots written = in.slots();
    const slot_index first = t.record_node(
        out_shape.size(),
        [index, count, row, input](T* adjoints, slot_index, first_writes, const T* output_adjoints) {
        for (std::size_t r = 0; r < count; ++r) {
            T* __restrict dx = adjoints + input + index[r] * row;
            const T* __restrict dy = output_adjoints + r * row;
            for (std::size_t j = 0; j < row; ++j)
                dx[j] += dy[j];
        }
        },
        {"gather_rows", std::span(&operand, 1)}, std::span(&written, 1));
    return active_tensor<T>(y, out_shape, first, t);
}

template <class X, class T = typename std::remove_cvref_t<X>::value_type>
    requires tensor_expression<X>
[[nodiscard]] active_tensor<T> gather_rows(const X& x, const std::vector<std::size_t>& indices)
{
    return gather_rows(x, std::span<const std::size_t>(indices));
}

} // namespace etape
