// Exponentials and logarithms: exp, expm1, log, log1p, log2, log10.
// Layer: ops. Outside the domain the value is libm's (NaN, -inf) and so is
// the partial: nothing throws. exp, expm1, log and log1p take SIMD batches
// (core/batch.hpp); their partials serve numbers and batches alike.
#pragma once

#include <cmath>
#include <numbers>
#include <string_view>

#include <etape/core/unary_expr.hpp>

namespace etape {

struct exp_op {
    static constexpr derivative_source source = derivative_source::output;
    static constexpr std::string_view name = "exp";
    static constexpr bool takes_batches = true;
    template <class T> static T primal(T x) { return std::exp(x); }
    template <simd::batch_type V> static V primal(V x) { return simd::exp(x); }
    /// d/dx exp = y
    template <class T> static T partial(T, T y) { return y; }
};

struct expm1_op {
    static constexpr derivative_source source = derivative_source::output;
    static constexpr std::string_view name = "expm1";
    static constexpr bool takes_batches = true;
    template <class T> static T primal(T x) { return std::expm1(x); }
    template <simd::batch_type V> static V primal(V x) { return simd::expm1(x); }
    /// d/dx expm1 = exp(x) = y + 1
    template <class T> static T partial(T, T y) { return y + T(1); }
};

struct log_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "log";
    static constexpr bool takes_batches = true;
    template <class T> static T primal(T x) { return std::log(x); }
    template <simd::batch_type V> static V primal(V x) { return simd::log(x); }
    template <class T> static T partial(T x, T) { return T(1) / x; }
};

struct log1p_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "log1p";
    static constexpr bool takes_batches = true;
    template <class T> static T primal(T x) { return std::log1p(x); }
    template <simd::batch_type V> static V primal(V x) { return simd::log1p(x); }
    template <class T> static T partial(T x, T) { return T(1) / (T(1) + x); }
};

struct log2_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "log2";
    template <class T> static T primal(T x) { return std::log2(x); }
    /// d/dx log2 = 1 / (x ln 2)
    template <class T> static T partial(T x, T) { return T(1) / (x * std::numbers::ln2_v<T>); }
};

struct log10_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "log10";
    template <class T> static T primal(T x) { return std::log10(x); }
    /// d/dx log10 = 1 / (x ln 10)
    template <class T> static T partial(T x, T) { return T(1) / (x * std::numbers::ln10_v<T>); }
};

template <elementwise_operand X> [[nodiscard]] auto exp(const X& x) { return apply(exp_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto expm1(const X& x) { return apply(expm1_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto log(const X& x) { return apply(log_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto log1p(const X& x) { return apply(log1p_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto log2(const X& x) { return apply(log2_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto log10(const X& x) { return apply(log10_op{}, x); }

} // namespace etape
