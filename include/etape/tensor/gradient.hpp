// Gradients with respect to active tensors (and vars, mixed).
// Layer: tensor (extends core/gradient.hpp).
#pragma once

#include <algorithm>
#include <span>
#include <tuple>

#include <etape/core/gradient.hpp>
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

/// d y / d x for one active tensor without a copy: a view of the tape's
/// adjoints of x's slots, in x's row-major order. It holds the gradient
/// until this tape sweeps or clears its adjoints again (the next gradient,
/// jacobian or sweep) or rewinds past x; read it, or copy it, before then.
/// What a training step on large tensors wants: no allocation and no 4n
/// bytes copied per step (an optimizer can read it in place).
template <class T>
[[nodiscard]] std::span<const T> gradient_view(const var<T>& y, const active_tensor<T>& x)
{
    tape<T>& t = active_tape<T>();
    detail::require_recorded(t, y);
    detail::require_recorded(t, x);
    detail::sweep_from(t, y, detail::lowest_slot_of(x));
    if (x.size() == 0)
        return {};
    return {t.adjoints() + x.first_slot(), x.size()};
}

} // namespace etape
