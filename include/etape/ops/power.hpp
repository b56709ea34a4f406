// Powers and roots: sqrt, cbrt, pow (var^const, const^var, var^var).
// Layer: ops.
#pragma once

#include <cmath>
#include <string_view>

#include <etape/core/binary_expr.hpp>
#include <etape/core/unary_expr.hpp>

namespace etape {

struct sqrt_op {
    static constexpr derivative_source source = derivative_source::output;
    static constexpr std::string_view name = "sqrt";
    static constexpr bool takes_batches = true;
    template <class T> static T primal(T x) { return std::sqrt(x); }
    template <simd::batch_type V> static V primal(V x) { return simd::sqrt(x); }
    /// d/dx sqrt = 1 / (2y): +inf at 0, NaN below 0 (as the value)
    template <class T> static T partial(T, T y) { return T(0.5) / y; }
};

struct cbrt_op {
    static constexpr derivative_source source = derivative_source::output;
    static constexpr std::string_view name = "cbrt";
    template <class T> static T primal(T x) { return std::cbrt(x); }
    /// d/dx cbrt = 1 / (3 y^2)
    template <class T> static T partial(T, T y) { return T(1) / (T(3) * y * y); }
};

/// a^b. d/da = b a^(b-1); d/db = y log(a), taken as 0 where a == 0 and
/// b >= 0 (the limit, as PyTorch does); NaN for a < 0 (log of a negative).
struct pow_op {
    static constexpr std::string_view name = "pow";
    template <class T> static T primal(T a, T b) { return std::pow(a, b); }
    template <class T> static T partial_left(T a, T b, T) { return b * std::pow(a, b - T(1)); }
    template <class T> static T partial_right(T a, T b, T y)
    {
        return (a == T(0) && b >= T(0)) ? T(0) : y * std::log(a);
    }
};

template <elementwise_operand X> [[nodiscard]] auto sqrt(const X& x) { return apply(sqrt_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto cbrt(const X& x) { return apply(cbrt_op{}, x); }
template <elementwise_operand A, elementwise_operand B> [[nodiscard]] auto pow(const A& a, const B& b) { return apply(pow_op{}, a, b); }

} // namespace etape
