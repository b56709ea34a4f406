// Hyperbolic functions and their inverses: sinh, cosh, tanh, asinh, acosh, atanh.
// Layer: ops.
#pragma once

#include <cmath>
#include <string_view>

#include <etape/core/unary_expr.hpp>

namespace etape {

struct sinh_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "sinh";
    template <class T> static T primal(T x) { return std::sinh(x); }
    template <class T> static T partial(T x, T) { return std::cosh(x); }
};

struct cosh_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "cosh";
    template <class T> static T primal(T x) { return std::cosh(x); }
    template <class T> static T partial(T x, T) { return std::sinh(x); }
};

struct tanh_op {
    static constexpr derivative_source source = derivative_source::output;
    static constexpr std::string_view name = "tanh";
    static constexpr bool takes_batches = true;
    template <class T> static T primal(T x) { return std::tanh(x); }
    template <simd::batch_type V> static V primal(V x) { return simd::tanh(x); }
    /// d/dx tanh = 1 - y^2
    template <class T> static T partial(T, T y) { return T(1) - y * y; }
};

struct asinh_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "asinh";
    template <class T> static T primal(T x) { return std::asinh(x); }
    /// 1 / sqrt(x^2 + 1), as 1 / hypot(x, 1) so that large x does not overflow
    template <class T> static T partial(T x, T) { return T(1) / std::hypot(x, T(1)); }
};

struct acosh_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "acosh";
    template <class T> static T primal(T x) { return std::acosh(x); }
    /// 1 / sqrt((x - 1)(x + 1))
    template <class T> static T partial(T x, T) { return T(1) / (std::sqrt(x - T(1)) * std::sqrt(x + T(1))); }
};

struct atanh_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "atanh";
    template <class T> static T primal(T x) { return std::atanh(x); }
    /// 1 / ((1 - x)(1 + x))
    template <class T> static T partial(T x, T) { return T(1) / ((T(1) - x) * (T(1) + x)); }
};

template <elementwise_operand X> [[nodiscard]] auto sinh(const X& x) { return apply(sinh_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto cosh(const X& x) { return apply(cosh_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto tanh(const X& x) { return apply(tanh_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto asinh(const X& x) { return apply(asinh_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto acosh(const X& x) { return apply(acosh_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto atanh(const X& x) { return apply(atanh_op{}, x); }

} // namespace etape
