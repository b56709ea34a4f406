// The expression node of a binary primitive (+, -, *, /, pow, atan2, ...),
// and apply() for two operands. Layer: core.
#pragma once

#include <etape/core/expression.hpp>
#include <etape/core/primitive.hpp>

namespace etape {

/// y = P(a, b); a passive side (a constant) records nothing and its partial
/// is never computed.
template <class P, class A, class B>
class binary_expr {
public:
    using value_type = typename A::value_type;
    static constexpr bool is_etape_expression = true;
    static constexpr std::size_t operand_count = A::operand_count + B::operand_count;

    constexpr binary_expr(const P& p, const A& a, const B& b)
        : a_(a), b_(b), p_(p), value_(static_cast<value_type>(p_.primal(a_.value(), b_.value())))
    {
    }

    /// Builds a from make_a() and b from make_b(), without copies.
    template <class MakeA, class MakeB>
    constexpr binary_expr(const P& p, detail::children_in_place_t, MakeA&& make_a, MakeB&& make_b)
        : a_(make_a()), b_(make_b()), p_(p), value_(static_cast<value_type>(p_.primal(a_.value(), b_.value())))
    {
    }

    [[nodiscard]] constexpr value_type value() const noexcept { return value_; }

    template <class Writer>
    [[gnu::always_inline]] constexpr void record(Writer& w, value_type multiplier) const
    {
        if constexpr (A::operand_count > 0)
            a_.record(w, multiplier * static_cast<value_type>(p_.partial_left(a_.value(), b_.value(), value_)));
        if constexpr (B::operand_count > 0)
            b_.record(w, multiplier * static_cast<value_type>(p_.partial_right(a_.value(), b_.value(), value_)));
    }

    template <class F>
    [[gnu::always_inline]] void for_each_var(F& f) const
    {
        a_.for_each_var(f);
        b_.for_each_var(f);
    }

private:
    A a_;
    B b_;
    [[no_unique_address]] P p_;
    value_type value_;
};

/// Calls binary primitive `p`: plain numbers give a plain number; when either
/// side is active the result is an expression node.
template <class P, operand A, operand B>
[[nodiscard]] constexpr auto apply(const P& p, const A& a, const B& b)
{
    if constexpr (expression<A> || expression<B>) {
        static_assert(operand_pair<A, B>, "etape: both active operands must have the same precision; convert one explicitly");
        using T = std::conditional_t<expression<A>, scalar_t<A>, scalar_t<B>>;
        static_assert(binary_primitive<P, T>, ETAPE_NOT_A_BINARY_PRIMITIVE);
        if constexpr (!binary_primitive<P, T>)
            return T{}; // never reached: only keeps the error to the sentence above
        else {
            using node_a = decltype(detail::as_node<T>(a));
            using node_b = decltype(detail::as_node<T>(b));
            return binary_expr<P, node_a, node_b>(p, detail::as_node<T>(a), detail::as_node<T>(b));
        }
    } else {
        using T = std::common_type_t<scalar_t<A>, scalar_t<B>>;
        using checked_as = std::conditional_t<std::floating_point<T>, T, double>; // integers call primal too
        static_assert(binary_primitive<P, checked_as>, ETAPE_NOT_A_BINARY_PRIMITIVE);
        if constexpr (!binary_primitive<P, checked_as>)
            return T{};
        else
            return static_cast<T>(p.primal(static_cast<T>(a), static_cast<T>(b)));
    }
}

} // namespace etape
