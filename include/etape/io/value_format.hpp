// The format spec of a floating-point value, kept as text and handed with
// the value to fmt's compiled library (libfmt's fmt::vformat) when
// formatting: fmt's floating-point writer is not instantiated in the
// caller's translation unit, which saves about a second of -O2 compile time
// in every program that prints a var, and these formatters need only
// <fmt/core.h>. The spec is still checked at compile time, by the value's
// own formatter, which parses it; a width or precision taken from an
// argument ("{:{}}", "{:.{1}}") is read from that argument when
// formatting. Used by the formatters of var (io/format.hpp) and of the
// tensors (io/tensor_format.hpp), which write all their text through
// format_into below. Layer: io.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <concepts>
#include <cstddef>
#include <string>
#include <type_traits>

#include <fmt/core.h>

namespace etape::detail {

/// Writes fmt::format(format, args...) to `out` and returns the iterator
/// past it. Through libfmt's compiled fmt::vformat, where fmt::format_to
/// would call a template of fmt's: one that fmt/format.h, where included,
/// instantiates in the caller's translation unit, and whose instantiation
/// in a GCC-built libfmt (Debian's) Clang names differently, so that a
/// program including only <fmt/core.h> fails to link under Clang.
template <class Out, class... Args>
Out format_into(Out out, fmt::format_string<Args...> format, Args&&... args)
{
    const std::string text = fmt::vformat(format, fmt::make_format_args(args...));
    return std::copy(text.begin(), text.end(), out);
}

class value_format_spec {
public:
    /// Parses the spec of a T at ctx (up to its closing brace), as
    /// fmt::formatter<T> does, and keeps it.
    template <std::floating_point T, class ParseContext>
    constexpr auto parse(ParseContext& ctx) -> typename ParseContext::iterator
    {
        ParseContext ids = ctx; // numbers the nested fields as the value's formatter does
        const auto begin = ctx.begin();
        const auto end = fmt::formatter<T>{}.parse(ctx);
        if (static_cast<std::size_t>(end - begin) + 3 > text_.size())
            ctx.on_error("etape: a format spec is longer than 45 characters");
        for (auto it = begin; it != end; ++it) {
            if (*it != '{') {
                text_[length_++] = *it;
                continue;
            }
            ++it;
            int id = 0;
            if (*it == '}') {
                id = ids.next_arg_id();
            } else {
                for (; *it >= '0' && *it <= '9'; ++it)
                    id = id * 10 + (*it - '0');
                if (*it != '}')
                    ctx.on_error("etape: a width or precision must name its argument by number");
            }
            if (nested_count_ == nested_.size())
                ctx.on_error("etape: a format spec takes at most a width and a precision from arguments");
            nested_[nested_count_++] = {length_, id};
        }
        return end;
    }

    /// `value` formatted with the spec; a width or precision from an
    /// argument is read from ctx's arguments.
    template <std::floating_point T, class Context>
    std::string format(T value, Context& ctx) const
    {
        std::array<char, 96> spec{};
        std::size_t n = 0;
        spec[n++] = '{';
        spec[n++] = ':';
        std::size_t copied = 0;
        for (std::size_t f = 0; f < nested_count_; ++f) {
            for (; copied < nested_[f].at; ++copied)
                spec[n++] = text_[copied];
            const auto digits = std::to_chars(spec.data() + n, spec.data() + spec.size() - 1,
                                              nested_argument(ctx, nested_[f].id));
            n = static_cast<std::size_t>(digits.ptr - spec.data());
        }
        for (; copied < length_; ++copied)
            spec[n++] = text_[copied];
        spec[n++] = '}';
        return fmt::vformat(fmt::string_view(spec.data(), n), fmt::make_format_args(value));
    }

private:
    template <class Context>
    static unsigned long long nested_argument(Context& ctx, int id)
    {
        return fmt::visit_format_arg(
            [&ctx](auto v) -> unsigned long long {
                using argument = decltype(v);
                if constexpr (std::is_integral_v<argument> && !std::is_same_v<argument, bool> &&
                              !std::is_same_v<argument, char>) {
                    if (v >= 0)
                        return static_cast<unsigned long long>(v);
                    ctx.on_error("etape: a width or precision is negative");
                } else {
                    ctx.on_error("etape: a width or precision is not an integer");
                }
                return 0;
            },
            ctx.arg(id));
    }

    struct nested_field {
        std::size_t at = 0; // where in text_ the argument's number goes
        int id = 0;
    };
    std::array<char, 48> text_{};
    std::size_t length_ = 0;
    std::array<nested_field, 2> nested_{};
    std::size_t nested_count_ = 0;
};

} // namespace etape::detail
