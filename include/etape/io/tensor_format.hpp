// fmt formatters for shape, tensor and active_tensor, printed like NumPy: a
// header line, then the values in nested brackets. Layer: io.
//
//   fmt::format("{}", shape)          [2, 3]            (rank 0: [])
//   fmt::format("{:.3f}", tensor)     tensor<double> [2, 3]
//                                     [[1.000, 2.000, 3.000],
//                                      [4.000, 5.000, 6.000]]
//   fmt::format("{}", active_tensor)  active_tensor<float> [2], slots 10..11
//                                     [1, 2]
//
// The format spec is the elements' spec ({} prints each element shortest
// round-trip, NaN and inf as fmt prints them). Every element is then padded
// on the left to the widest printed one, so that columns line up. One
// innermost row goes on a line; rows of a matrix are separated by a line
// break, matrices of a rank-3 tensor by one blank line, and the rank-3
// blocks of a rank-4 tensor by two (NumPy's layout). A rank-0 tensor prints
// its one value without brackets, an empty tensor (an extent 0) prints [].
// Past 1000 elements the output is abbreviated: along each axis longer than
// 6, only the first 3 and the last 3 indices are printed, with "..." in
// place of the others (on its own line for an outer axis).
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/shape.hpp>
#include <etape/tensor/tensor.hpp>
#include <etape/io/value_format.hpp>

namespace etape::detail {

/// Tensors with more elements than this are abbreviated (NumPy's threshold).
inline constexpr std::size_t print_threshold = 1000;
/// The indices kept at each end of an abbreviated axis (NumPy's edgeitems).
inline constexpr std::size_t print_edge_items = 3;

template <std::floating_point T>
constexpr std::string_view element_type_name() noexcept
{
    if constexpr (std::same_as<T, float>)
        return "float";
    else if constexpr (std::same_as<T, double>)
        return "double";
    else if constexpr (std::same_as<T, long double>)
        return "long double";
    else
        return "floating point";
}

/// The columns `text` takes: its code points, as a fill character of the
/// spec (`{:→>8}`) may take several bytes of UTF-8 and yet one column.
inline std::size_t columns_of(std::string_view text) noexcept
{
    std::size_t columns = 0;
    for (const char c : text)
        columns += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0; // continuation bytes add no column
    return columns;
}

/// Calls `index(i)` for every printed index of an axis of `extent` in
/// order, and `ellipsis()` once where the unprinted ones would be.
template <class Index, class Ellipsis>
void for_each_printed(std::size_t extent, bool abbreviated, Index index, Ellipsis ellipsis)
{
    const bool skips = abbreviated && extent > 2 * print_edge_items;
    for (std::size_t i = 0; i < extent; ++i) {
        if (skips && i == print_edge_items) {
            ellipsis();
            i = extent - print_edge_items;
        }
        index(i);
    }
}

/// Writes `values`, of shape `s`, in nested brackets; each element is
/// formatted with `spec` and the caller's arguments (for a dynamic width
/// or precision such as `{:{}.{}f}`).
template <class T>
fmt::appender format_values(const etape::shape& s, std::span<const T> values, const value_format_spec& spec,
                            fmt::format_context& ctx)
{
    auto out = ctx.out();
    if (values.empty())
        return format_into(out, "[]");
    const std::size_t rank = s.rank();
    const bool abbreviated = values.size() > print_threshold;
    std::array<std::size_t, etape::shape::max_rank> stride{};
    std::size_t step = 1;
    for (std::size_t a = rank; a > 0; --a) {
        stride[a - 1] = step;
        step *= s[a - 1];
    }

    // Every printed element is formatted first, as the padding of each one
    // depends on the widest of all.
    std::vector<std::string> printed;
    std::size_t widest = 0;
    const auto format_element = [&](std::size_t flat) {
        printed.push_back(spec.format(values[flat], ctx));
        widest = std::max(widest, columns_of(printed.back()));
    };
    const auto collect = [&](const auto& self, std::size_t axis, std::size_t offset) -> void {
        if (axis == rank)
            return format_element(offset);
        for_each_printed(
            s[axis], abbreviated, [&](std::size_t i) { self(self, axis + 1, offset + i * stride[axis]); }, [] {});
    };
    collect(collect, 0, 0);

    std::size_t next = 0;
    const auto write_element = [&] {
        const std::string& text = printed[next++];
        out = std::fill_n(out, widest - columns_of(text), ' ');
        out = std::copy(text.begin(), text.end(), out);
    };
    // Children of `axis` are separated by ", " in a row, and otherwise by
    // a line break per axis they contain below a row, with the next child
    // indented under its opening bracket.
    const auto write_separator = [&](std::size_t axis) {
        const std::size_t axes_below = rank - axis - 1;
        if (axes_below == 0)
            out = format_into(out, ", ");
        else
            out = format_into(out, ",{}{}", std::string(axes_below, '\n'), std::string(axis + 1, ' '));
    };
    const auto write_block = [&](const auto& self, std::size_t axis) -> void {
        if (axis == rank)
            return write_element();
        out = format_into(out, "[");
        bool first = true;
        const auto before_child = [&] {
            if (!first)
                write_separator(axis);
            first = false;
        };
        for_each_printed(
            s[axis], abbreviated,
            [&](std::size_t) {
                before_child();
                self(self, axis + 1);
            },
            [&] {
                before_child();
                out = format_into(out, "...");
            });
        out = format_into(out, "]");
    };
    write_block(write_block, 0);
    return out;
}

} // namespace etape::detail

template <>
struct fmt::formatter<etape::shape> {
    constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
    template <class Context>
    auto format(const etape::shape& s, Context& ctx) const
    {
        auto out = ctx.out();
        *out++ = '[';
        for (std::size_t a = 0; a < s.rank(); ++a)
            out = a == 0 ? etape::detail::format_into(out, "{}", s[a]) : etape::detail::format_into(out, ", {}", s[a]);
        *out++ = ']';
        return out;
    }
};

// The tensors' formatters take fmt::format_context, the context of every
// fmt::format, format_to and print: each element is formatted with the
// caller's arguments, which only that context carries.

template <class T>
struct fmt::formatter<etape::tensor<T>> {
    etape::detail::value_format_spec element;

    template <class ParseContext>
    constexpr auto parse(ParseContext& ctx)
    {
        return element.parse<T>(ctx);
    }
    auto format(const etape::tensor<T>& t, fmt::format_context& ctx) const
    {
        etape::detail::format_into(ctx.out(), "tensor<{}> {}\n", etape::detail::element_type_name<T>(), t.shape());
        return etape::detail::format_values(t.shape(), t.values(), element, ctx);
    }
};

template <class T>
struct fmt::formatter<etape::active_tensor<T>> {
    etape::detail::value_format_spec element;

    template <class ParseContext>
    constexpr auto parse(ParseContext& ctx)
    {
        return element.parse<T>(ctx);
    }
    auto format(const etape::active_tensor<T>& t, fmt::format_context& ctx) const
    {
        etape::detail::format_into(ctx.out(), "active_tensor<{}> {}, ", etape::detail::element_type_name<T>(),
                                   t.shape());
        if (t.size() == 0)
            etape::detail::format_into(ctx.out(), "no slots\n");
        else
            etape::detail::format_into(ctx.out(), "slots {}..{}\n", t.first_slot(), t.first_slot() + (t.size() - 1));
        return etape::detail::format_values(t.shape(), t.values(), element, ctx);
    }
};
