// GELU in its exact (erf) form, x Phi(x), and in PyTorch's tanh
// approximation. Layer: ops.
//
//     gelu(x)                      = x Phi(x), Phi the standard normal CDF
//     gelu(x, approximate::tanh)   = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
//
// The tanh form is evaluated as x sigmoid(t), t = 2 sqrt(2/pi) (x + 0.044715 x^3),
// the same function (1 + tanh(u) = 2 sigmoid(2u)) without the cancellation of
// 1 + tanh(u) in the left tail, where gelu(x) is tiny but not zero. It takes
// SIMD batches (core/batch.hpp); the erf form stays on libm (xsimd's erfc
// loses up to 1e-6 relative in its tail, docs/tensors.md).
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <string_view>

#include <etape/core/unary_expr.hpp>

namespace etape {

/// The form of GELU, as PyTorch's `approximate` argument: none (erf) or tanh.
enum class approximate { none, tanh };

struct gelu_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "gelu";
    /// x Phi(x) = x erfc(-x / sqrt 2) / 2 (erfc keeps the left tail accurate)
    template <class T> static T primal(T x) { return T(0.5) * x * std::erfc(-x * inv_sqrt2<T>); }
    /// d/dx = Phi(x) + x phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi)
    template <class T> static T partial(T x, T)
    {
        const T cdf = T(0.5) * std::erfc(-x * inv_sqrt2<T>);
        const T pdf = std::exp(T(-0.5) * x * x) * inv_sqrt2<T> * std::numbers::inv_sqrtpi_v<T>;
        return cdf + x * pdf;
    }

private:
    template <class T> static constexpr T inv_sqrt2 = T(1) / std::numbers::sqrt2_v<T>;
};

/// GELU's tanh approximation: x sigmoid(t), t = a x + b x^3 with
/// a = 2 sqrt(2/pi), b = 0.044715 a.
struct gelu_tanh_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "gelu_tanh";
    static constexpr bool takes_batches = true;

    /// sigmoid(t) = (t >= 0 ? 1 : e) / (1 + e), e = exp(-|t|), which never
    /// overflows; t may (|x| > 1e13 in float), and t = +-inf gives 1 or 0
    template <class T> static T primal(T x)
    {
        const T t = x * (a<T> + b<T> * x * x);
        const T e = std::exp(-std::fabs(t));
        return x * ((t >= T(0) ? T(1) : e) / (T(1) + e));
    }
    /// d/dx = sigmoid(t) + x t' sigmoid(t) (1 - sigmoid(t)), t' = a + 3 b x^2,
    /// and sigmoid (1 - sigmoid) = e / (1 + e)^2 without cancellation. The
    /// second term is 0 where e is (|x| > 11 in float, 22 in double): x t'
    /// could overflow there.
    template <class T> static T partial(T x, T)
    {
        const T t = x * (a<T> + b<T> * x * x);
        const T e = std::exp(-std::fabs(t));
        const T d = T(1) + e;
        const T s = (t >= T(0) ? T(1) : e) / d;
        return e > T(0) ? s + x * (a<T> + T(3) * b<T> * x * x) * (e / (d * d)) : s;
    }

    template <simd::batch_type V> static V primal(V x)
    {
        using T = typename V::value_type;
        const V t = x * (V(a<T>) + V(b<T>) * x * x);
        const V e = simd::exp(-simd::fabs(t));
        return x * (simd::select(t >= V(0), V(1), e) / (V(1) + e));
    }
    template <simd::batch_type V> static V partial(V x, V)
    {
        using T = typename V::value_type;
        const V t = x * (V(a<T>) + V(b<T>) * x * x);
        const V e = simd::exp(-simd::fabs(t));
        const V d = V(1) + e;
        const V s = simd::select(t >= V(0), V(1), e) / d;
        return simd::select(e > V(0), s + x * (V(a<T>) + V(3) * V(b<T>) * x * x) * (e / (d * d)), s);
    }

private:
    template <class T> static constexpr T a = static_cast<T>(1.5957691216057307117597842397375L); // 2 sqrt(2/pi)
    template <class T> static constexpr T b = static_cast<T>(0.044715L * 1.5957691216057307117597842397375L);
};

namespace detail {

/// f on each lane of x: the erf form inside a batch loop.
template <class V, class F> V lane_by_lane(const V& x, F f)
{
    std::array<typename V::value_type, V::size> xs;
    x.store_unaligned(xs.data());
    for (auto& v : xs)
        v = f(v);
    return V::load_unaligned(xs.data());
}

/// f(x, y) on each pair of lanes.
template <class V, class F> V lane_by_lane(const V& x, const V& y, F f)
{
    std::array<typename V::value_type, V::size> xs, ys;
    x.store_unaligned(xs.data());
    y.store_unaligned(ys.data());
    for (std::size_t i = 0; i < V::size; ++i)
        xs[i] = f(xs[i], ys[i]);
    return V::load_unaligned(xs.data());
}

} // namespace detail

/// GELU in the form chosen when the expression is built. A tanh form runs
/// on batches as gelu_tanh_op; an erf form inside a batch loop runs lane by
/// lane on libm, with the values and partials of gelu_op.
struct gelu_approximate_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "gelu";
    static constexpr bool takes_batches = true;
    approximate form = approximate::none;

    template <class T> [[nodiscard]] T primal(T x) const
    {
        return form == approximate::tanh ? gelu_tanh_op::primal(x) : gelu_op::primal(x);
    }
    template <class T> [[nodiscard]] T partial(T x, T y) const
    {
        return form == approximate::tanh ? gelu_tanh_op::partial(x, y) : gelu_op::partial(x, y);
    }
    template <simd::batch_type V> [[nodiscard]] V primal(V x) const
    {
        using T = typename V::value_type;
        if (form == approximate::tanh)
            return gelu_tanh_op::primal(x);
        return detail::lane_by_lane(x, [](T v) { return gelu_op::primal(v); });
    }
    template <simd::batch_type V> [[nodiscard]] V partial(V x, V y) const
    {
        using T = typename V::value_type;
        if (form == approximate::tanh)
            return gelu_tanh_op::partial(x, y);
        return detail::lane_by_lane(x, y, [](T v, T w) { return gelu_op::partial(v, w); });
    }
};

template <elementwise_operand X> [[nodiscard]] auto gelu(const X& x) { return apply(gelu_op{}, x); }
/// gelu(x, approximate::tanh) is PyTorch's gelu(x, approximate='tanh');
/// gelu(x, approximate::none) has the values and partials of gelu(x).
template <elementwise_operand X> [[nodiscard]] auto gelu(const X& x, approximate form)
{
    return apply(gelu_approximate_op{form}, x);
}

} // namespace etape
