// fmt formatters for var (formatted as its value, with the value's format
// spec), tape_stats and gradient_check_report. Layer: io.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <string>
#include <type_traits>

#include <fmt/core.h>

#include <etape/core/gradient_check.hpp>
#include <etape/core/tape.hpp>
#include <etape/core/var.hpp>

namespace etape::detail {

// A var's format spec, kept as text and handed with the value to fmt's
// compiled library at format time: fmt's floating-point writer is not
// instantiated in the caller's translation unit, which saves about a second
// of -O2 compile time in every program that prints a var. The spec is still
// checked at compile time (by the value's own formatter, which parses it);
// a width or precision taken from an argument ("{:{}}", "{:.{1}}") is read
// from that argument when formatting.
class var_format_spec {
public:
    template <class T, class ParseContext>
    constexpr auto parse(ParseContext& ctx) -> typename ParseContext::iterator
    {
        ParseContext ids = ctx; // numbers the nested fields as the value's formatter does
        const auto begin = ctx.begin();
        const auto end = fmt::formatter<T>{}.parse(ctx);
        if (static_cast<std::size_t>(end - begin) + 3 > text_.size())
            ctx.on_error("etape: a var's format spec is longer than 45 characters");
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
                    ctx.on_error("etape: a var's width or precision must name its argument by number");
            }
            if (nested_count_ == nested_.size())
                ctx.on_error("etape: a var's format spec takes at most a width and a precision from arguments");
            nested_[nested_count_++] = {length_, id};
        }
        return end;
    }

    // Writes `value` with the spec into ctx's output.
    template <class T, class Context>
    auto format(T value, Context& ctx) const -> typename Context::iterator
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
        // fmt::vformat is compiled in libfmt; fmt::vformat_to is a template
        // that fmt/format.h, where it is included, would instantiate here.
        const std::string text = fmt::vformat(fmt::string_view(spec.data(), n), fmt::make_format_args(value));
        return std::copy(text.begin(), text.end(), ctx.out());
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
                    ctx.on_error("etape: a var's width or precision is negative");
                } else {
                    ctx.on_error("etape: a var's width or precision is not an integer");
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

template <class T>
struct fmt::formatter<etape::var<T>> {
    template <class ParseContext>
    constexpr auto parse(ParseContext& ctx)
    {
        return spec_.parse<T>(ctx);
    }
    template <class Context>
    auto format(const etape::var<T>& v, Context& ctx) const
    {
        return spec_.format(v.value(), ctx);
    }

private:
    etape::detail::var_format_spec spec_;
};

template <>
struct fmt::formatter<etape::tape_stats> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class Context>
    auto format(const etape::tape_stats& s, Context& ctx) const
    {
        return fmt::format_to(ctx.out(), "{} slots, {} statements, {} operands, {} nodes, {} bytes", s.slots,
                              s.statements, s.operands, s.nodes, s.bytes);
    }
};

template <class T>
struct fmt::formatter<etape::gradient_check_report<T>> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class Context>
    auto format(const etape::gradient_check_report<T>& r, Context& ctx) const
    {
        if (r.reverse.empty() && r.finite_difference.empty())
            return fmt::format_to(ctx.out(), "gradient check {}: no inputs", r.passed ? "passed" : "failed");
        if (r.worst >= r.reverse.size() || r.worst >= r.finite_difference.size()) // a report made by hand
            return fmt::format_to(ctx.out(), "gradient check {}: {} reverse components and {} finite differences",
                                  r.passed ? "passed" : "failed", r.reverse.size(), r.finite_difference.size());
        return fmt::format_to(ctx.out(),
                              "gradient check {}: worst component {} (reverse {:.17g}, finite difference {:.17g}, "
                              "{:.3g} of the tolerance)",
                              r.passed ? "passed" : "failed", r.worst, static_cast<double>(r.reverse[r.worst]),
                              static_cast<double>(r.finite_difference[r.worst]), static_cast<double>(r.worst_excess));
    }
};
