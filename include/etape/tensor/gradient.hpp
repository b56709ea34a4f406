// Gradients with respect to active tensors (and vars, mixed).
// Layer: tensor (extends core/gradient.hpp).
#pragma once

#include <algorithm>
#include <span>
#include <tuple>

#include <etape/core/gradient.hpp>
#include <etape/core/number_text.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/tensor.hpp>

namespace etape {

namespace detail {

template <class T>
void require_recorded(const tape<T>& t, const active_tensor<T>& x)
{
    if (x.size() > 0 && x.first_slot() + x.size() > t.size())
        throw tape_error("etape: gradient asked of an active tensor that is not on the active tape's recording");
    x.check_on(t);
}

template <class T>
slot_index lowest_slot_of(const var<T>& x)
{
    return x.is_active() ? x.slot() : ~slot_index{0};
}
template <class T>
slot_index lowest_slot_of(const active_tensor<T>& x)
{
    return x.size() > 0 ? x.first_slot() : ~slot_index{0};
}

template <class T>
tensor<T> adjoint_of(tape<T>& t, const active_tensor<T>& x)
{
    if (x.size() == 0)
        return tensor<T>(x.shape());
    return tensor<T>(x.shape(), std::span<const T>(&t.adjoint(x.first_slot()), x.size()));
}

template <class T, class X>
inline constexpr bool is_active_tensor_of = std::same_as<X, active_tensor<T>>;

template <class T>
bool overlaps(const active_tensor<T>& y, const var<T>& x)
{
    return x.is_active() && x.slot() >= y.first_slot() && x.slot() - y.first_slot() < y.size();
}
template <class T>
bool overlaps(const active_tensor<T>& y, const active_tensor<T>& x)
{
    return x.size() > 0 && x.first_slot() < y.first_slot() + y.size() && y.first_slot() < x.first_slot() + x.size();
}

/// The sweep of a vector-Jacobian product: y's adjoints seeded with dy,
/// down to `bottom`. dy is read in place unless y's own adjoints are asked
/// for (an x overlaps y), which sweep_cotangent leaves unspecified.
template <class T>
void sweep_cotangent_from(tape<T>& t, const active_tensor<T>& y, std::span<const T> dy, slot_index bottom,
                          bool y_adjoints_read)
{
    if (dy.size() != y.size())
        throw shape_error("etape::vjp: a cotangent of " + etape::detail::counted(dy.size(), "value") +
                          " for a tensor of shape " + y.shape().to_string());
    require_recorded(t, y);
    const slot_range outputs{y.first_slot(), static_cast<slot_index>(y.size())};
    if (y_adjoints_read || y.size() == 0)
        t.clear_and_sweep(outputs.first + outputs.count, bottom, std::span(&outputs, 1),
                          [&](T* adjoints) { std::copy(dy.begin(), dy.end(), adjoints + outputs.first); });
    else
        t.sweep_cotangent(outputs, dy.data(), bottom);
}

} // namespace detail

/// d y / d x for vars and active tensors: a tensor of the same shape for
/// each active tensor, a number for each var, as a tuple in order.
template <class T, class... X>
    requires((std::same_as<X, var<T>> || std::same_as<X, active_tensor<T>>) && ...) &&
            (detail::is_active_tensor_of<T, X> || ...)
[[nodiscard]] auto gradient(const var<T>& y, const X&... xs)
{
    tape<T>& t = active_tape<T>();
    detail::require_recorded(t, y);
    (detail::require_recorded(t, xs), ...);
    detail::sweep_from(t, y, std::min({detail::lowest_slot_of(xs)...}));
    return std::tuple{detail::adjoint_of(t, xs)...};
}

/// d y / d x for one active tensor without a copy: a view of the gradient
/// where it lies, in x's row-major order. It holds the gradient until this
/// tape sweeps or clears its adjoints again (the next gradient, jacobian or
/// sweep) or rewinds past y or x; read it, or copy it, before then (after
/// a sweep, it shows either gradient). What a training step on large tensors wants:
/// no allocation and no 4n bytes copied per step (an optimizer can read it
/// in place).
/// Where it lies: usually the tape's adjoints of x's slots, after a sweep
/// from y. When y is a fused `sum(...)` of an expression in which x is
/// one leaf and nothing else recorded since x reads it, the sum's node
/// already holds the gradient (the partials its forward stored), and the
/// view shows those: no sweep runs, and the tape's adjoints are left as
/// they were (tape::gradient_held_by_node; docs/tensors.md).
template <class T>
[[nodiscard]] std::span<const T> gradient_view(const var<T>& y, const active_tensor<T>& x)
{
    tape<T>& t = active_tape<T>();
    detail::require_recorded(t, y);
    detail::require_recorded(t, x);
    if (const T* held = t.gradient_held_by_node(y.slot(), {x.first_slot(), static_cast<slot_index>(x.size())}))
        return {held, x.size()};
    detail::sweep_from(t, y, detail::lowest_slot_of(x));
    if (x.size() == 0)
        return {};
    return {t.adjoints() + x.first_slot(), x.size()};
}

/// The vector-Jacobian product dy^T (d y / d x) for an active tensor y and
/// a cotangent dy (y.size() values, row-major): what torch's
/// `y.backward(dy)` leaves in `x.grad`, for vars and active tensors, as a
/// tuple in order (a tensor of x's shape for each active tensor, a number
/// for each var). dy is read where it lies, not copied onto the tape, when
/// y is the output of a built-in node (tape::sweep_cotangent).
/// shape_error when dy has another size than y.
template <class T, class... X>
    requires((std::same_as<X, var<T>> || std::same_as<X, active_tensor<T>>) && ...) && (sizeof...(X) > 0)
[[nodiscard]] auto vjp(const active_tensor<T>& y, std::type_identity_t<std::span<const T>> dy, const X&... xs)
{
    tape<T>& t = active_tape<T>();
    (detail::require_recorded(t, xs), ...);
    detail::sweep_cotangent_from(t, y, dy, std::min({detail::lowest_slot_of(xs)...}),
                                 (detail::overlaps(y, xs) || ...));
    return std::tuple{detail::adjoint_of(t, xs)...};
}

/// The same with dy a tensor, which must have y's shape (shape_error otherwise).
template <class T, class... X>
    requires((std::same_as<X, var<T>> || std::same_as<X, active_tensor<T>>) && ...) && (sizeof...(X) > 0)
[[nodiscard]] auto vjp(const active_tensor<T>& y, const tensor<T>& dy, const X&... xs)
{
    if (dy.shape() != y.shape())
        throw shape_error("etape::vjp: a cotangent of shape " + dy.shape().to_string() + " for a tensor of shape " +
                          y.shape().to_string());
    return vjp(y, std::span<const T>(dy.data(), dy.size()), xs...);
}

/// dy^T (d y / d x) for one active tensor x without a copy: a view of the
/// tape's adjoints of x's slots, valid as gradient_view's. With
/// `y = f(x)` elementwise, one loop reads y (or x) and dy and writes the
/// view: no byte of dy or of the result is copied.
template <class T>
[[nodiscard]] std::span<const T> vjp_view(const active_tensor<T>& y, std::type_identity_t<std::span<const T>> dy,
                                          const active_tensor<T>& x)
{
    tape<T>& t = active_tape<T>();
    detail::require_recorded(t, x);
    detail::sweep_cotangent_from(t, y, dy, detail::lowest_slot_of(x), detail::overlaps(y, x));
    if (x.size() == 0)
        return {};
    return {t.adjoints() + x.first_slot(), x.size()};
}

} // namespace etape
