// max_pool2d and avg_pool2d: one node each, values and gradients against a
// reference written from the definition (overlapping windows, gaps, batches,
// channels, non-square images), ties, NaN, expressions, shape errors, an
// empty batch.
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <stdexcept>
#include <vector>

#include "support/tensor_check.hpp"

using etape_test::check_tensor_gradient;
using etape_test::loss;
using etape_test::output_weights;
using etape_test::spread;

namespace {

struct pool_case {
    std::size_t n, c, h, w, size, stride;

    [[nodiscard]] std::size_t oh() const { return (h - size) / stride + 1; }
    [[nodiscard]] std::size_t ow() const { return (w - size) / stride + 1; }
    [[nodiscard]] etape::shape x_shape() const { return {n, c, h, w}; }
    [[nodiscard]] etape::shape y_shape() const { return {n, c, oh(), ow()}; }
    [[nodiscard]] etape::pool2d_options options() const { return {.size = size, .stride = stride}; }
};

/// y[n, c, i, j] = max (or mean) of x[n, c, i s + p, j s + q] over p, q < size.
std::vector<long double> reference_pool(const pool_case& k, std::span<const long double> x, bool max)
{
    std::vector<long double> y(k.y_shape().size());
    for (std::size_t plane = 0; plane < k.n * k.c; ++plane)
        for (std::size_t i = 0; i < k.oh(); ++i)
            for (std::size_t j = 0; j < k.ow(); ++j) {
                long double m = -std::numeric_limits<long double>::infinity(), s = 0;
                for (std::size_t p = 0; p < k.size; ++p)
                    for (std::size_t q = 0; q < k.size; ++q) {
                        const long double v = x[(plane * k.h + i * k.stride + p) * k.w + j * k.stride + q];
                        m = v > m ? v : m;
                        s += v;
                    }
                y[(plane * k.oh() + i) * k.ow() + j] = max ? m : s / static_cast<long double>(k.size * k.size);
            }
    return y;
}

// clang-format off
const std::vector<pool_case> cases = {
    // n  c  h  w size stride
    {2, 3, 4, 6, 2, 2},
    {1, 2, 5, 5, 2, 2}, // the last row and column are in no window
    {2, 2, 7, 6, 3, 2}, // overlapping windows
    {1, 3, 6, 8, 2, 3}, // gaps between windows
    {2, 1, 5, 4, 3, 1},
    {1, 2, 3, 5, 1, 2},
    {1, 1, 4, 4, 4, 4}, // one window: global pooling
};
// clang-format on

} // namespace

TEST_CASE_TEMPLATE("max_pool2d and avg_pool2d record one tape node each and match the definition", T, ETAPE_TEST_TYPES)
{
    for (const pool_case& k : cases) {
        CAPTURE(k.size);
        CAPTURE(k.stride);
        etape::tape_scope<T> scope;
        const etape::active_tensor<T> x(spread<T>(k.x_shape()));
        const std::vector<long double> xv(x.values().begin(), x.values().end());
        for (const bool max : {true, false}) {
            CAPTURE(max);
            const auto before = scope.get().stats();
            const etape::active_tensor<T> y =
                max ? etape::max_pool2d(x, k.options()) : etape::avg_pool2d(x, k.options());
            const auto after = scope.get().stats();
            CHECK(after.nodes - before.nodes == 1);
            CHECK(after.statements == before.statements);
            CHECK(after.slots - before.slots == y.size());
            REQUIRE(y.shape() == k.y_shape());
            const auto expected = reference_pool(k, xv, max);
            for (std::size_t i = 0; i < y.size(); ++i) {
                if (max)
                    CHECK(static_cast<long double>(y.values()[i]) == expected[i]); // a copy of one input
                else
                    CHECK(y.values()[i] == doctest::Approx(static_cast<double>(expected[i])).epsilon(1e-6));
            }
        }
    }
}

TEST_CASE_TEMPLATE("pooling gradients against finite differences", T, ETAPE_TEST_TYPES)
{
    for (const pool_case& k : cases) {
        CAPTURE(k.n);
        CAPTURE(k.c);
        CAPTURE(k.h);
        CAPTURE(k.w);
        CAPTURE(k.size);
        CAPTURE(k.stride);
        const auto r = output_weights<T>(k.y_shape());
        const auto at = spread<T>(k.x_shape()); // distinct values: no ties within a step
        check_tensor_gradient<T>(
            [&](const etape::active_tensor<T>& x) { return loss<T>(etape::max_pool2d(x, k.options()), r); },
            [&](std::span<const long double> x) { return loss<T>(reference_pool(k, x, true), r); }, at);
        check_tensor_gradient<T>(
            [&](const etape::active_tensor<T>& x) { return loss<T>(etape::avg_pool2d(x, k.options()), r); },
            [&](std::span<const long double> x) { return loss<T>(reference_pool(k, x, false), r); }, at);
    }
}

TEST_CASE_TEMPLATE("max_pool2d sends a tie to the first maximum", T, ETAPE_TEST_TYPES)
{
    // four 2 x 2 windows of x [1, 1, 2, 8]; output adjoints 1, 2, 3, 4
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(etape::tensor<T>({1, 1, 2, 8}, {T(1), T(1), T(0), T(3), T(5), T(2), T(4), T(4), //
                                                                    T(1), T(1), T(1), T(3), T(5), T(5), T(4), T(4)}));
    const etape::active_tensor<T> y = etape::max_pool2d(x);
    REQUIRE(y.shape() == etape::shape{1, 1, 1, 4});
    const etape::tensor<T> r({1, 1, 1, 4}, {T(1), T(2), T(3), T(4)});
    const auto [g] = etape::gradient(etape::sum(y * r), x);
    const std::vector<T> expected{T(1), T(0), T(0), T(2), T(3), T(0), T(4), T(0), //
                                  T(0), T(0), T(0), T(0), T(0), T(0), T(0), T(0)};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(i);
        CHECK(g.values()[i] == expected[i]);
    }
}

TEST_CASE_TEMPLATE("pooling propagates NaN, and max pooling sends its gradient to the first NaN", T, ETAPE_TEST_TYPES)
{
    const T nan = std::numeric_limits<T>::quiet_NaN();
    // four 2 x 2 windows of x [1, 1, 2, 8]: a NaN after the maximum, NaNs
    // before and after it, a NaN last, none
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(etape::tensor<T>({1, 1, 2, 8}, {T(5), nan, nan, T(5), T(1), T(2), T(1), T(2), //
                                                                    T(1), T(2), nan, T(7), T(3), nan, T(3), T(4)}));
    const etape::tensor<T> r({1, 1, 1, 4}, {T(1), T(2), T(3), T(4)});

    const etape::active_tensor<T> y = etape::max_pool2d(x);
    CHECK(std::isnan(y.values()[0]));
    CHECK(std::isnan(y.values()[1]));
    CHECK(std::isnan(y.values()[2]));
    CHECK(y.values()[3] == T(4));
    // the adjoints of y are r, finite
    const auto [g] = etape::gradient(etape::sum(y * r), x);
    const std::vector<T> expected{T(0), T(1), T(2), T(0), T(0), T(0), T(0), T(0), //
                                  T(0), T(0), T(0), T(0), T(0), T(3), T(0), T(4)};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(i);
        CHECK(g.values()[i] == expected[i]);
    }

    const etape::active_tensor<T> a = etape::avg_pool2d(x);
    CHECK(std::isnan(a.values()[0]));
    CHECK(std::isnan(a.values()[2]));
    CHECK(a.values()[3] == T(2.5));
    const auto [ga] = etape::gradient(etape::sum(a * r), x);
    for (std::size_t i = 0; i < 16; ++i)
        CHECK(ga.values()[i] == r.data()[(i % 8) / 2] / 4);
}

TEST_CASE_TEMPLATE("pooling an expression records it first", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(spread<T>({2, 2, 4, 4}));
    const auto before = scope.get().stats();
    const etape::active_tensor<T> y = etape::max_pool2d(-x, {.size = 2, .stride = 1});
    CHECK(scope.get().stats().nodes - before.nodes == 2);
    REQUIRE(y.shape() == etape::shape{2, 2, 3, 3});
    const auto [g] = etape::gradient(etape::sum(etape::avg_pool2d(x * T(2))), x);
    for (const T v : g.values())
        CHECK(v == doctest::Approx(0.5));
}

// The messages of these errors are checked in tests/reliability/invalid_input.cpp.
TEST_CASE("a rejected pooling call records nothing")
{
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> x(etape::tensor<double>({1, 2, 3, 5}));
    CHECK_THROWS_AS((void)etape::max_pool2d(x.reshape({2, 3, 5})), etape::shape_error);
    CHECK_THROWS_AS((void)etape::avg_pool2d(x, {.size = 4, .stride = 1}), etape::shape_error);
    CHECK_THROWS_AS((void)etape::max_pool2d(x, {.size = 0, .stride = 1}), std::invalid_argument);
    CHECK_THROWS_AS((void)etape::avg_pool2d(x, {.size = 2, .stride = 0}), std::invalid_argument);
    CHECK(scope.get().stats().nodes == 0);
    // a stride past the input takes the one window at the origin
    CHECK(etape::avg_pool2d(x, {.size = 3, .stride = 5}).shape() == etape::shape{1, 2, 1, 1});
}

TEST_CASE_TEMPLATE("pooling an empty batch", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    for (const etape::shape s : {etape::shape{0, 3, 4, 4}, etape::shape{2, 0, 4, 4}}) {
        const etape::active_tensor<T> x{etape::tensor<T>(s)};
        const etape::active_tensor<T> m = etape::max_pool2d(x);
        const etape::active_tensor<T> a = etape::avg_pool2d(x, {.size = 3, .stride = 1});
        CHECK(m.shape() == etape::shape{s[0], s[1], 2, 2});
        CHECK(a.shape() == etape::shape{s[0], s[1], 2, 2});
        const etape::var<T> total = etape::sum(m) + etape::sum(a);
        CHECK(total.value() == T(0));
        const auto [g] = etape::gradient(total, x);
        CHECK(g.size() == 0);
    }
}
