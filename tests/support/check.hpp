// Test helpers: gradient checks of etape functions at lists of points.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <etape/etape.hpp>

namespace etape_test {

/// The precisions every differentiable operation is tested in.
#define ETAPE_TEST_TYPES float, double

/// A point next to 0, well inside float's normal range.
inline constexpr long double tiny = 1e-30L;

/// The bits of a float or a double: equal bits are the same number, NaN and
/// the sign of zero included.
template <class T>
auto bits_of(T v) noexcept
{
    return std::bit_cast<std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>(v);
}

/// Distance in units in the last place: the number of representable values
/// between a and b (0 for two NaNs, and between +0 and -0; "infinite" when
/// only one is NaN).
template <class T>
double ulp_distance(T a, T b)
{
    if (std::isnan(a) || std::isnan(b))
        return std::isnan(a) && std::isnan(b) ? 0.0 : std::numeric_limits<double>::infinity();
    using bits = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
    using ubits = std::make_unsigned_t<bits>;
    const auto ordered = [](T v) -> bits {
        const bits i = std::bit_cast<bits>(v);
        return i < 0 ? bits(-(i & std::numeric_limits<bits>::max())) : i; // -0 and +0 meet at 0
    };
    const bits oa = ordered(a), ob = ordered(b);
    return static_cast<double>(oa > ob ? ubits(oa) - ubits(ob) : ubits(ob) - ubits(oa));
}

/// Checks that got[i] and want[i] have the same bits for every i.
template <class T>
void check_same_bits(std::span<const T> got, std::span<const T> want)
{
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        CAPTURE(i);
        CAPTURE(got[i]);
        CAPTURE(want[i]);
        CHECK(bits_of(got[i]) == bits_of(want[i]));
    }
}

/// The exception of type E that f() throws; fails the test when f throws
/// none (an exception of another type propagates).
template <class E, class F>
E thrown_by(F&& f)
{
    try {
        std::forward<F>(f)();
    } catch (const E& e) {
        return e;
    }
    FAIL("no exception of the expected type was thrown");
    throw std::logic_error("unreachable: FAIL throws");
}

/// Checks f's gradient at every point (one input each).
template <class T, class F>
void check_unary_at(F f, std::initializer_list<long double> points,
                    etape::gradient_check_options options = etape::gradient_check_options::for_type<T>())
{
    for (const long double p : points) {
        const std::vector<T> x{static_cast<T>(p)};
        const auto report = etape::check_gradient(f, x, options);
        INFO(fmt::format("x = {}: {}", static_cast<double>(x[0]), report));
        CHECK(report.passed);
    }
}

/// Checks f's gradient at every pair of points.
template <class T, class F>
void check_binary_at(F f, std::initializer_list<std::pair<long double, long double>> points,
                     etape::gradient_check_options options = etape::gradient_check_options::for_type<T>())
{
    for (const auto& [a, b] : points) {
        const std::vector<T> x{static_cast<T>(a), static_cast<T>(b)};
        const auto report = etape::check_gradient(f, x, options);
        INFO(fmt::format("(a, b) = ({}, {}): {}", static_cast<double>(x[0]), static_cast<double>(x[1]), report));
        CHECK(report.passed);
    }
}

/// The derivative etape records for f at x (one input).
template <class T, class F>
T derivative_at(F f, T x)
{
    return etape::gradient(f, std::vector<T>{x})[0];
}

/// Options whose step is relative to |x| (for points next to a kink).
template <class T>
etape::gradient_check_options relative_step()
{
    auto o = etape::gradient_check_options::for_type<T>();
    o.step_floor = 0;
    return o;
}

} // namespace etape_test
