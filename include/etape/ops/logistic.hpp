// The logistic family: sigmoid, softplus (its integral) and silu (x times
// it). Layer: ops. Each is written so that no intermediate overflows.
// sigmoid takes SIMD batches (core/batch.hpp).
#pragma once

#include <cmath>
#include <string_view>

#include <etape/core/unary_expr.hpp>

namespace etape {

namespace detail {

/// 1 / (1 + e^-x), through e^-|x| so that it never overflows.
template <class T>
T logistic(T x)
{
    const T e = std::exp(-std::fabs(x));
    return x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
}

template <simd::batch_type V>
V logistic(V x)
{
    const V e = simd::exp(-simd::fabs(x));
    return simd::select(x >= V(0), V(1) / (V(1) + e), e / (V(1) + e));
}

} // namespace detail

struct sigmoid_op {
    static constexpr derivative_source source = derivative_source::output;
    static constexpr std::string_view name = "sigmoid";
    static constexpr bool takes_batches = true;
    template <class T> static T primal(T x) { return detail::logistic(x); }
    /// d/dx sigmoid = y (1 - y)
    template <class T> static T partial(T, T y) { return y * (T(1) - y); }
};

struct softplus_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "softplus";
    /// log(1 + e^x) = max(x, 0) + log1p(e^-|x|)
    template <class T> static T primal(T x) { return std::fmax(x, T(0)) + std::log1p(std::exp(-std::fabs(x))); }
    /// d/dx softplus = sigmoid(x)
    template <class T> static T partial(T x, T) { return detail::logistic(x); }
};

struct silu_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "silu";
    template <class T> static T primal(T x) { return x * detail::logistic(x); }
    /// d/dx x s(x) = s (1 + x (1 - s))
    template <class T> static T partial(T x, T)
    {
        const T s = detail::logistic(x);
        return s * (T(1) + x * (T(1) - s));
    }
};

template <elementwise_operand X> [[nodiscard]] auto sigmoid(const X& x) { return apply(sigmoid_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto softplus(const X& x) { return apply(softplus_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto silu(const X& x) { return apply(silu_op{}, x); }

} // namespace etape
