// The examples' command-line counts (epochs, layers, steps): a whole number
// in a range, or a one-line error that names the program and the argument.
#pragma once

#include <charconv>
#include <cstddef>
#include <limits>
#include <optional>
#include <string_view>
#include <system_error>

#include <fmt/core.h>

/// `text` as a whole number from `smallest` to `largest`. Otherwise prints
/// "<program>: <what> must be a whole number from <smallest> to <largest>,
/// got '<text>'" ("of at least <smallest>" where there is no largest) and
/// returns nothing.
inline std::optional<std::size_t> count_argument(std::string_view program, std::string_view what,
                                                 std::string_view text, std::size_t smallest,
                                                 std::size_t largest = std::numeric_limits<std::size_t>::max())
{
    std::size_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error == std::errc{} && end == text.data() + text.size() && value >= smallest && value <= largest)
        return value;
    if (largest == std::numeric_limits<std::size_t>::max())
        fmt::print(stderr, "{}: {} must be a whole number of at least {}, got '{}'\n", program, what, smallest, text);
    else
        fmt::print(stderr, "{}: {} must be a whole number from {} to {}, got '{}'\n", program, what, smallest, largest,
                   text);
    return std::nullopt;
}
