// fmt formatters for var (formatted as its value, with the value's format
// spec), tape_stats and gradient_check_report. Layer: io.
#pragma once

#include <algorithm>
#include <string>

#include <fmt/core.h>

#include <etape/core/gradient_check.hpp>
#include <etape/core/number_text.hpp>
#include <etape/core/tape.hpp>
#include <etape/core/var.hpp>
#include <etape/io/value_format.hpp>

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
        const std::string text = spec_.format(v.value(), ctx);
        return std::copy(text.begin(), text.end(), ctx.out());
    }

private:
    etape::detail::value_format_spec spec_;
};

template <>
struct fmt::formatter<etape::tape_stats> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class Context>
    auto format(const etape::tape_stats& s, Context& ctx) const
    {
        using etape::detail::counted;
        return etape::detail::format_into(ctx.out(), "{}, {}, {}, {}, {}", counted(s.slots, "slot"),
                                          counted(s.statements, "statement"), counted(s.operands, "operand"),
                                          counted(s.nodes, "node"), counted(s.bytes, "byte"));
    }
};

template <class T>
struct fmt::formatter<etape::gradient_check_report<T>> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class Context>
    auto format(const etape::gradient_check_report<T>& r, Context& ctx) const
    {
        if (r.reverse.empty() && r.finite_difference.empty())
            return etape::detail::format_into(ctx.out(), "gradient check {}: no inputs",
                                              r.passed ? "passed" : "failed");
        if (r.worst >= r.reverse.size() || r.worst >= r.finite_difference.size()) // a report made by hand
            return etape::detail::format_into(
                ctx.out(), "gradient check {}: {} reverse components and {} finite differences",
                r.passed ? "passed" : "failed", r.reverse.size(), r.finite_difference.size());
        return etape::detail::format_into(
            ctx.out(),
            "gradient check {}: worst component {} (reverse {:.17g}, finite difference {:.17g}, "
            "{:.3g} of the tolerance)",
            r.passed ? "passed" : "failed", r.worst, static_cast<double>(r.reverse[r.worst]),
            static_cast<double>(r.finite_difference[r.worst]), static_cast<double>(r.worst_excess));
    }
};
