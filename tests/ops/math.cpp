// Every math primitive against the gradient checker, in float and double,
// at ordinary points, at 0, at +-tiny and +-large, and outside its domain.
#include <cmath>
#include <limits>

#include "support/check.hpp"

using etape_test::check_binary_at;
using etape_test::check_unary_at;
using etape_test::derivative_at;
using etape_test::relative_step;
using etape_test::tiny;

TEST_CASE_TEMPLATE("exp and expm1", T, ETAPE_TEST_TYPES)
{
    check_unary_at<T>([](auto x) { return etape::exp(x[0]); }, {0, tiny, -tiny, 1, -1, 2.5L, -20, 30, -80});
    check_unary_at<T>([](auto x) { return etape::expm1(x[0]); }, {0, tiny, -tiny, 0.5L, -0.5L, 10, -30});
}

TEST_CASE_TEMPLATE("logarithms", T, ETAPE_TEST_TYPES)
{
    const std::initializer_list<long double> points = {tiny, 1e-3L, 0.5L, 1, 10, 1e30L};
    check_unary_at<T>([](auto x) { return etape::log(x[0]); }, points, relative_step<T>());
    check_unary_at<T>([](auto x) { return etape::log2(x[0]); }, points, relative_step<T>());
    check_unary_at<T>([](auto x) { return etape::log10(x[0]); }, points, relative_step<T>());
    check_unary_at<T>([](auto x) { return etape::log1p(x[0]); }, {0, tiny, -tiny, -0.5L, -0.999L, 3});
    check_unary_at<T>([](auto x) { return etape::log1p(x[0]); }, {1e20L}, relative_step<T>());
}

TEST_CASE_TEMPLATE("roots and powers", T, ETAPE_TEST_TYPES)
{
    check_unary_at<T>([](auto x) { return etape::sqrt(x[0]); }, {tiny, 0.25L, 2, 1e30L}, relative_step<T>());
    check_unary_at<T>([](auto x) { return etape::cbrt(x[0]); }, {tiny, -tiny, 0.5L, -0.5L, 8, -8, 1e20L},
                      relative_step<T>());
    // var ^ constant, constant ^ var, var ^ var
    check_unary_at<T>([](auto x) { return etape::pow(x[0], 3.0); }, {0, 2, -1.5L, tiny});
    check_unary_at<T>([](auto x) { return etape::pow(x[0], -1.5); }, {0.5L, 4, 1e10L}, relative_step<T>());
    check_unary_at<T>([](auto x) { return etape::pow(2.0, x[0]); }, {0, 1, -3.5L, 20});
    check_unary_at<T>([](auto x) { return etape::pow(0.5, x[0]); }, {0, 1, -3.5L, 20});
    check_binary_at<T>([](auto x) { return etape::pow(x[0], x[1]); }, {{1.5L, 2.5L}, {3, -0.5L}, {0.2L, 0.7L}, {2, 0}});
}

TEST_CASE_TEMPLATE("pow at a zero base", T, ETAPE_TEST_TYPES)
{
    // d/db 0^b = 0 for b > 0 (the limit), d/da a^2 = 0 at a = 0
    etape::var<T> a = T(0), b = T(2);
    const etape::var<T> y = etape::pow(a, b);
    const auto [da, db] = etape::gradient(y, a, b);
    CHECK(y.value() == T(0));
    CHECK(da == T(0));
    CHECK(db == T(0));
}

TEST_CASE_TEMPLATE("circular functions", T, ETAPE_TEST_TYPES)
{
    check_unary_at<T>([](auto x) { return etape::sin(x[0]); }, {0, tiny, -tiny, 1, -3, 100, -1000});
    check_unary_at<T>([](auto x) { return etape::cos(x[0]); }, {0, tiny, -tiny, 1, -3, 100, -1000});
    check_unary_at<T>([](auto x) { return etape::tan(x[0]); }, {0, tiny, -tiny, 1, -1, 1.5L, -100});
    const std::initializer_list<long double> inside = {0.0L, tiny, -tiny, 0.5L, -0.5L, 0.99L, -0.99L};
    check_unary_at<T>([](auto x) { return etape::asin(x[0]); }, inside);
    check_unary_at<T>([](auto x) { return etape::acos(x[0]); }, inside);
    check_unary_at<T>([](auto x) { return etape::atan(x[0]); }, {0, tiny, -tiny, 1, -1, 1e10L, -1e10L});
    check_binary_at<T>([](auto x) { return etape::atan2(x[0], x[1]); },
                       {{1, 2}, {-1, 0.5L}, {0.5L, -2}, {-2, -2}, {3, tiny}});
}

TEST_CASE_TEMPLATE("hyperbolic functions", T, ETAPE_TEST_TYPES)
{
    const std::initializer_list<long double> points = {0.0L, tiny, -tiny, 1.0L, -1.0L, 20.0L, -20.0L, 80.0L};
    check_unary_at<T>([](auto x) { return etape::sinh(x[0]); }, points);
    check_unary_at<T>([](auto x) { return etape::cosh(x[0]); }, points);
    check_unary_at<T>([](auto x) { return etape::tanh(x[0]); }, {0, tiny, -tiny, 0.5L, -0.5L, 5, -5, 20, 1e3L});
    check_unary_at<T>([](auto x) { return etape::asinh(x[0]); }, {0, tiny, -tiny, 1, -1, 1e10L, 1e30L});
    check_unary_at<T>([](auto x) { return etape::acosh(x[0]); }, {1.001L, 1.5L, 2, 10, 1e10L}, relative_step<T>());
    check_unary_at<T>([](auto x) { return etape::atanh(x[0]); }, {0, tiny, -tiny, 0.5L, -0.5L, 0.99L, -0.99L});
}

TEST_CASE_TEMPLATE("error functions", T, ETAPE_TEST_TYPES)
{
    const std::initializer_list<long double> points = {0.0L, tiny, -tiny, 0.5L, -0.5L, 2.0L, -2.0L, 6.0L, -6.0L, 30.0L};
    check_unary_at<T>([](auto x) { return etape::erf(x[0]); }, points);
    check_unary_at<T>([](auto x) { return etape::erfc(x[0]); }, points);
}

TEST_CASE_TEMPLATE("abs and hypot", T, ETAPE_TEST_TYPES)
{
    check_unary_at<T>([](auto x) { return etape::abs(x[0]); }, {tiny, -tiny, 1, -1, 1e30L, -1e30L}, relative_step<T>());
    CHECK(derivative_at<T>([](auto x) { return etape::abs(x[0]); }, T(0)) == T(0));
    check_binary_at<T>([](auto x) { return etape::hypot(x[0], x[1]); }, {{3, 4}, {-1, 2}, {1e20L, 1e20L}, {tiny, 1}},
                       relative_step<T>());
}

TEST_CASE_TEMPLATE("arithmetic between vars and constants in every combination", T, ETAPE_TEST_TYPES)
{
    const std::initializer_list<std::pair<long double, long double>> pairs{{1.5L, -2.5L}, {-3, 0.25L}, {tiny, 7}};
    check_binary_at<T>([](auto x) { return x[0] + x[1]; }, pairs);
    check_binary_at<T>([](auto x) { return x[0] - x[1]; }, pairs);
    check_binary_at<T>([](auto x) { return x[0] * x[1]; }, pairs);
    check_binary_at<T>([](auto x) { return x[0] / x[1]; }, pairs);
    check_binary_at<T>([](auto x) { return -x[0] + (x[0] * 2.0 - 3 / x[1]) * (1.5f - x[1] / 4); }, pairs);
    check_binary_at<T>([](auto x) { return (2 + x[0]) * (x[1] - 1) / (x[1] * x[1] + 1); }, pairs);

    etape::var<T> a = T(3), b = T(-2);
    CHECK((a + 1).value() == T(4));
    CHECK((1 + a).value() == T(4));
    CHECK((a - 1).value() == T(2));
    CHECK((1 - a).value() == T(-2));
    CHECK((a * 2).value() == T(6));
    CHECK((2 * a).value() == T(6));
    CHECK((a / 2).value() == T(1.5));
    CHECK((6 / a).value() == T(2));
    CHECK((a / b).value() == T(-1.5));
    CHECK((-a).value() == T(-3));
    CHECK((+a).value() == T(3));
}

TEST_CASE_TEMPLATE("fmin, fmax, min, max", T, ETAPE_TEST_TYPES)
{
    const std::initializer_list<std::pair<long double, long double>> pairs{{1, 2}, {2, 1}, {-3, 0.5L}};
    check_binary_at<T>([](auto x) { return etape::fmax(x[0], x[1]); }, pairs);
    check_binary_at<T>([](auto x) { return etape::fmin(x[0], x[1]); }, pairs);
    check_binary_at<T>([](auto x) { return etape::max(x[0], x[1]); }, pairs);
    check_binary_at<T>([](auto x) { return etape::min(x[0], x[1]); }, pairs);

    SUBCASE("a tie splits the gradient in half")
    {
        etape::var<T> a = T(1), b = T(1);
        const etape::var<T> y = etape::max(a, b);
        const auto [da, db] = etape::gradient(y, a, b);
        CHECK(da == T(0.5));
        CHECK(db == T(0.5));
    }
    SUBCASE("fmax ignores a NaN operand, max propagates it")
    {
        const T nan = std::numeric_limits<T>::quiet_NaN();
        etape::var<T> a = nan, b = T(2);
        const etape::var<T> f = etape::fmax(a, b);
        const auto [fa, fb] = etape::gradient(f, a, b);
        CHECK(f.value() == T(2));
        CHECK(fa == T(0));
        CHECK(fb == T(1));
        const etape::var<T> m = etape::max(a, b);
        CHECK(std::isnan(m.value()));
    }
}

TEST_CASE_TEMPLATE("outside the domain: libm's value and no crash", T, ETAPE_TEST_TYPES)
{
    const auto d = [](auto f, T x) { return derivative_at<T>(f, x); };
    etape::var<T> minus_one = T(-1);
    CHECK(std::isnan(etape::var<T>(etape::log(minus_one)).value()));
    CHECK(std::isnan(etape::var<T>(etape::sqrt(minus_one)).value()));
    // partials are the formulas as written, evaluated in IEEE arithmetic (as PyTorch):
    // 1/x for log stays finite where the value is NaN
    CHECK(d([](auto x) { return etape::log(x[0]); }, T(-1)) == T(-1));
    CHECK(std::isnan(d([](auto x) { return etape::sqrt(x[0]); }, T(-1))));
    CHECK(std::isnan(d([](auto x) { return etape::asin(x[0]); }, T(2))));
    CHECK(d([](auto x) { return etape::log(x[0]); }, T(0)) == std::numeric_limits<T>::infinity());
    CHECK(d([](auto x) { return etape::sqrt(x[0]); }, T(0)) == std::numeric_limits<T>::infinity());
    CHECK(etape::var<T>(etape::log(etape::var<T>(T(0)))).value() == -std::numeric_limits<T>::infinity());
}

TEST_CASE_TEMPLATE("plain numbers go through the same functions", T, ETAPE_TEST_TYPES)
{
    CHECK(etape::exp(T(1)) == std::exp(T(1)));
    CHECK(etape::pow(T(2), T(10)) == T(1024));
    CHECK(etape::atan2(T(1), T(1)) == std::atan2(T(1), T(1)));
    static_assert(std::is_same_v<decltype(etape::log(T(1))), T>);
}
