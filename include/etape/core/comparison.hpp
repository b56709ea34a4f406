// Comparisons of expressions: passive, they compare values and record nothing.
// Layer: core.
#pragma once

#include <compare>

#include <etape/core/expression.hpp>

namespace etape {

template <class A, class B>
    requires operand_pair<A, B>
[[nodiscard]] constexpr bool operator==(const A& a, const B& b) noexcept
{
    return value(a) == value(b);
}

template <class A, class B>
    requires operand_pair<A, B>
[[nodiscard]] constexpr std::partial_ordering operator<=>(const A& a, const B& b) noexcept
{
    return value(a) <=> value(b);
}

} // namespace etape
