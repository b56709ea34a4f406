// The text of an expression type, for anomaly reports: the statement
// `y = elu(w * x + b)` reads "elu((a0 * a1) + a2)", its active operands
// numbered in recording order and constants written "c". Built from the
// type alone, so a statement stores a function pointer, not a string.
// Layer: core.
#pragma once

#include <cstddef>
#include <string>

#include <etape/core/primitive.hpp>

namespace etape {

template <class P, class A>
class unary_expr;
template <class P, class A, class B>
class binary_expr;

namespace detail {

template <class T>
struct constant;

/// Primary: an active leaf (a var, a fused kernel's numbered leaf).
template <class E>
struct expression_text {
    static void append(std::string& out, std::size_t& leaf, bool /*nested*/)
    {
        out += 'a';
        out += std::to_string(leaf++);
    }
};

template <class T>
struct expression_text<constant<T>> {
    static void append(std::string& out, std::size_t&, bool) { out += 'c'; }
};

/// An operator's symbol (+ - * /), when its primitive declares one.
template <class P>
concept has_symbol = requires { P::symbol; };

template <class P, class A>
struct expression_text<unary_expr<P, A>> {
    static void append(std::string& out, std::size_t& leaf, bool)
    {
        if constexpr (has_symbol<P>) {
            out += P::symbol;
            expression_text<A>::append(out, leaf, true);
        } else {
            out += primitive_name<P>();
            out += '(';
            expression_text<A>::append(out, leaf, false);
            out += ')';
        }
    }
};

template <class P, class A, class B>
struct expression_text<binary_expr<P, A, B>> {
    static void append(std::string& out, std::size_t& leaf, bool nested)
    {
        if constexpr (has_symbol<P>) {
            if (nested)
                out += '(';
            expression_text<A>::append(out, leaf, true);
            out += ' ';
            out += P::symbol;
            out += ' ';
            expression_text<B>::append(out, leaf, true);
            if (nested)
                out += ')';
        } else {
            out += primitive_name<P>();
            out += '(';
            expression_text<A>::append(out, leaf, false);
            out += ", ";
            expression_text<B>::append(out, leaf, false);
            out += ')';
        }
    }
};

/// The describe_function of expression type E.
template <class E>
void describe_expression(std::string& out)
{
    std::size_t leaf = 0;
    expression_text<E>::append(out, leaf, false);
}

} // namespace detail
} // namespace etape
