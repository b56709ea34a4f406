// What an etape expression is: the concept every active type satisfies, the
// passive constant leaf, and the writer that statements record through.
// Layer: core (the vocabulary of var and of the expression nodes).
//
// An expression node E provides
//   E::value_type         float, double or long double
//   E::operand_count      number of active leaves, known at compile time
//   e.value()             the value, computed once when the node was built
//   e.record(w, m)        pushes (slot, m * d e / d leaf) for every leaf
//   e.for_each_var(f)     calls f(v) for every var leaf v (the statement's
//                         check of its operands, check_operands)
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <etape/core/config.hpp>

namespace etape {

template <class T>
class tape;

/// An active etape expression (a var or a node built from vars).
template <class E>
concept expression = requires {
    typename std::remove_cvref_t<E>::value_type;
    requires std::remove_cvref_t<E>::is_etape_expression;
    { std::remove_cvref_t<E>::operand_count } -> std::convertible_to<std::size_t>;
};

/// A plain number that may stand next to an expression (it records nothing).
template <class X>
concept passive_number = std::is_arithmetic_v<std::remove_cvref_t<X>> && !std::same_as<std::remove_cvref_t<X>, bool>;

/// Anything an etape scalar function accepts: an expression or a plain number.
template <class X>
concept operand = expression<X> || passive_number<X>;

/// An active tensor or a fused tensor expression (tensor/ layer).
template <class X>
concept tensor_expression = requires { requires std::remove_cvref_t<X>::is_etape_tensor_expression; };

/// Anything an elementwise function accepts: a scalar operand or a tensor expression.
template <class X>
concept elementwise_operand = operand<X> || tensor_expression<X>;

namespace detail {

template <class X>
struct scalar_of {
    using type = double; // integers act as double constants
};
template <std::floating_point X>
struct scalar_of<X> {
    using type = X;
};
template <class X>
    requires expression<X> || tensor_expression<X>
struct scalar_of<X> {
    using type = typename X::value_type;
};

} // namespace detail

/// The floating-point type an operand computes in.
template <class X>
using scalar_t = typename detail::scalar_of<std::remove_cvref_t<X>>::type;

/// Two operands that may meet in a binary operation: at least one active,
/// and active ones of the same precision (mix precisions explicitly).
template <class A, class B>
concept operand_pair = operand<A> && operand<B> && (expression<A> || expression<B>) &&
                       (!(expression<A> && expression<B>) || std::same_as<scalar_t<A>, scalar_t<B>>);

/// The value of an operand, active or not.
template <operand X>
[[nodiscard]] constexpr scalar_t<X> value(const X& x) noexcept
{
    if constexpr (expression<X>)
        return x.value();
    else
        return static_cast<scalar_t<X>>(x);
}

namespace detail {

/// A passive number inside an expression: it has a value and no operand.
template <class T>
struct constant {
    using value_type = T;
    static constexpr bool is_etape_expression = false;
    static constexpr std::size_t operand_count = 0;

    T v;
    [[nodiscard]] constexpr T value() const noexcept { return v; }
    template <class Writer>
    constexpr void record(Writer&, T) const noexcept
    {
    }
    template <class F>
    constexpr void for_each_var(F&) const noexcept
    {
    }
};

/// Turns an operand into an expression node of precision T.
template <class T, class X>
constexpr auto as_node(const X& x)
{
    if constexpr (expression<X>)
        return x;
    else
        return constant<T>{static_cast<T>(x)};
}

/// Tag of the node constructors that build their children in place from
/// callables returning them (prvalues, so nothing is copied). Fused tensor
/// loops build a node tree per element or SIMD batch; copying batch-sized
/// children into each level cost more than the math (g++ made the copies
/// calls to memcpy).
struct children_in_place_t {};
inline constexpr children_in_place_t children_in_place{};

/// Where a statement's operands go while it records: straight into the
/// tape's operand arrays, reserved beforehand for operand_count entries.
template <class T>
struct operand_writer {
    T* partial;
    slot_index* slot;

    void push(slot_index s, T d) noexcept
    {
        *partial++ = d;
        *slot++ = s;
    }
};

/// Throws tape_error unless every var of `e` belongs to the current
/// recording of `t` (var::check_on), before the statement writes anything.
/// The tape's mark is read once, so that an operand of this recording
/// costs one comparison (var::check_operand_on).
template <class T, class E>
[[gnu::always_inline]] inline void check_operands(const tape<T>& t, const E& e)
{
    if constexpr (E::operand_count > 0) {
        const std::uint32_t mark_now = t.recording_mark();
        auto check = [&](const auto& v) { v.check_operand_on(t, mark_now); };
        e.for_each_var(check);
    }
}

} // namespace detail
} // namespace etape
