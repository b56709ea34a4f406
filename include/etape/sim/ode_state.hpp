// What a stepper needs of a state type: linear combinations of states and
// their values for an error norm, for plain numbers, var, active_tensor and
// std::array of scalars; and the derivative's evaluation. Layer: sim (under
// every stepper header).
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

#include <etape/core/number_text.hpp>
#include <etape/core/var.hpp>
#include <etape/ops/arithmetic.hpp>
#include <etape/sim/errors.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/expression.hpp>
#include <etape/tensor/fused_kernel.hpp>

namespace etape::sim {

/// Specialized for each kind of state. A trait provides
///   scalar                 the floating-point type of its elements
///   records                true when combining records on the active tape
///   combine(y, h, c, k...) y + h * (c[0] k[0] + ... + c[m-1] k[m-1])
///   size(y), value(y, i)   its elements' values (what the error norm reads)
template <class S>
struct state_traits;

namespace detail {

/// `return moved(x);` for a local x, where `return x;` would do: g++ 12
/// failed on arrays of vars ("satisfaction value of atomic constraint
/// changed", of var's converting constructor) when its first check of var's
/// copy came from the implicit move of such a return; an explicit move is
/// checked like any other initialization.
template <class X>
[[nodiscard]] X moved(X& x)
{
    return X(std::move(x));
}

/// y + h * (c_1 k_1 + ... + c_m k_m) as ONE expression of S's own arithmetic,
/// converted to S once: one statement for a var, one fused node for an
/// active tensor. h and the c_j are passive, in S's precision.
template <class S, class Scalar, std::size_t M, class... K>
[[nodiscard]] S linear_combination(const S& y, double h, const std::array<double, M>& c, const K&... k)
{
    static_assert(sizeof...(K) == M, "one coefficient per derivative");
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return S(y + static_cast<Scalar>(h) * ((static_cast<Scalar>(c[I]) * k) + ...));
    }(std::make_index_sequence<M>{});
}

} // namespace detail

/// A plain number: what the stepper computes without a tape (and the long
/// double reference of a gradient check).
template <std::floating_point S>
struct state_traits<S> {
    using scalar = S;
    static constexpr bool records = false;

    template <std::same_as<S>... K>
    [[nodiscard]] static S combine(const S& y, double h, const std::array<double, sizeof...(K)>& c, const K&... k)
    {
        return detail::linear_combination<S, S>(y, h, c, k...);
    }
    [[nodiscard]] static constexpr std::size_t size(const S&) noexcept { return 1; }
    [[nodiscard]] static constexpr S value(const S& y, std::size_t) noexcept { return y; }
};

template <class T>
struct state_traits<var<T>> {
    using scalar = T;
    static constexpr bool records = true;

    template <std::same_as<var<T>>... K>
    [[nodiscard]] static var<T> combine(const var<T>& y, double h, const std::array<double, sizeof...(K)>& c,
                                        const K&... k)
    {
        return detail::linear_combination<var<T>, T>(y, h, c, k...);
    }
    [[nodiscard]] static constexpr std::size_t size(const var<T>&) noexcept { return 1; }
    [[nodiscard]] static constexpr T value(const var<T>& y, std::size_t) noexcept { return y.value(); }
};

template <class T>
struct state_traits<active_tensor<T>> {
    using scalar = T;
    static constexpr bool records = true;

    template <std::same_as<active_tensor<T>>... K>
    [[nodiscard]] static active_tensor<T> combine(const active_tensor<T>& y, double h,
                                                  const std::array<double, sizeof...(K)>& c, const K&... k)
    {
        return detail::linear_combination<active_tensor<T>, T>(y, h, c, k...);
    }
    [[nodiscard]] static std::size_t size(const active_tensor<T>& y) noexcept { return y.size(); }
    [[nodiscard]] static T value(const active_tensor<T>& y, std::size_t i) noexcept { return y.values()[i]; }
};

/// An element of a std::array state: a plain number or a var.
template <class E>
concept scalar_state = std::floating_point<E> || std::same_as<E, var<typename E::value_type>>;

/// A small fixed system (a damped oscillator, Lotka-Volterra) written with
/// scalars; each element is combined on its own (one statement per var).
template <scalar_state E, std::size_t N>
struct state_traits<std::array<E, N>> {
    using scalar = typename state_traits<E>::scalar;
    static constexpr bool records = state_traits<E>::records;

    template <std::same_as<std::array<E, N>>... K>
    [[nodiscard]] static std::array<E, N> combine(const std::array<E, N>& y, double h,
                                                  const std::array<double, sizeof...(K)>& c, const K&... k)
    {
        std::array<E, N> r;
        for (std::size_t i = 0; i < N; ++i)
            r[i] = state_traits<E>::combine(y[i], h, c, k[i]...);
        return detail::moved(r);
    }
    [[nodiscard]] static constexpr std::size_t size(const std::array<E, N>&) noexcept { return N; }
    [[nodiscard]] static constexpr scalar value(const std::array<E, N>& y, std::size_t i) noexcept
    {
        return state_traits<E>::value(y[i], 0);
    }
};

/// A type the steppers integrate: copyable (a stepper keeps the state and
/// its stages), with a state_traits specialization.
template <class S>
concept ode_state = std::copyable<S> && requires(const S& y, std::size_t i) {
    typename state_traits<S>::scalar;
    { state_traits<S>::records } -> std::convertible_to<bool>;
    { state_traits<S>::size(y) } -> std::same_as<std::size_t>;
    { state_traits<S>::value(y, i) } -> std::convertible_to<typename state_traits<S>::scalar>;
    { state_traits<S>::combine(y, 1.0, std::array<double, 1>{1.0}, y) } -> std::same_as<S>;
};

/// f(t, y) gives dy/dt at time t as an S, or as an expression that converts
/// to one (`return -k * y;` for a var or an active tensor).
template <class F, class S>
concept derivative_of = ode_state<S> && std::invocable<F&, double, const S&> &&
                        std::convertible_to<std::invoke_result_t<F&, double, const S&>, S>;

/// a(q) gives the acceleration at position q as an S (or an expression).
template <class A, class S>
concept acceleration_of = ode_state<S> && std::invocable<A&, const S&> &&
                          std::convertible_to<std::invoke_result_t<A&, const S&>, S>;

namespace detail {

/// Throws state_size_error unless `k` (what the user's function returned for
/// `y`) has y's number of elements.
template <ode_state S>
void require_same_size(const char* who, const S& y, const S& k)
{
    const std::size_t want = state_traits<S>::size(y);
    const std::size_t got = state_traits<S>::size(k);
    if (got != want) [[unlikely]]
        throw state_size_error(std::string("etape::sim::") + who + ": the derivative has " +
                               etape::detail::counted(got, "element") + " for a state of " + std::to_string(want));
}

/// f(t, y) as an S, checked against y's size.
template <ode_state S, derivative_of<S> F>
[[nodiscard]] S derivative(const char* who, F& f, double t, const S& y)
{
    S k = f(t, y);
    require_same_size(who, y, k);
    return moved(k);
}

/// a(q) as an S, checked against q's size.
template <ode_state S, acceleration_of<S> A>
[[nodiscard]] S acceleration(const char* who, A& a, const S& q)
{
    S k = a(q);
    require_same_size(who, q, k);
    return moved(k);
}

} // namespace detail

} // namespace etape::sim
