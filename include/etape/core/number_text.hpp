// Shortest round-trip text of a number, for error messages.
// Layer: core.
#pragma once

#include <charconv>
#include <string>

namespace etape::detail {

template <class T>
[[nodiscard]] std::string number_text(T value)
{
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, result.ptr);
}

} // namespace etape::detail
