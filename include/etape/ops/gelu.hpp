// GELU in its exact (erf) form: x Phi(x), Phi the standard normal CDF.
// Layer: ops.
#pragma once

#include <cmath>
#include <numbers>
#include <string_view>

#include <etape/core/unary_expr.hpp>

namespace etape {

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

template <elementwise_operand X> [[nodiscard]] auto gelu(const X& x) { return apply(gelu_op{}, x); }

} // namespace etape
