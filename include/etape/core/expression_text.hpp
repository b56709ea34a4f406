// The text of an expression type, for anomaly reports: the statement
// `y = elu(w * x + b)` reads "elu((a0 * a1) + a2)", its active operands
// numbered in recording order and constants written "c". Built from the
// type alone, at compile time when the primitives' names are constants (as
// docs/primitives.md declares them), so a statement stores a function
// pointer, not a string, and a program holds a few bytes of text per
// expression type rather than the code that would write it.
// Layer: core.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

#include <etape/core/primitive.hpp>

namespace etape {

template <class P, class A>
class unary_expr;
template <class P, class A, class B>
class binary_expr;

namespace detail {

template <class T>
struct constant;

/// Writes text into a buffer, or only counts it when the buffer is null.
struct text_writer {
    char* out = nullptr;
    std::size_t length = 0;

    constexpr void put(std::string_view s) noexcept
    {
        if (out != nullptr)
            for (std::size_t i = 0; i < s.size(); ++i)
                out[length + i] = s[i];
        length += s.size();
    }
    constexpr void put_number(std::size_t n) noexcept
    {
        std::size_t digits = 1;
        for (std::size_t rest = n / 10; rest != 0; rest /= 10)
            ++digits;
        if (out != nullptr)
            for (std::size_t i = digits, rest = n; i-- > 0; rest /= 10)
                out[length + i] = static_cast<char>('0' + rest % 10);
        length += digits;
    }
};

/// Primary: an active leaf (a var, a fused kernel's numbered leaf).
template <class E>
struct expression_text {
    static constexpr void write(text_writer& w, std::size_t& leaf, bool /*nested*/) noexcept
    {
        w.put("a");
        w.put_number(leaf++);
    }
};

template <class T>
struct expression_text<constant<T>> {
    static constexpr void write(text_writer& w, std::size_t&, bool) noexcept { w.put("c"); }
};

/// An operator's symbol (+ - * /), when its primitive declares one.
template <class P>
concept has_symbol = requires { P::symbol; };

template <class P, class A>
struct expression_text<unary_expr<P, A>> {
    static constexpr void write(text_writer& w, std::size_t& leaf, bool)
    {
        if constexpr (has_symbol<P>) {
            w.put(P::symbol);
            expression_text<A>::write(w, leaf, true);
        } else {
            w.put(primitive_name<P>());
            w.put("(");
            expression_text<A>::write(w, leaf, false);
            w.put(")");
        }
    }
};

template <class P, class A, class B>
struct expression_text<binary_expr<P, A, B>> {
    static constexpr void write(text_writer& w, std::size_t& leaf, bool nested)
    {
        if constexpr (has_symbol<P>) {
            if (nested)
                w.put("(");
            expression_text<A>::write(w, leaf, true);
            w.put(" ");
            w.put(P::symbol);
            w.put(" ");
            expression_text<B>::write(w, leaf, true);
            if (nested)
                w.put(")");
        } else {
            w.put(primitive_name<P>());
            w.put("(");
            expression_text<A>::write(w, leaf, false);
            w.put(", ");
            expression_text<B>::write(w, leaf, false);
            w.put(")");
        }
    }
};

/// The length of E's text.
template <class E>
constexpr std::size_t expression_text_length()
{
    text_writer counter;
    std::size_t leaf = 0;
    expression_text<E>::write(counter, leaf, false);
    return counter.length;
}

/// Whether E's text is a constant: its primitives' names are.
template <class E>
concept text_is_constant = requires { typename std::integral_constant<std::size_t, expression_text_length<E>()>; };

/// E's text, written at compile time.
template <text_is_constant E>
inline constexpr auto expression_text_of = [] {
    std::array<char, expression_text_length<E>()> text{};
    text_writer w{text.data()};
    std::size_t leaf = 0;
    expression_text<E>::write(w, leaf, false);
    return text;
}();

/// The describe_function of expression type E.
template <class E>
void describe_expression(std::string& out)
{
    if constexpr (text_is_constant<E>) {
        out.append(expression_text_of<E>.data(), expression_text_of<E>.size());
    } else { // a primitive's name known only when the program runs
        const std::size_t at = out.size();
        out.resize(at + expression_text_length<E>());
        text_writer w{out.data() + at};
        std::size_t leaf = 0;
        expression_text<E>::write(w, leaf, false);
    }
}

} // namespace detail
} // namespace etape
