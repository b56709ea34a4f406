// Circular functions and their inverses: sin, cos, tan, asin, acos, atan, atan2.
// Layer: ops.
#pragma once

#include <cmath>
#include <string_view>

#include <etape/core/binary_expr.hpp>
#include <etape/core/unary_expr.hpp>

namespace etape {

struct sin_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "sin";
    template <class T> static T primal(T x) { return std::sin(x); }
    template <class T> static T partial(T x, T) { return std::cos(x); }
};

struct cos_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "cos";
    template <class T> static T primal(T x) { return std::cos(x); }
    template <class T> static T partial(T x, T) { return -std::sin(x); }
};

struct tan_op {
    static constexpr derivative_source source = derivative_source::output;
    static constexpr std::string_view name = "tan";
    template <class T> static T primal(T x) { return std::tan(x); }
    /// d/dx tan = 1 + y^2
    template <class T> static T partial(T, T y) { return T(1) + y * y; }
};

struct asin_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "asin";
    template <class T> static T primal(T x) { return std::asin(x); }
    /// 1 / sqrt((1 - x)(1 + x)), factored for accuracy near |x| = 1
    template <class T> static T partial(T x, T) { return T(1) / std::sqrt((T(1) - x) * (T(1) + x)); }
};

struct acos_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "acos";
    template <class T> static T primal(T x) { return std::acos(x); }
    template <class T> static T partial(T x, T) { return T(-1) / std::sqrt((T(1) - x) * (T(1) + x)); }
};

struct atan_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "atan";
    template <class T> static T primal(T x) { return std::atan(x); }
    template <class T> static T partial(T x, T) { return T(1) / (T(1) + x * x); }
};

/// atan2(a, b), the angle of the point (b, a): d/da = b / (a^2 + b^2),
/// d/db = -a / (a^2 + b^2); NaN at the origin, where it has no derivative.
struct atan2_op {
    static constexpr std::string_view name = "atan2";
    template <class T> static T primal(T a, T b) { return std::atan2(a, b); }
    template <class T> static T partial_left(T a, T b, T) { return b / (a * a + b * b); }
    template <class T> static T partial_right(T a, T b, T) { return -a / (a * a + b * b); }
};

template <elementwise_operand X> [[nodiscard]] auto sin(const X& x) { return apply(sin_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto cos(const X& x) { return apply(cos_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto tan(const X& x) { return apply(tan_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto asin(const X& x) { return apply(asin_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto acos(const X& x) { return apply(acos_op{}, x); }
template <elementwise_operand X> [[nodiscard]] auto atan(const X& x) { return apply(atan_op{}, x); }
template <elementwise_operand A, elementwise_operand B> [[nodiscard]] auto atan2(const A& a, const B& b) { return apply(atan2_op{}, a, b); }

} // namespace etape
