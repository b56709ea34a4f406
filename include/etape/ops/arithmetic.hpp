// + - * / and unary minus: their primitives and operators.
// Layer: ops (operators are found by ADL on etape expressions). Their
// templates serve numbers and SIMD batches alike (takes_batches).
#pragma once

#include <string_view>

#include <etape/core/binary_expr.hpp>
#include <etape/core/unary_expr.hpp>

namespace etape {

struct add_op {
    static constexpr std::string_view name = "add";
    static constexpr std::string_view symbol = "+";
    static constexpr bool takes_batches = true;
    template <class T> static constexpr T primal(T a, T b) { return a + b; }
    template <class T> static constexpr T partial_left(T, T, T) { return T(1); }
    template <class T> static constexpr T partial_right(T, T, T) { return T(1); }
};

struct subtract_op {
    static constexpr std::string_view name = "subtract";
    static constexpr std::string_view symbol = "-";
    static constexpr bool takes_batches = true;
    template <class T> static constexpr T primal(T a, T b) { return a - b; }
    template <class T> static constexpr T partial_left(T, T, T) { return T(1); }
    template <class T> static constexpr T partial_right(T, T, T) { return T(-1); }
};

struct multiply_op {
    static constexpr std::string_view name = "multiply";
    static constexpr std::string_view symbol = "*";
    static constexpr bool takes_batches = true;
    template <class T> static constexpr T primal(T a, T b) { return a * b; }
    template <class T> static constexpr T partial_left(T, T b, T) { return b; }
    template <class T> static constexpr T partial_right(T a, T, T) { return a; }
};

struct divide_op {
    static constexpr std::string_view name = "divide";
    static constexpr std::string_view symbol = "/";
    static constexpr bool takes_batches = true;
    template <class T> static constexpr T primal(T a, T b) { return a / b; }
    /// d(a/b)/da = 1/b
    template <class T> static constexpr T partial_left(T, T b, T) { return T(1) / b; }
    /// d(a/b)/db = -y/b, written with the same 1/b as partial_left so that
    /// a statement divides once
    template <class T> static constexpr T partial_right(T, T b, T y) { return -y * (T(1) / b); }
};

struct negate_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "negate";
    static constexpr std::string_view symbol = "-";
    static constexpr bool takes_batches = true;
    template <class T> static constexpr T primal(T x) { return -x; }
    template <class T> static constexpr T partial(T, T) { return T(-1); }
};

template <class A, class B>
    requires operand_pair<A, B>
[[nodiscard]] constexpr auto operator+(const A& a, const B& b)
{
    return apply(add_op{}, a, b);
}

template <class A, class B>
    requires operand_pair<A, B>
[[nodiscard]] constexpr auto operator-(const A& a, const B& b)
{
    return apply(subtract_op{}, a, b);
}

template <class A, class B>
    requires operand_pair<A, B>
[[nodiscard]] constexpr auto operator*(const A& a, const B& b)
{
    return apply(multiply_op{}, a, b);
}

template <class A, class B>
    requires operand_pair<A, B>
[[nodiscard]] constexpr auto operator/(const A& a, const B& b)
{
    return apply(divide_op{}, a, b);
}

template <expression A>
[[nodiscard]] constexpr auto operator-(const A& a)
{
    return apply(negate_op{}, a);
}

template <expression A>
[[nodiscard]] constexpr A operator+(const A& a)
{
    return a;
}

} // namespace etape
