// The error function and its complement: erf, erfc.
// Layer: ops. erf takes SIMD batches (core/batch.hpp); erfc stays on libm
// (the SIMD library's erfc loses precision in its tail).
#pragma once

#include <cmath>
#include <numbers>
#include <string_view>

#include <etape/core/unary_expr.hpp>

namespace etape {

struct erf_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "erf";
    static constexpr bool takes_batches = true;
    template <class T> static T primal(T x) { return std::erf(x); }
    template <simd::batch_type V> static V primal(V x) { return simd::erf(x); }
    /// d/dx erf = 2/sqrt(pi) exp(-x^2)
    template <class T> static T partial(T x, T) { return T(2) * std::numbers::inv_sqrtpi_v<T> * std::exp(-x * x); }
    template <simd::batch_type V> static V partial(V x, V)
    {
        using T = typename V::value_type;
        return V(T(2) * std::numbers::inv_sqrtpi_v<T>) * simd::exp(-x * x);
    }
};

struct erfc_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "erfc";
    template <class T> static T primal(T x) { return std::erfc(x); }
    template <class T> static T partial(T x, T) { return T(-2) * std::numbers::inv_sqrtpi_v<T> * std::exp(-x * x); }
};

template <elementwise_operand X> [[nodiscard]] auto erf(const X& x) { return apply(erf_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto erfc(const X& x) { return apply(erfc_op{}, x); }

} // namespace etape
