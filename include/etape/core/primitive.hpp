// The primitive concept: how etape (and its users) describe a differentiable
// function. Layer: core (the contract every struct under ops/ meets).
//
// A unary primitive is a small struct:
//
//     struct isrlu_op {
//         static constexpr etape::derivative_source source = etape::derivative_source::input;
//         static constexpr std::string_view name = "isrlu";
//         double a = 1;
//         template <class T> T primal(T x) const { ... }           // y = f(x)
//         template <class T> T partial(T x, T /*y*/) const { ... } // dy/dx
//     };
//
// `partial` receives both the input x and the output y; `source` says which
// of them it reads, so that fused tensor kernels (and the docs) know what
// must be kept for the reverse pass. A binary primitive has primal(a, b),
// partial_left(a, b, y) and partial_right(a, b, y).
//
// Optionally, a primitive also takes SIMD batches (core/batch.hpp): it sets
// `static constexpr bool takes_batches = true` and its primal and partial(s)
// accept a batch as well as a number; fused tensor loops then run it lanes
// at a time.
#pragma once

#include <concepts>
#include <string_view>

#include <etape/core/batch.hpp>

namespace etape {

/// Which values a primitive's partial reads.
enum class derivative_source {
    input,  ///< partial(x, y) reads only x
    output, ///< partial(x, y) reads only y (exp, tanh, sigmoid, the ELU family)
    both,   ///< reads both
};

template <class P, class T>
concept unary_primitive = std::floating_point<T> && requires(const P& p, T x) {
    { P::source } -> std::convertible_to<derivative_source>;
    { p.primal(x) } -> std::convertible_to<T>;
    { p.partial(x, x) } -> std::convertible_to<T>;
};

template <class P, class T>
concept binary_primitive = std::floating_point<T> && requires(const P& p, T a) {
    { p.primal(a, a) } -> std::convertible_to<T>;
    { p.partial_left(a, a, a) } -> std::convertible_to<T>;
    { p.partial_right(a, a, a) } -> std::convertible_to<T>;
};

/// The sentences etape::apply stops with when its first argument is not a
/// primitive of the operands' precision (a static_assert message must be a
/// literal, hence macros).
#define ETAPE_NOT_A_UNARY_PRIMITIVE                                                                                    \
    "etape::apply(p, x): p is not a unary primitive for x's precision: it needs a member "                            \
    "`static constexpr etape::derivative_source source` and const member functions primal(x) and partial(x, y) that " \
    "take and return that floating-point type (docs/primitives.md)"
#define ETAPE_NOT_A_BINARY_PRIMITIVE                                                                                   \
    "etape::apply(p, a, b): p is not a binary primitive for the operands' precision: it needs const member "          \
    "functions primal(a, b), partial_left(a, b, y) and partial_right(a, b, y) that take and return that "             \
    "floating-point type (docs/primitives.md)"

/// A primitive (unary or binary) that also runs on SIMD batches.
template <class P>
concept batch_primitive = requires { requires P::takes_batches; };

/// The primitive's `name` member, or "primitive" when it has none.
template <class P>
[[nodiscard]] constexpr std::string_view primitive_name() noexcept
{
    if constexpr (requires { P::name; })
        return std::string_view(P::name);
    else
        return "primitive";
}

} // namespace etape
