// Numbers as text for messages: a number's shortest round-trip text, and a
// count with its noun ("1 slot", "3 slots"). Layer: core.
#pragma once

#include <charconv>
#include <stdexcept>
#include <string>

namespace etape::detail {

template <class T>
[[nodiscard]] std::string number_text(T value)
{
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, result.ptr);
}

/// "1 slot", "0 slots", "3 slots": the count, then the noun, in the plural
/// unless the count is 1.
[[nodiscard]] inline std::string counted(unsigned long long count, const char* noun)
{
    std::string text = std::to_string(count);
    text += ' ';
    text += noun;
    if (count != 1)
        text += 's';
    return text;
}

/// Throws std::invalid_argument(before + number_text(value) + after). Out of
/// line and cold: a primitive that checks its parameter (ELU's alpha) is
/// constructed once per statement, and the message's string code inlined
/// there made g++ stop inlining the constructor into recording loops.
template <class T>
[[noreturn, gnu::cold, gnu::noinline]] void throw_invalid_number(const char* before, T value, const char* after = "")
{
    throw std::invalid_argument(before + number_text(value) + after);
}

} // namespace etape::detail
