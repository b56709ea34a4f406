// Forward-mode dual numbers: dual<S> carries a value x and a tangent dx,
// x + dx e with e^2 = 0, both of type S. Layer: sim (second derivatives).
//
// S is a plain number (float, double, long double: forward mode alone) or
// an etape::var (then both halves are recorded on the tape, so the tangent
// grad f(x) . v is itself a function of x on the tape and one reverse sweep
// from it gives H v: sim/hessian.hpp). Every operation writes its value and
// its tangent in S arithmetic, which is how one formula serves both.
//
// This header holds the type, + - * /, unary minus and the comparisons; the
// elementary functions are in sim/dual_functions.hpp.
#pragma once

#include <compare>
#include <concepts>
#include <type_traits>

#include <etape/core/expression.hpp>
#include <etape/core/var.hpp>
#include <etape/ops/arithmetic.hpp>

namespace etape::sim {

template <class S>
class dual;

namespace detail {

template <class S>
struct is_var : std::false_type {};
template <class T>
struct is_var<var<T>> : std::true_type {};

template <class X>
struct is_dual : std::false_type {};
template <class S>
struct is_dual<dual<S>> : std::true_type {};

} // namespace detail

/// What a dual is made of: a floating-point number, or a var of one.
template <class S>
concept dual_scalar = std::floating_point<S> || detail::is_var<S>::value;

/// What enters `dual<S>` arithmetic as a constant, with a zero tangent: a plain
/// number, or an S itself (a var the function reads, such as a model
/// parameter, that is not a direction of differentiation). The value() of a
/// dual mixed back in this way loses its tangent: keep the dual instead.
template <class U, class S>
concept dual_constant = !detail::is_dual<std::remove_cvref_t<U>>::value &&
                        (passive_number<U> || std::same_as<std::remove_cvref_t<U>, S>);

namespace detail {

/// A constant as an operand of S arithmetic: a plain number rounded to S's
/// precision first (as var<float> + 0.1 rounds 0.1), or the S itself.
template <class S, class U>
[[nodiscard]] constexpr auto constant_operand(const U& c)
{
    if constexpr (passive_number<U>)
        return static_cast<scalar_t<S>>(c);
    else
        return c;
}

/// The plain number an S holds (its value, for a var): what branches read.
template <class S>
[[nodiscard]] constexpr scalar_t<S> number_of(const S& s) noexcept
{
    return etape::value(s);
}

} // namespace detail

/// x + dx e. With S = var<T> a default dual, and the tangent of a constant,
/// are passive zeros (slot 0) and record nothing.
template <class S>
class dual {
    static_assert(dual_scalar<S>, "etape::sim::dual<S> needs S = float, double, long double or an etape::var of one");

public:
    using scalar_type = S;

    constexpr dual() = default;

    /// A value with its tangent; a value alone is a constant (tangent 0).
    constexpr dual(const S& value, const S& tangent = S{}) : value_(value), tangent_(tangent) {} // NOLINT: like S

    /// A constant from a plain number: `S sum = 0` must read the same for
    /// every S. With S = var<T> its value registers a new input, as
    /// var<T> x = 0 does; its tangent is a passive zero.
    template <passive_number U>
        requires(!std::same_as<U, S>)
    constexpr dual(U constant) : value_(static_cast<scalar_t<S>>(constant)) // NOLINT: implicit, as for var
    {
    }

    [[nodiscard]] constexpr const S& value() const noexcept { return value_; }
    [[nodiscard]] constexpr const S& tangent() const noexcept { return tangent_; }

    template <class X>
        requires std::same_as<X, dual> || dual_constant<X, S>
    constexpr dual& operator+=(const X& x)
    {
        return *this = *this + x;
    }
    template <class X>
        requires std::same_as<X, dual> || dual_constant<X, S>
    constexpr dual& operator-=(const X& x)
    {
        return *this = *this - x;
    }
    template <class X>
        requires std::same_as<X, dual> || dual_constant<X, S>
    constexpr dual& operator*=(const X& x)
    {
        return *this = *this * x;
    }
    template <class X>
        requires std::same_as<X, dual> || dual_constant<X, S>
    constexpr dual& operator/=(const X& x)
    {
        return *this = *this / x;
    }

private:
    S value_{};
    S tangent_{};
};

template <class S>
[[nodiscard]] constexpr dual<S> operator+(const dual<S>& a, const dual<S>& b)
{
    return {S(a.value() + b.value()), S(a.tangent() + b.tangent())};
}
template <class S, dual_constant<S> U>
[[nodiscard]] constexpr dual<S> operator+(const dual<S>& a, const U& c)
{
    return {S(a.value() + detail::constant_operand<S>(c)), a.tangent()};
}
template <class S, dual_constant<S> U>
[[nodiscard]] constexpr dual<S> operator+(const U& c, const dual<S>& a)
{
    return {S(detail::constant_operand<S>(c) + a.value()), a.tangent()};
}

template <class S>
[[nodiscard]] constexpr dual<S> operator-(const dual<S>& a, const dual<S>& b)
{
    return {S(a.value() - b.value()), S(a.tangent() - b.tangent())};
}
template <class S, dual_constant<S> U>
[[nodiscard]] constexpr dual<S> operator-(const dual<S>& a, const U& c)
{
    return {S(a.value() - detail::constant_operand<S>(c)), a.tangent()};
}
template <class S, dual_constant<S> U>
[[nodiscard]] constexpr dual<S> operator-(const U& c, const dual<S>& a)
{
    return {S(detail::constant_operand<S>(c) - a.value()), S(-a.tangent())};
}

/// d(ab) = da b + a db
template <class S>
[[nodiscard]] constexpr dual<S> operator*(const dual<S>& a, const dual<S>& b)
{
    return {S(a.value() * b.value()), S(a.tangent() * b.value() + a.value() * b.tangent())};
}
template <class S, dual_constant<S> U>
[[nodiscard]] constexpr dual<S> operator*(const dual<S>& a, const U& c)
{
    const auto k = detail::constant_operand<S>(c);
    return {S(a.value() * k), S(a.tangent() * k)};
}
template <class S, dual_constant<S> U>
[[nodiscard]] constexpr dual<S> operator*(const U& c, const dual<S>& a)
{
    const auto k = detail::constant_operand<S>(c);
    return {S(k * a.value()), S(k * a.tangent())};
}

/// d(a/b) = (da - q db) / b with q = a/b: the quotient is computed once and
/// serves both halves
template <class S>
[[nodiscard]] constexpr dual<S> operator/(const dual<S>& a, const dual<S>& b)
{
    const S q = a.value() / b.value();
    return {q, S((a.tangent() - q * b.tangent()) / b.value())};
}
template <class S, dual_constant<S> U>
[[nodiscard]] constexpr dual<S> operator/(const dual<S>& a, const U& c)
{
    const auto k = detail::constant_operand<S>(c);
    return {S(a.value() / k), S(a.tangent() / k)};
}
/// d(c/b) = -q db / b with q = c/b
template <class S, dual_constant<S> U>
[[nodiscard]] constexpr dual<S> operator/(const U& c, const dual<S>& b)
{
    const S q = detail::constant_operand<S>(c) / b.value();
    return {q, S(-q * b.tangent() / b.value())};
}

template <class S>
[[nodiscard]] constexpr dual<S> operator-(const dual<S>& a)
{
    return {S(-a.value()), S(-a.tangent())};
}
template <class S>
[[nodiscard]] constexpr dual<S> operator+(const dual<S>& a)
{
    return a;
}

// Comparisons read the values only, so that code written for numbers can
// branch on a dual; they record nothing.

template <class S>
[[nodiscard]] constexpr bool operator==(const dual<S>& a, const dual<S>& b) noexcept
{
    return detail::number_of(a.value()) == detail::number_of(b.value());
}
template <class S, dual_constant<S> U>
[[nodiscard]] constexpr bool operator==(const dual<S>& a, const U& c) noexcept
{
    return detail::number_of(a.value()) == etape::value(c);
}

template <class S>
[[nodiscard]] constexpr std::partial_ordering operator<=>(const dual<S>& a, const dual<S>& b) noexcept
{
    return detail::number_of(a.value()) <=> detail::number_of(b.value());
}
template <class S, dual_constant<S> U>
[[nodiscard]] constexpr std::partial_ordering operator<=>(const dual<S>& a, const U& c) noexcept
{
    return detail::number_of(a.value()) <=> etape::value(c);
}

} // namespace etape::sim
