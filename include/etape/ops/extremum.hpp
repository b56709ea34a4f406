// Smaller and larger of two: fmin, fmax (a NaN operand is ignored, as in
// libm) and min, max (a NaN operand wins). At a tie the gradient is split
// in half between the two operands, as torch.maximum does.
// Layer: ops.
#pragma once

#include <cmath>
#include <string_view>

#include <etape/core/binary_expr.hpp>

namespace etape {

namespace detail {

/// Share of the gradient the left operand gets: all of it when it was
/// selected, none when the right one was, half at a tie.
template <class T>
constexpr T selected_share(T a, T b, bool left_wins, bool right_wins)
{
    if (left_wins)
        return T(1);
    if (right_wins)
        return T(0);
    return a == b ? T(0.5) : T(0);
}

} // namespace detail

struct fmax_op {
    static constexpr std::string_view name = "fmax";
    template <class T> static T primal(T a, T b) { return std::fmax(a, b); }
    template <class T> static T partial_left(T a, T b, T)
    {
        return detail::selected_share(a, b, a > b || std::isnan(b), b > a || std::isnan(a));
    }
    template <class T> static T partial_right(T a, T b, T y) { return partial_left(b, a, y); }
};

struct fmin_op {
    static constexpr std::string_view name = "fmin";
    template <class T> static T primal(T a, T b) { return std::fmin(a, b); }
    template <class T> static T partial_left(T a, T b, T)
    {
        return detail::selected_share(a, b, a < b || std::isnan(b), b < a || std::isnan(a));
    }
    template <class T> static T partial_right(T a, T b, T y) { return partial_left(b, a, y); }
};

struct max_op {
    static constexpr std::string_view name = "max";
    template <class T> static T primal(T a, T b) { return std::isnan(a) || std::isnan(b) ? a + b : (a < b ? b : a); }
    template <class T> static T partial_left(T a, T b, T)
    {
        return detail::selected_share(a, b, a > b || std::isnan(a), b > a || std::isnan(b));
    }
    template <class T> static T partial_right(T a, T b, T y) { return partial_left(b, a, y); }
};

struct min_op {
    static constexpr std::string_view name = "min";
    template <class T> static T primal(T a, T b) { return std::isnan(a) || std::isnan(b) ? a + b : (b < a ? b : a); }
    template <class T> static T partial_left(T a, T b, T)
    {
        return detail::selected_share(a, b, a < b || std::isnan(a), b < a || std::isnan(b));
    }
    template <class T> static T partial_right(T a, T b, T y) { return partial_left(b, a, y); }
};

template <elementwise_operand A, elementwise_operand B> [[nodiscard]] auto fmax(const A& a, const B& b) { return apply(fmax_op{}, a, b); }
template <elementwise_operand A, elementwise_operand B> [[nodiscard]] auto fmin(const A& a, const B& b) { return apply(fmin_op{}, a, b); }
template <elementwise_operand A, elementwise_operand B> [[nodiscard]] auto max(const A& a, const B& b) { return apply(max_op{}, a, b); }
template <elementwise_operand A, elementwise_operand B> [[nodiscard]] auto min(const A& a, const B& b) { return apply(min_op{}, a, b); }

} // namespace etape
