// The elementary functions and activations on dual<S> (sim/dual.hpp): each
// computes its value with etape's own function of S and its tangent
// f'(x) dx in S arithmetic. Layer: sim (second derivatives).
//
// Values come from etape's functions, so they are those of var and of plain
// numbers bit for bit, and bad arguments (elu's alpha < 0, softplus's beta
// <= 0, ...) throw the same errors. Tangents are written from the input:
// with S = var<T> they are recorded, and their own derivative (the second
// derivative of f) comes from the tape's partials of that formula. A
// piecewise function branches on the value, with the branch etape takes at
// the kink (relu, elu, selu, celu: x == 0 is on the negative side; abs: 0;
// max, min: half of each at a tie).
//
// How generic code reaches them: they live beside dual in etape::sim, where
// argument-dependent lookup finds them (`exp(x)` unqualified, with `using
// std::exp;` for plain numbers), and the using-declarations at the end of
// this file also make them etape::exp, etape::elu, ...: the spelling that
// already serves numbers, vars and tensors, so that a function written once
// with etape:: calls runs on T, var<T>, dual<T> and dual<var<T>>.
#pragma once

#include <cmath>
#include <numbers>

#include <etape/ops/elu.hpp>
#include <etape/ops/error_function.hpp>
#include <etape/ops/exponential.hpp>
#include <etape/ops/extremum.hpp>
#include <etape/ops/gelu.hpp>
#include <etape/ops/hyperbolic.hpp>
#include <etape/ops/logistic.hpp>
#include <etape/ops/magnitude.hpp>
#include <etape/ops/power.hpp>
#include <etape/ops/relu.hpp>
#include <etape/ops/trigonometric.hpp>
#include <etape/sim/dual.hpp>

namespace etape::sim {

// ---- exponentials and logarithms

/// d e^x = e^x dx (from the output)
template <class S>
[[nodiscard]] dual<S> exp(const dual<S>& a)
{
    const S y = etape::exp(a.value());
    return {y, S(y * a.tangent())};
}

/// d expm1(x) = (y + 1) dx
template <class S>
[[nodiscard]] dual<S> expm1(const dual<S>& a)
{
    const S y = etape::expm1(a.value());
    return {y, S((y + 1) * a.tangent())};
}

/// d log x = dx / x
template <class S>
[[nodiscard]] dual<S> log(const dual<S>& a)
{
    return {S(etape::log(a.value())), S(a.tangent() / a.value())};
}

/// d log1p(x) = dx / (1 + x)
template <class S>
[[nodiscard]] dual<S> log1p(const dual<S>& a)
{
    return {S(etape::log1p(a.value())), S(a.tangent() / (1 + a.value()))};
}

/// d log2 x = dx / (x ln 2)
template <class S>
[[nodiscard]] dual<S> log2(const dual<S>& a)
{
    return {S(etape::log2(a.value())), S(a.tangent() / (a.value() * std::numbers::ln2_v<scalar_t<S>>))};
}

/// d log10 x = dx / (x ln 10)
template <class S>
[[nodiscard]] dual<S> log10(const dual<S>& a)
{
    return {S(etape::log10(a.value())), S(a.tangent() / (a.value() * std::numbers::ln10_v<scalar_t<S>>))};
}

// ---- powers and roots

/// d sqrt x = dx / (2y): inf or NaN at 0, as the tape's partial
template <class S>
[[nodiscard]] dual<S> sqrt(const dual<S>& a)
{
    const S y = etape::sqrt(a.value());
    return {y, S(scalar_t<S>(0.5) * a.tangent() / y)};
}

/// d cbrt x = dx / (3 y^2)
template <class S>
[[nodiscard]] dual<S> cbrt(const dual<S>& a)
{
    const S y = etape::cbrt(a.value());
    return {y, S(a.tangent() / (3 * y * y))};
}

/// x^c, c a constant: d = c x^(c-1) dx. For c = 0 and c = 1 the tangent is
/// written out (0 and dx): differentiated again, the general form would
/// read 0 * x^-1 = NaN at x = 0.
template <class S, passive_number U>
[[nodiscard]] dual<S> pow(const dual<S>& a, U exponent)
{
    using T = scalar_t<S>;
    const T c = static_cast<T>(exponent);
    const S y = etape::pow(a.value(), c);
    if (c == T(0))
        return {y, S{}};
    if (c == T(1))
        return {y, a.tangent()};
    return {y, S(c * etape::pow(a.value(), c - T(1)) * a.tangent())};
}

/// c^x, c a constant: d = y log(c) dx; 0 where c == 0 and x >= 0 (the limit,
/// as etape's pow takes it)
template <class S, passive_number U>
[[nodiscard]] dual<S> pow(U base, const dual<S>& a)
{
    using T = scalar_t<S>;
    const T c = static_cast<T>(base);
    const S y = etape::pow(c, a.value());
    if (c == T(0) && detail::number_of(a.value()) >= T(0))
        return {y, S{}};
    return {y, S(y * std::log(c) * a.tangent())};
}

/// a^b: d = b a^(b-1) da + y log(a) db, the second term 0 where a == 0 and
/// b >= 0 (as etape's pow)
template <class S>
[[nodiscard]] dual<S> pow(const dual<S>& a, const dual<S>& b)
{
    using T = scalar_t<S>;
    const S& x = a.value();
    const S& w = b.value();
    const S y = etape::pow(x, w);
    if (detail::number_of(x) == T(0) && detail::number_of(w) >= T(0))
        return {y, S(w * etape::pow(x, w - T(1)) * a.tangent())};
    return {y, S(w * etape::pow(x, w - T(1)) * a.tangent() + y * etape::log(x) * b.tangent())};
}

/// sqrt(a^2 + b^2): d = (a da + b db) / y; NaN at the origin
template <class S>
[[nodiscard]] dual<S> hypot(const dual<S>& a, const dual<S>& b)
{
    const S y = etape::hypot(a.value(), b.value());
    return {y, S((a.value() * a.tangent() + b.value() * b.tangent()) / y)};
}

// ---- circular functions

/// d sin x = cos x dx
template <class S>
[[nodiscard]] dual<S> sin(const dual<S>& a)
{
    return {S(etape::sin(a.value())), S(etape::cos(a.value()) * a.tangent())};
}

/// d cos x = -sin x dx
template <class S>
[[nodiscard]] dual<S> cos(const dual<S>& a)
{
    return {S(etape::cos(a.value())), S(-etape::sin(a.value()) * a.tangent())};
}

/// d tan x = (1 + y^2) dx
template <class S>
[[nodiscard]] dual<S> tan(const dual<S>& a)
{
    const S y = etape::tan(a.value());
    return {y, S((1 + y * y) * a.tangent())};
}

/// d asin x = dx / sqrt((1 - x)(1 + x))
template <class S>
[[nodiscard]] dual<S> asin(const dual<S>& a)
{
    const S& x = a.value();
    return {S(etape::asin(x)), S(a.tangent() / etape::sqrt((1 - x) * (1 + x)))};
}

/// d acos x = -dx / sqrt((1 - x)(1 + x))
template <class S>
[[nodiscard]] dual<S> acos(const dual<S>& a)
{
    const S& x = a.value();
    return {S(etape::acos(x)), S(-a.tangent() / etape::sqrt((1 - x) * (1 + x)))};
}

/// d atan x = dx / (1 + x^2)
template <class S>
[[nodiscard]] dual<S> atan(const dual<S>& a)
{
    return {S(etape::atan(a.value())), S(a.tangent() / (1 + a.value() * a.value()))};
}

/// atan2(a, b): d = (b da - a db) / (a^2 + b^2); NaN at the origin
template <class S>
[[nodiscard]] dual<S> atan2(const dual<S>& a, const dual<S>& b)
{
    const S& y = a.value();
    const S& x = b.value();
    return {S(etape::atan2(y, x)), S((x * a.tangent() - y * b.tangent()) / (y * y + x * x))};
}

// ---- hyperbolic functions

/// d sinh x = cosh x dx
template <class S>
[[nodiscard]] dual<S> sinh(const dual<S>& a)
{
    return {S(etape::sinh(a.value())), S(etape::cosh(a.value()) * a.tangent())};
}

/// d cosh x = sinh x dx
template <class S>
[[nodiscard]] dual<S> cosh(const dual<S>& a)
{
    return {S(etape::cosh(a.value())), S(etape::sinh(a.value()) * a.tangent())};
}

/// d tanh x = (1 - y^2) dx
template <class S>
[[nodiscard]] dual<S> tanh(const dual<S>& a)
{
    const S y = etape::tanh(a.value());
    return {y, S((1 - y * y) * a.tangent())};
}

/// d asinh x = dx / hypot(x, 1)
template <class S>
[[nodiscard]] dual<S> asinh(const dual<S>& a)
{
    return {S(etape::asinh(a.value())), S(a.tangent() / etape::hypot(a.value(), 1))};
}

/// d acosh x = dx / (sqrt(x - 1) sqrt(x + 1))
template <class S>
[[nodiscard]] dual<S> acosh(const dual<S>& a)
{
    const S& x = a.value();
    return {S(etape::acosh(x)), S(a.tangent() / (etape::sqrt(x - 1) * etape::sqrt(x + 1)))};
}

/// d atanh x = dx / ((1 - x)(1 + x))
template <class S>
[[nodiscard]] dual<S> atanh(const dual<S>& a)
{
    const S& x = a.value();
    return {S(etape::atanh(x)), S(a.tangent() / ((1 - x) * (1 + x)))};
}

// ---- error function

/// d erf x = 2/sqrt(pi) e^(-x^2) dx
template <class S>
[[nodiscard]] dual<S> erf(const dual<S>& a)
{
    using T = scalar_t<S>;
    const S& x = a.value();
    return {S(etape::erf(x)), S(T(2) * std::numbers::inv_sqrtpi_v<T> * etape::exp(-x * x) * a.tangent())};
}

/// d erfc x = -2/sqrt(pi) e^(-x^2) dx
template <class S>
[[nodiscard]] dual<S> erfc(const dual<S>& a)
{
    using T = scalar_t<S>;
    const S& x = a.value();
    return {S(etape::erfc(x)), S(T(-2) * std::numbers::inv_sqrtpi_v<T> * etape::exp(-x * x) * a.tangent())};
}

// ---- piecewise functions

/// d |x| = sign(x) dx, 0 at x == 0 (etape's subgradient)
template <class S>
[[nodiscard]] dual<S> abs(const dual<S>& a)
{
    const auto x = detail::number_of(a.value());
    const S y = etape::abs(a.value());
    if (x > 0)
        return {y, a.tangent()};
    if (x < 0)
        return {y, S(-a.tangent())};
    return {y, S{}};
}

template <class S>
[[nodiscard]] dual<S> fabs(const dual<S>& a)
{
    return sim::abs(a);
}

namespace detail {

/// The tangent of max or min: that of the operand chosen, half of each at
/// a tie (as etape's max and min split the gradient).
template <class S>
[[nodiscard]] S chosen_tangent(bool first_chosen, bool second_chosen, const S& first, const S& second)
{
    if (first_chosen)
        return first;
    if (second_chosen)
        return second;
    return S(scalar_t<S>(0.5) * (first + second));
}

} // namespace detail

/// The larger of a and b; a NaN wins, as in etape::max.
template <class S>
[[nodiscard]] dual<S> max(const dual<S>& a, const dual<S>& b)
{
    const auto x = detail::number_of(a.value()), w = detail::number_of(b.value());
    return {S(etape::max(a.value(), b.value())),
            detail::chosen_tangent(x > w || std::isnan(x), w > x || std::isnan(w), a.tangent(), b.tangent())};
}
template <class S, dual_constant<S> U>
[[nodiscard]] dual<S> max(const dual<S>& a, const U& c)
{
    const auto x = detail::number_of(a.value());
    const auto w = detail::number_of(detail::constant_operand<S>(c));
    return {S(etape::max(a.value(), detail::constant_operand<S>(c))),
            detail::chosen_tangent(x > w || std::isnan(x), w > x || std::isnan(w), a.tangent(), S{})};
}
template <class S, dual_constant<S> U>
[[nodiscard]] dual<S> max(const U& c, const dual<S>& a)
{
    return sim::max(a, c);
}

/// The smaller of a and b; a NaN wins, as in etape::min.
template <class S>
[[nodiscard]] dual<S> min(const dual<S>& a, const dual<S>& b)
{
    const auto x = detail::number_of(a.value()), w = detail::number_of(b.value());
    return {S(etape::min(a.value(), b.value())),
            detail::chosen_tangent(x < w || std::isnan(x), w < x || std::isnan(w), a.tangent(), b.tangent())};
}
template <class S, dual_constant<S> U>
[[nodiscard]] dual<S> min(const dual<S>& a, const U& c)
{
    const auto x = detail::number_of(a.value());
    const auto w = detail::number_of(detail::constant_operand<S>(c));
    return {S(etape::min(a.value(), detail::constant_operand<S>(c))),
            detail::chosen_tangent(x < w || std::isnan(x), w < x || std::isnan(w), a.tangent(), S{})};
}
template <class S, dual_constant<S> U>
[[nodiscard]] dual<S> min(const U& c, const dual<S>& a)
{
    return sim::min(a, c);
}

// ---- activations

/// d relu(x) = (x > 0 ? 1 : 0) dx
template <class S>
[[nodiscard]] dual<S> relu(const dual<S>& a)
{
    const S y = etape::relu(a.value());
    return {y, detail::number_of(a.value()) > 0 ? a.tangent() : S{}};
}

/// d leaky_relu(x) = (x > 0 ? 1 : slope) dx
template <class S>
[[nodiscard]] dual<S> leaky_relu(const dual<S>& a, scalar_t<S> slope = scalar_t<S>(0.01))
{
    const S y = etape::leaky_relu(a.value(), slope);
    return {y, detail::number_of(a.value()) > 0 ? a.tangent() : S(slope * a.tangent())};
}

/// d elu(x) = (x > 0 ? 1 : alpha e^x) dx. The tangent reads the input, so it
/// keeps its relative accuracy in the far negative tail (where the tape's
/// partial from the output, y + alpha, cancels); the value checks alpha as
/// etape::elu does.
template <class S>
[[nodiscard]] dual<S> elu(const dual<S>& a, scalar_t<S> alpha = 1)
{
    const S y = etape::elu(a.value(), alpha);
    if (detail::number_of(a.value()) > 0)
        return {y, a.tangent()};
    return {y, S(alpha * etape::exp(a.value()) * a.tangent())};
}

/// d selu(x) = scale (x > 0 ? 1 : alpha e^x) dx
template <class S>
[[nodiscard]] dual<S> selu(const dual<S>& a)
{
    using constants = selu_op<scalar_t<S>>;
    const S y = etape::selu(a.value());
    if (detail::number_of(a.value()) > 0)
        return {y, S(constants::scale * a.tangent())};
    return {y, S(constants::scale * constants::alpha * etape::exp(a.value()) * a.tangent())};
}

/// d celu(x) = (x > 0 ? 1 : e^(x/alpha)) dx
template <class S>
[[nodiscard]] dual<S> celu(const dual<S>& a, scalar_t<S> alpha = 1)
{
    const S y = etape::celu(a.value(), alpha);
    if (detail::number_of(a.value()) > 0)
        return {y, a.tangent()};
    return {y, S(etape::exp(a.value() / alpha) * a.tangent())};
}

/// d sigmoid(x) = y (1 - y) dx
template <class S>
[[nodiscard]] dual<S> sigmoid(const dual<S>& a)
{
    const S y = etape::sigmoid(a.value());
    return {y, S(y * (1 - y) * a.tangent())};
}

/// d softplus(x) = sigmoid(x) dx
template <class S>
[[nodiscard]] dual<S> softplus(const dual<S>& a)
{
    return {S(etape::softplus(a.value())), S(etape::sigmoid(a.value()) * a.tangent())};
}

/// PyTorch's softplus(x, beta, threshold): d = (beta x > threshold ? 1 :
/// sigmoid(beta x)) dx
template <class S>
[[nodiscard]] dual<S> softplus(const dual<S>& a, scalar_t<S> beta, scalar_t<S> threshold = scalar_t<S>(20))
{
    const S y = etape::softplus(a.value(), beta, threshold);
    if (beta * detail::number_of(a.value()) > threshold)
        return {y, a.tangent()};
    return {y, S(etape::sigmoid(beta * a.value()) * a.tangent())};
}

/// d silu(x) = s (1 + x (1 - s)) dx, s = sigmoid(x)
template <class S>
[[nodiscard]] dual<S> silu(const dual<S>& a)
{
    const S& x = a.value();
    const S s = etape::sigmoid(x);
    return {S(etape::silu(x)), S(s * (1 + x * (1 - s)) * a.tangent())};
}

/// gelu(x) = x Phi(x): d = (Phi(x) + x phi(x)) dx, phi the normal density
template <class S>
[[nodiscard]] dual<S> gelu(const dual<S>& a)
{
    using T = scalar_t<S>;
    constexpr T inv_sqrt2 = T(1) / std::numbers::sqrt2_v<T>;
    constexpr T inv_sqrt_2pi = inv_sqrt2 * std::numbers::inv_sqrtpi_v<T>;
    const S& x = a.value();
    return {S(etape::gelu(x)),
            S((T(0.5) * etape::erfc(-x * inv_sqrt2) + x * etape::exp(T(-0.5) * x * x) * inv_sqrt_2pi) * a.tangent())};
}

/// gelu in either form; the tanh form is x s with s = sigmoid(t),
/// t = c x + b x^3 (c = 2 sqrt(2/pi), b = 0.044715 c):
/// d = (s + x (c + 3 b x^2) s (1 - s)) dx
template <class S>
[[nodiscard]] dual<S> gelu(const dual<S>& a, approximate form)
{
    using T = scalar_t<S>;
    if (form == approximate::none)
        return sim::gelu(a);
    constexpr T c = static_cast<T>(1.5957691216057307117597842397375L);
    constexpr T b = static_cast<T>(0.044715L * 1.5957691216057307117597842397375L);
    const S& x = a.value();
    const S s = etape::sigmoid(x * (c + b * x * x));
    return {S(etape::gelu(x, form)), S((s + x * (c + T(3) * b * x * x) * s * (1 - s)) * a.tangent())};
}

} // namespace etape::sim

namespace etape {

// The dual overloads under etape's names (see the top of this file).
using sim::abs;
using sim::acos;
using sim::acosh;
using sim::asin;
using sim::asinh;
using sim::atan;
using sim::atan2;
using sim::atanh;
using sim::cbrt;
using sim::celu;
using sim::cos;
using sim::cosh;
using sim::elu;
using sim::erf;
using sim::erfc;
using sim::exp;
using sim::expm1;
using sim::fabs;
using sim::gelu;
using sim::hypot;
using sim::leaky_relu;
using sim::log;
using sim::log10;
using sim::log1p;
using sim::log2;
using sim::max;
using sim::min;
using sim::pow;
using sim::relu;
using sim::selu;
using sim::sigmoid;
using sim::silu;
using sim::sin;
using sim::sinh;
using sim::softplus;
using sim::sqrt;
using sim::tan;
using sim::tanh;

} // namespace etape
