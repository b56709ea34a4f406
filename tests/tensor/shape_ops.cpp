// reshape/flatten views, concat, gather_rows, element access.
#include <stdexcept>
#include <vector>

#include "support/tensor_check.hpp"

using etape_test::check_tensor_gradient;
using etape_test::spread;

TEST_CASE_TEMPLATE("reshape and flatten are views: no node, same slots", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(spread<T>({2, 6}));
    const auto nodes = scope.get().stats().nodes;
    const etape::active_tensor<T> r = x.reshape({3, 4});
    const etape::active_tensor<T> f = x.flatten();
    CHECK(scope.get().stats().nodes == nodes);
    CHECK(r.first_slot() == x.first_slot());
    CHECK(r(2, 3).slot() == x(1, 5).slot());
    CHECK(f.shape() == etape::shape{12});
    const etape::var<T> y = etape::sum(r * r);
    const auto [g] = etape::gradient(y, x);
    CHECK(g(1, 5) == doctest::Approx(2 * x.values()[11]));
}

TEST_CASE_TEMPLATE("concat along each axis", T, ETAPE_TEST_TYPES)
{
    for (std::size_t axis = 0; axis < 2; ++axis) {
        CAPTURE(axis);
        etape::tape_scope<T> scope;
        const etape::active_tensor<T> a(spread<T>({2, 3}));
        const etape::active_tensor<T> b(spread<T>(axis == 0 ? etape::shape{1, 3} : etape::shape{2, 1}, 2.0));
        const etape::active_tensor<T> c = etape::concat({a, b}, axis);
        CHECK(c.shape() == (axis == 0 ? etape::shape{3, 3} : etape::shape{2, 4}));
        etape::var<T> y = T(0);
        for (std::size_t i = 0; i < c.size(); ++i)
            y += c.at(i) * T(i + 1);
        const auto [ga, gb] = etape::gradient(y, a, b);
        // element (r, col) of c sits at flat r * width + col
        const std::size_t width = c.shape()[1];
        for (std::size_t r = 0; r < 2; ++r)
            for (std::size_t col = 0; col < 3; ++col)
                CHECK(ga(r, col) == T(r * width + col + 1));
        CHECK(gb.values()[0] == (axis == 0 ? T(7) : T(4)));
        CHECK(c.values()[axis == 0 ? 6 : 3] == b.values()[0]);
    }
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> a(etape::tensor<double>({2, 3}));
    const etape::active_tensor<double> b(etape::tensor<double>({2, 2}));
    CHECK_THROWS_WITH_AS((void)etape::concat({a, b}, 0), "etape: shape mismatch in concat: [2, 3] and [2, 2]",
                         etape::shape_error);
}

TEST_CASE_TEMPLATE("gather_rows with repeated indices", T, ETAPE_TEST_TYPES)
{
    const std::vector<std::size_t> rows{2, 0, 2};
    check_tensor_gradient<T>(
        [&](const etape::active_tensor<T>& x) {
            const etape::active_tensor<T> g = etape::gather_rows(x, rows);
            etape::var<T> y = T(0);
            for (std::size_t i = 0; i < g.size(); ++i)
                y += g.at(i) * g.at(i) * T(i + 1);
            return y;
        },
        [&](auto x) {
            long double y = 0;
            for (std::size_t r = 0; r < 3; ++r)
                for (std::size_t c = 0; c < 2; ++c) {
                    const long double v = x[rows[r] * 2 + c];
                    y += v * v * static_cast<long double>(r * 2 + c + 1);
                }
            return y;
        },
        spread<T>({4, 2}));
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(spread<T>({4, 2}));
    CHECK_THROWS_WITH_AS((void)etape::gather_rows(x, std::vector<std::size_t>{1, 4}),
                         "etape: gather_rows: index 4 (position 1) out of range for extent 4", std::out_of_range);
}

TEST_CASE("element access out of range in the checked build")
{
    etape::tensor<double> t({2, 3});
    if constexpr (etape::checked_build) {
        CHECK_THROWS_WITH_AS((void)t(1, 3), "etape: index 3 out of range for axis 1 of extent 3 in [2, 3]",
                             std::out_of_range);
        CHECK_THROWS_AS((void)t(1), std::out_of_range);
    } else {
        CHECK(&t(1, 2) == t.data() + 5);
    }
}

TEST_CASE("a shape with more elements than a tape can hold is rejected")
{
    CHECK_THROWS_WITH_AS(etape::shape({1u << 20, 1u << 20}),
                         "etape: a tensor of shape [1048576, 1048576] has more elements than a tape can hold",
                         etape::shape_error);
    CHECK_THROWS_AS(etape::shape({~std::size_t{0}, 2}), etape::shape_error);
    CHECK(etape::shape({1u << 20, 0}).size() == 0); // an empty one is fine
    // ... unless an extent alone is more than a tape holds: extents are kept in 32 bits
    CHECK_THROWS_WITH_AS(etape::shape({std::size_t{1} << 32, 0}),
                         "etape: a tensor of shape [4294967296, 0] has an extent past what a tape can hold "
                         "(4294967295)",
                         etape::shape_error);
    const etape::shape widest({etape::shape::max_extent, 0});
    CHECK(widest[0] == etape::shape::max_extent);
    CHECK(widest.to_string() == "[4294967295, 0]");
    CHECK(etape::shape({1u << 16, 1u << 15}).size() == (std::size_t{1} << 31));
}
