// What a tensor node (matmul, reductions, softmax, conv2d, ...) reads: an
// active tensor, a value tensor, or an expression it first records.
// Layer: tensor (shared by every node that is not elementwise).
#pragma once

#include <optional>
#include <type_traits>

#include <etape/core/active_tape.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/fused_kernel.hpp>
#include <etape/tensor/tensor.hpp>

namespace etape {

/// An argument of a tensor node of precision T.
template <class X, class T>
concept tensor_argument = std::same_as<std::remove_cvref_t<X>, tensor<T>> ||
                          (tensor_expression<X> && std::same_as<typename std::remove_cvref_t<X>::value_type, T>);

namespace detail {

/// A node's view of one argument: its values, shape, and first slot when
/// active. A value tensor's storage is kept alive with the node.
template <class T>
struct node_input {
    const T* values;
    etape::shape shape;
    slot_index first;
    bool active;
    std::optional<tensor<T>> keep_alive;

    [[nodiscard]] T* adjoints(T* all) const noexcept { return all + first; }

    /// How anomaly mode sees this input (no adjoints when passive).
    [[nodiscard]] node_operand<T> operand() const noexcept { return {active ? first : 0, shape.size(), values}; }

    /// The slots whose adjoints the node's reverse adds into (none when
    /// passive), as declared to the tape's plan (record_node).
    [[nodiscard]] node_input_slots slots() const noexcept
    {
        return {active ? first : 0, active ? static_cast<slot_index>(shape.size()) : 0, false};
    }
};

template <class T, class X>
[[nodiscard]] node_input<T> as_node_input(const X& x)
{
    if constexpr (std::same_as<X, tensor<T>>) {
        tensor<T> view = x.reshape(x.shape());
        const T* values = view.data();
        return {values, x.shape(), 0, false, std::move(view)};
    } else if constexpr (std::same_as<X, active_tensor<T>>) {
        x.check_on(active_tape<T>());
        return {x.data(), x.shape(), x.first_slot(), true, std::nullopt};
    } else {
        return as_node_input<T>(active_tensor<T>(x));
    }
}

/// The precision of a node's arguments: the first tensor-like one decides.
template <class A, class... R>
struct argument_precision {
    using type = typename std::remove_cvref_t<A>::value_type;
};

} // namespace detail
} // namespace etape
