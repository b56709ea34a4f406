// Magnitudes: abs (and its alias fabs) and hypot.
// Layer: ops.
#pragma once

#include <cmath>
#include <string_view>

#include <etape/core/binary_expr.hpp>
#include <etape/core/unary_expr.hpp>

namespace etape {

/// |x|; its partial is sign(x), 0 at x == 0 (the subgradient PyTorch uses).
struct abs_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "abs";
    template <class T> static T primal(T x) { return std::fabs(x); }
    template <class T> static T partial(T x, T) { return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0)); }
};

/// sqrt(a^2 + b^2) without overflow; partials a/y and b/y (NaN at the
/// origin, where it has no derivative).
struct hypot_op {
    static constexpr std::string_view name = "hypot";
    template <class T> static T primal(T a, T b) { return std::hypot(a, b); }
    template <class T> static T partial_left(T a, T, T y) { return a / y; }
    template <class T> static T partial_right(T, T b, T y) { return b / y; }
};

template <elementwise_operand X> [[nodiscard]] auto abs(const X& x) { return apply(abs_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto fabs(const X& x) { return apply(abs_op{}, x); }
template <elementwise_operand A, elementwise_operand B> [[nodiscard]] auto hypot(const A& a, const B& b) { return apply(hypot_op{}, a, b); }

} // namespace etape
