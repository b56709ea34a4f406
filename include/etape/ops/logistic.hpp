// The logistic family: sigmoid, softplus (its integral) and silu (x times
// it). Layer: ops. Each is written so that no intermediate overflows.
// sigmoid and softplus(x, beta, threshold) take SIMD batches (core/batch.hpp).
//
// softplus(x, beta, threshold) is PyTorch's Softplus: (1/beta) log(1 + e^(beta
// x)), and x itself where beta x > threshold (defaults 1 and 20). softplus(x)
// keeps no threshold: past 20 the linear branch is off by log1p(e^-x) <
// 2.1e-9, below half an ulp of x in float but up to 1e-10 relative in double.
#pragma once

#include <cmath>
#include <concepts>
#include <limits>
#include <string_view>

#include <etape/core/number_text.hpp>
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

/// softplus with PyTorch's beta and threshold; beta must be positive and
/// finite, the threshold not NaN (+inf: never linear).
template <std::floating_point T>
struct thresholded_softplus_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "softplus";
    static constexpr bool takes_batches = true;

    explicit thresholded_softplus_op(T beta_ = T(1), T threshold_ = T(20)) : beta(beta_), threshold(threshold_)
    {
        if (!(beta > T(0)) || beta == std::numeric_limits<T>::infinity()) [[unlikely]]
            detail::throw_invalid_number("etape::softplus: beta must be positive and finite, got ", beta);
        if (std::isnan(threshold)) [[unlikely]]
            detail::throw_invalid_number("etape::softplus: threshold must not be NaN, got ", threshold);
    }

    /// z = beta x; z > threshold ? x : (max(z, 0) + log1p(e^-|z|)) / beta
    [[nodiscard]] T primal(T x) const
    {
        const T z = beta * x;
        return z > threshold ? x : (std::fmax(z, T(0)) + std::log1p(std::exp(-std::fabs(z)))) / beta;
    }
    /// d/dx = z > threshold ? 1 : sigmoid(z)
    [[nodiscard]] T partial(T x, T) const
    {
        const T z = beta * x;
        return z > threshold ? T(1) : detail::logistic(z);
    }
    template <simd::batch_of<T> V> [[nodiscard]] V primal(V x) const
    {
        const V z = V(beta) * x;
        const V smooth = (simd::select(z > V(0), z, V(0)) + simd::log1p(simd::exp(-simd::fabs(z)))) / V(beta);
        return simd::select(z > V(threshold), x, smooth);
    }
    template <simd::batch_of<T> V> [[nodiscard]] V partial(V x, V) const
    {
        const V z = V(beta) * x;
        return simd::select(z > V(threshold), V(1), detail::logistic(z));
    }

    T beta;
    T threshold;
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
/// PyTorch's softplus(x, beta, threshold); softplus(x, 1, inf) on numbers and
/// vars is softplus(x), bit for bit.
template <elementwise_operand X>
[[nodiscard]] auto softplus(const X& x, scalar_t<X> beta, scalar_t<X> threshold = scalar_t<X>(20))
{
    return apply(thresholded_softplus_op<scalar_t<X>>(beta, threshold), x);
}
template <elementwise_operand X> [[nodiscard]] auto silu(const X& x) { return apply(silu_op{}, x); }

} // namespace etape
