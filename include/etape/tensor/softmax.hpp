// Softmax, log-softmax along the last axis, and the fused softmax
// cross-entropy over class indices, each one tape node. Every row is
// shifted by its maximum first, so no exponential overflows.
// Layer: tensor.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <etape/tensor/node_input.hpp>

namespace etape {

namespace detail {

/// Writes softmax(x_row) into p_row and returns log(sum(exp(x_row - max))) + max.
template <class T>
T softmax_row(const T* x, T* p, std::size_t columns) noexcept
{
    T m = x[0];
    for (std::size_t c = 1; c < columns; ++c)
        m = std::max(m, x[c]);
    accumulator_t<T> s = 0;
    for (std::size_t c = 0; c < columns; ++c) {
        p[c] = std::exp(x[c] - m);
        s += p[c];
    }
    const T inv = static_cast<T>(1 / s);
    for (std::size_t c = 0; c < columns; ++c)
        p[c] *= inv;
    return m + static_cast<T>(std::log(s));
}

/// A tensor seen as rows along its last axis.
struct row_layout {
    std::size_t rows;
    std::size_t columns;
};

inline row_layout rows_for(const shape& s, const char* operation)
{
    if (s.rank() == 0)
        throw shape_error(std::string("etape: ") + operation + " needs rank >= 1, got a scalar");
    const std::size_t columns = s.last();
    return {columns == 0 ? 0 : s.size() / columns, columns};
}

} // namespace detail

/// softmax along the last axis: y = exp(x - max) / sum. Reverse:
/// dx = y * (dy - sum(dy * y)) per row, from the saved output.
template <class X, class T = typename std::remove_cvref_t<X>::value_type>
    requires tensor_expression<X>
[[nodiscard]] active_tensor<T> softmax(const X& x)
{
    const auto in = detail::as_node_input<T>(x);
    const auto layout = detail::rows_for(in.shape, "softmax");
    const std::size_t rows = layout.rows, columns = layout.columns;
    tape<T>& t = active_tape<T>();
    T* y = t.template allocate_scratch<T>(in.shape.size());
    for (std::size_t r = 0; r < rows; ++r)
        (void)detail::softmax_row(in.values + r * columns, y + r * columns, columns);
    const slot_index input = in.first;
    const node_operand<T> operand = in.operand();
    const node_input_slots written = in.slots();
    const slot_index first = t.record_node(
        in.shape.size(),
        [y, rows, columns, input](T* adjoints, slot_index, first_writes, const T* output_adjoints) {
            for (std::size_t r = 0; r < rows; ++r) {
                const T* __restrict p = y + r * columns;
                const T* __restrict dy = output_adjoints + r * columns;
                T* __restrict dx = adjoints + input + r * columns;
                T dot = 0;
                for (std::size_t c = 0; c < columns; ++c)
                    dot += dy[c] * p[c];
                for (std::size_t c = 0; c < columns; ++c)
                    dx[c] += p[c] * (dy[c] - dot);
            }
        },
        {"softmax", std::span(&operand, 1)}, std::span(&written, 1));
    return active_tensor<T>(y, in.shape, first, t);
}

/// log softmax along the last axis: y = x - logsumexp(x). Reverse:
/// dx = dy - softmax * sum(dy) per row (the softmax is kept from the forward).
template <class X, class T = typename std::remove_cvref_t<X>::value_type>
    requires tensor_expression<X>
[[nodiscard]] active_tensor<T> log_softmax(const X& x)
{
    const auto in = detail::as_node_input<T>(x);
    const auto layout = detail::rows_for(in.shape, "log_softmax");
    const std::size_t rows = layout.rows, columns = layout.columns;
    tape<T>& t = active_tape<T>();
    const std::size_t n = in.shape.size();
    T* y = t.template allocate_scratch<T>(n);
    T* p = t.template allocate_scratch<T>(n);
    for (std::size_t r = 0; r < rows; ++r) {
        const T lse = detail::softmax_row(in.values + r * columns, p + r * columns, columns);
        for (std::size_t c = 0; c < columns; ++c)
            y[r * columns + c] = in.values[r * columns + c] - lse;
    }
    const slot_index input = in.first;
    const node_operand<T> operand = in.operand();
    const node_input_slots written = in.slots();
    const slot_index first = t.record_node(
        n,
        [p, rows, columns, input](T* adjoints, slot_index, first_writes, const T* output_adjoints) {
        for (std::size_t r = 0; r < rows; ++r) {
            const T* __restrict pr = p + r * columns;
            const T* __restrict dy = output_adjoints + r * columns;
            T* __restrict dx = adjoints + input + r * columns;
            T total = 0;
            for (std::size_t c = 0; c < columns; ++c)
                total += dy[c];
            for (std::size_t c = 0; c < columns; ++c)
                dx[c] += dy[c] - pr[c] * total;
        }
        },
        {"log_softmax", std::span(&operand, 1)}, std::span(&written, 1));
    return active_tensor<T>(y, in.shape, first, t);
}

/// Mean over the rows of -log softmax(logits)[row, label[row]], for logits
/// [rows, classes] and one class index per row. Reverse:
/// dlogits = (softmax - onehot(label)) / rows. One tape node. A label out of
/// range throws std::out_of_range naming the row, the label and the classes.
template <class X, class T = typename std::remove_cvref_t<X>::value_type>
    requires tensor_expression<X>
[[nodiscard]] var<T> softmax_cross_entropy(const X& logits, std::span<const std::size_t> labels)
{
    const auto in = detail::as_node_input<T>(logits);
    if (in.shape.rank() != 2)
        throw shape_error("etape: softmax_cross_entropy needs logits [rows, classes], got " + in.shape.to_string());
    const std::size_t rows = in.shape[0], columns = in.shape[1];
    if (labels.size() != rows)
        throw shape_error("etape: softmax_cross_entropy: " + std::to_string(labels.size()) + " labels for logits " +
                          in.shape.to_string());
    for (std::size_t r = 0; r < rows; ++r)
        if (labels[r] >= columns)
            throw std::out_of_range("etape: softmax_cross_entropy: label " + std::to_string(labels[r]) + " of row " +
                                    std::to_string(r) + " out of range for " + std::to_string(columns) + " classes");
    tape<T>& t = active_tape<T>();
    T* p = t.template allocate_scratch<T>(rows * columns);
    auto* label = t.template allocate_scratch<std::size_t>(rows);
    detail::accumulator_t<T> loss = 0;
    for (std::size_t r = 0; r < rows; ++r) {
        const T lse = detail::softmax_row(in.values + r * columns, p + r * columns, columns);
        loss += lse - in.values[r * columns + labels[r]];
        label[r] = labels[r];
    }
    const T scale = rows == 0 ? T(0) : T(1) / static_cast<T>(rows);
    const slot_index input = in.first;
    const node_operand<T> operand = in.operand();
    const node_input_slots written = in.slots();
    const slot_index first = t.record_node(
        1,
        [p, label, rows, columns, scale, input](T* adjoints, slot_index, first_writes, const T* output_adjoints) {
            const T g = output_adjoints[0] * scale;
            for (std::size_t r = 0; r < rows; ++r) {
                T* __restrict dx = adjoints + input + r * columns;
                const T* __restrict pr = p + r * columns;
                for (std::size_t c = 0; c < columns; ++c)
                    dx[c] += g * pr[c];
                dx[label[r]] -= g;
            }
        },
        {"softmax_cross_entropy", std::span(&operand, 1)}, std::span(&written, 1));
    return var<T>::with_stamp(first, static_cast<T>(loss) * scale, var<T>::stamp_of(t, first));
}

template <class X, class T = typename std::remove_cvref_t<X>::value_type>
    requires tensor_expression<X>
[[nodiscard]] var<T> softmax_cross_entropy(const X& logits, const std::vector<std::size_t>& labels)
{
    return softmax_cross_entropy(logits, std::span<const std::size_t>(labels));
}

} // namespace etape
