// Reductions: sum and mean over all elements and over an axis, amax.
#include <cmath>
#include <limits>

#include "support/tensor_check.hpp"

using etape_test::check_tensor_gradient;
using etape_test::spread;

TEST_CASE_TEMPLATE("sum and mean over each axis of a rank-3 tensor", T, ETAPE_TEST_TYPES)
{
    const etape::shape s{2, 3, 4};
    const auto at = spread<T>(s);
    for (std::size_t axis = 0; axis < 3; ++axis) {
        CAPTURE(axis);
        // weight the reduced tensor unequally so a wrong index cannot pass
        check_tensor_gradient<T>(
            [axis](const etape::active_tensor<T>& x) {
                const etape::active_tensor<T> r = etape::sum(x * x, axis);
                const etape::active_tensor<T> m = etape::mean(x, axis);
                etape::var<T> total = T(0);
                for (std::size_t i = 0; i < r.size(); ++i)
                    total += r.at(i) * T(i + 1) + m.at(i) * T(2 * i + 1);
                return total;
            },
            [axis, s](auto x) {
                std::size_t outer = 1, inner = 1;
                for (std::size_t a = 0; a < axis; ++a)
                    outer *= s[a];
                for (std::size_t a = axis + 1; a < 3; ++a)
                    inner *= s[a];
                const std::size_t extent = s[axis];
                long double total = 0;
                for (std::size_t o = 0; o < outer; ++o)
                    for (std::size_t j = 0; j < inner; ++j) {
                        long double r = 0, m = 0;
                        for (std::size_t k = 0; k < extent; ++k) {
                            const long double v = x[(o * extent + k) * inner + j];
                            r += v * v;
                            m += v;
                        }
                        const std::size_t i = o * inner + j;
                        total += r * static_cast<long double>(i + 1) +
                                 m / static_cast<long double>(extent) * static_cast<long double>(2 * i + 1);
                    }
                return total;
            },
            at);
    }
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(at);
    CHECK(etape::sum(x, 1).shape() == etape::shape{2, 4});
    CHECK_THROWS_WITH_AS((void)etape::sum(x, 3), "etape: sum: axis 3 of a tensor of shape [2, 3, 4]", etape::shape_error);
}

TEST_CASE_TEMPLATE("amax over all elements and over an axis", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(etape::tensor<T>({2, 3}, {T(1), T(5), T(-2), T(7), T(0), T(7)}));
    const etape::var<T> m = etape::amax(x);
    CHECK(m.value() == T(7));
    const auto [g] = etape::gradient(m, x);
    CHECK(g(1, 0) == T(1)); // the first of the tied maxima
    CHECK(g(1, 2) == T(0));

    const etape::active_tensor<T> rows = etape::amax(x, 1);
    CHECK(rows.values()[0] == T(5));
    CHECK(rows.values()[1] == T(7));
    const etape::var<T> y = rows.at(0) * 3.0 + rows.at(1);
    const auto [gr] = etape::gradient(y, x);
    CHECK(gr(0, 1) == T(3));
    CHECK(gr(1, 0) == T(1));
    CHECK(gr(0, 0) + gr(0, 2) + gr(1, 1) + gr(1, 2) == T(0));

    const etape::active_tensor<T> cols = etape::amax(x * x, 0);
    CHECK(cols.shape() == etape::shape{3});
    CHECK(cols.values()[2] == T(49));
}

TEST_CASE("amax propagates NaN and rejects an empty tensor")
{
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> x(etape::tensor<double>({3}, {1.0, std::nan(""), 2.0}));
    const etape::var<double> m = etape::amax(x);
    CHECK(std::isnan(m.value()));
    const auto [g] = etape::gradient(m, x);
    CHECK(g(1) == 1.0);
    const etape::active_tensor<double> empty(etape::tensor<double>({0}));
    CHECK_THROWS_AS((void)etape::amax(empty), etape::shape_error);
}
