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

/// Two active operands of different precisions (`var<float> + var<double>`)
/// record on different tapes (one per precision) and cannot meet: each
/// operator refuses them with one sentence, not with the list of candidates
/// that did not match.
template <class A, class B>
concept mixed_precision_pair = expression<A> && expression<B> && !std::same_as<scalar_t<A>, scalar_t<B>>;

#define ETAPE_REFUSE_MIXED_PRECISION(OP)                                                                           \
    template <class A, class B>                                                                                  \
        requires mixed_precision_pair<A, B>                                                                      \
    scalar_t<A> operator OP(const A&, const B&)                                                                  \
    {                                                                                                            \
        static_assert(!mixed_precision_pair<A, B>,                                                            \
                      "etape: active operands of different precisions (var<float> and var<double>?) record on "   \
                      "different tapes and cannot meet in one statement: compute in one precision");              \
        return {};                                                                                               \
    }
ETAPE_REFUSE_MIXED_PRECISION(+)
ETAPE_REFUSE_MIXED_PRECISION(-)
ETAPE_REFUSE_MIXED_PRECISION(*)
ETAPE_REFUSE_MIXED_PRECISION(/)
#undef ETAPE_REFUSE_MIXED_PRECISION

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
