// The expression node of a unary primitive, and apply(), which calls a
// primitive on a plain number or builds the node on an expression.
// Layer: core (every unary function of ops/ goes through apply()).
#pragma once

#include <etape/core/expression.hpp>
#include <etape/core/primitive.hpp>

namespace etape {

/// y = P(a): keeps y so that a partial from the output costs nothing.
template <class P, class A>
class unary_expr {
public:
    using value_type = typename A::value_type;
    static constexpr bool is_etape_expression = true;
    static constexpr std::size_t operand_count = A::operand_count;

    constexpr unary_expr(const P& p, const A& a) : a_(a), p_(p), value_(static_cast<value_type>(p_.primal(a_.value())))
    {
    }

    /// Builds a from make_a(), without a copy.
    template <class MakeA>
    constexpr unary_expr(const P& p, detail::children_in_place_t, MakeA&& make_a)
        : a_(make_a()), p_(p), value_(static_cast<value_type>(p_.primal(a_.value())))
    {
    }

    [[nodiscard]] constexpr value_type value() const noexcept { return value_; }

    template <class Writer>
    [[gnu::always_inline]] constexpr void record(Writer& w, value_type multiplier) const
    {
        a_.record(w, multiplier * static_cast<value_type>(p_.partial(a_.value(), value_)));
    }

    template <class F>
    [[gnu::always_inline]] void for_each_var(F& f) const
    {
        a_.for_each_var(f);
    }

private:
    A a_;
    [[no_unique_address]] P p_;
    value_type value_;
};

/// Calls primitive `p` on `x`: a plain number gives a plain number, an
/// expression gives an expression node that records like a builtin. A `p`
/// that is not a unary primitive stops the build with one sentence.
template <class P, operand X>
[[nodiscard]] constexpr auto apply(const P& p, const X& x)
{
    static_assert(unary_primitive<P, scalar_t<X>>, ETAPE_NOT_A_UNARY_PRIMITIVE);
    if constexpr (!unary_primitive<P, scalar_t<X>>)
        return scalar_t<X>{}; // never reached: only keeps the error to the sentence above
    else if constexpr (expression<X>)
        return unary_expr<P, X>(p, x);
    else
        return static_cast<scalar_t<X>>(p.primal(static_cast<scalar_t<X>>(x)));
}

} // namespace etape
