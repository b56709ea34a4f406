// Second derivatives by reverse over forward (sim/dual.hpp, sim/hessian.hpp):
// H v and the Hessian against analytic Hessians and against central
// differences, in long double, of etape's gradients; dual<double> alone
// against analytic derivatives; the tape left as it was; bad input.
#include <array>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <numbers>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/ranges.h>

#include <etape/sim/hessian.hpp>

#include "support/check.hpp"

namespace sim = etape::sim;

namespace {

/// Rosenbrock's function in n dimensions, written once for every scalar.
template <class S>
S rosenbrock(std::span<const S> x)
{
    S sum = 0;
    for (std::size_t i = 0; i + 1 < x.size(); ++i) {
        const S bend = x[i + 1] - x[i] * x[i];
        const S gap = 1 - x[i];
        sum += 100 * bend * bend + gap * gap;
    }
    return sum;
}

/// Its Hessian: H_ii = [i < n-1] (1200 x_i^2 - 400 x_{i+1} + 2) + [i > 0] 200,
/// H_i,i+1 = H_i+1,i = -400 x_i.
std::vector<long double> rosenbrock_hessian(std::span<const long double> x)
{
    const std::size_t n = x.size();
    std::vector<long double> h(n * n);
    for (std::size_t i = 0; i < n; ++i) {
        if (i + 1 < n) {
            h[i * n + i] += 1200 * x[i] * x[i] - 400 * x[i + 1] + 2;
            h[i * n + i + 1] = h[(i + 1) * n + i] = -400 * x[i];
        }
        if (i > 0)
            h[i * n + i] += 200;
    }
    return h;
}

/// A function of three inputs through most of the activations and
/// elementary functions, with cross terms, for the checks at points on both
/// sides of their kinks.
template <class S>
S activations_mix(std::span<const S> x)
{
    const S a = x[0] * x[1] - x[2];
    const S b = x[1] + 0.5 * x[2];
    S sum = etape::elu(a, 0.75) * etape::tanh(b);
    sum += etape::exp(0.3 * x[0]) * etape::log(1 + x[1] * x[1]);
    sum += etape::selu(x[2] - x[0]) + etape::celu(x[1] * x[2], 1.5);
    sum += etape::softplus(x[0] - 2 * x[2]) * etape::sigmoid(x[1]);
    sum += etape::gelu(a) + etape::sqrt(1 + x[0] * x[0]) / (2 + etape::sin(x[2]));
    return sum;
}

template <class T>
std::vector<T> rounded(std::span<const long double> x)
{
    std::vector<T> r;
    for (const long double xi : x)
        r.push_back(static_cast<T>(xi));
    return r;
}

template <class T>
std::vector<long double> widened(std::span<const T> x)
{
    return std::vector<long double>(x.begin(), x.end());
}

long double largest_magnitude(std::span<const long double> x)
{
    long double m = 0;
    for (const long double xi : x)
        m = std::fmax(m, std::fabs(xi));
    return m;
}

/// H v by central differences of etape's gradient on the long double tape,
/// (g(x + h v) - g(x - h v)) / 2h at h and h/2, combined (Richardson) so that
/// the truncation error is O(h^4).
template <class F>
std::vector<long double> hessian_vector_by_differences(F f, std::span<const long double> x,
                                                       std::span<const long double> v)
{
    const long double h = std::cbrt(std::numeric_limits<long double>::epsilon()) *
                          std::fmax(1.0L, largest_magnitude(x)) / largest_magnitude(v);
    const auto central = [&](long double step) {
        std::vector<long double> up(x.begin(), x.end()), down = up;
        for (std::size_t i = 0; i < x.size(); ++i) {
            up[i] += step * v[i];
            down[i] -= step * v[i];
        }
        const std::vector<long double> g_up = etape::gradient(f, up), g_down = etape::gradient(f, down);
        std::vector<long double> d(x.size());
        for (std::size_t i = 0; i < x.size(); ++i)
            d[i] = (g_up[i] - g_down[i]) / (2 * step);
        return d;
    };
    const std::vector<long double> coarse = central(h), fine = central(h / 2);
    std::vector<long double> d(x.size());
    for (std::size_t i = 0; i < x.size(); ++i)
        d[i] = (4 * fine[i] - coarse[i]) / 3;
    return d;
}

/// The checker's tolerances for T, with a component's error measured
/// against the largest component: an entry of H v sums terms of that size,
/// so a small one keeps their absolute rounding error.
template <class T>
etape::gradient_check_options tolerances_for(std::span<const long double> want)
{
    auto o = etape::gradient_check_options::for_type<T>();
    o.absolute_tolerance = std::fmax(o.absolute_tolerance, o.relative_tolerance * largest_magnitude(want));
    return o;
}

/// Checks H v at x (both as rounded to T) against differences of the long
/// double gradient, and the gradient from the same recording against
/// etape::gradient in T.
template <class T, class F>
void check_hessian_vector_at(F f, std::vector<long double> x, std::vector<long double> v)
{
    const std::vector<T> xt = rounded<T>(x), vt = rounded<T>(v);
    const auto got = sim::gradient_and_hessian_vector_product(f, xt, vt);
    const std::vector<long double> want = hessian_vector_by_differences(f, widened<T>(xt), widened<T>(vt));
    const auto report = etape::compare_gradients(std::span<const T>(got.hessian_vector),
                                                 std::span<const long double>(want), tolerances_for<T>(want));
    INFO(fmt::format("H v at x = {}, v = {}: {}", xt, vt, report));
    CHECK(report.passed);

    const auto [value, gradient_in_t] = etape::value_and_gradient(f, xt);
    const std::vector<long double> gradient = widened<T>(std::span<const T>(gradient_in_t));
    const auto same_gradient = etape::compare_gradients(std::span<const T>(got.gradient),
                                                        std::span<const long double>(gradient),
                                                        tolerances_for<T>(gradient));
    INFO(fmt::format("gradient at x = {}: {}", xt, same_gradient));
    CHECK(same_gradient.passed);
    CHECK(got.value == doctest::Approx(value).epsilon(std::is_same_v<T, float> ? 1e-6 : 1e-14));
}

/// f'' of a function of one input at each point, along v = 0.75.
template <class T, class F>
void check_second_derivative_at(F f, std::initializer_list<long double> points)
{
    for (const long double p : points)
        check_hessian_vector_at<T>(f, {p}, {0.75L});
}

/// Checks forward mode alone: at each x, f on dual<double>{x, 0.5} has the
/// value of f on double, bit for bit, and the tangent 0.5 f'(x).
template <class F, class D>
void check_forward_at(F f, D derivative, std::initializer_list<double> points)
{
    for (const double x : points) {
        const sim::dual<double> y = f(sim::dual<double>(x, 0.5));
        INFO(fmt::format("x = {}: value {} tangent {}, want {} and {}", x, y.value(), y.tangent(), f(x),
                         0.5 * derivative(x)));
        CHECK(etape_test::bits_of(y.value()) == etape_test::bits_of(static_cast<double>(f(x))));
        CHECK(y.tangent() == doctest::Approx(0.5 * derivative(x)).epsilon(1e-14));
    }
}

} // namespace

TEST_CASE_TEMPLATE("a quadratic form's Hessian-vector product and Hessian are exact", T, ETAPE_TEST_TYPES)
{
    // f = x^T A x / 2 + b^T x with small integers: every partial and every
    // sum on the tape is exact, so H v = A v and H = A to the bit.
    constexpr std::size_t n = 4;
    constexpr std::array<std::array<int, n>, n> a{{{4, 1, -2, 0}, {1, 3, 0, 5}, {-2, 0, 6, -1}, {0, 5, -1, 2}}};
    constexpr std::array<int, n> b{1, -3, 2, 7};
    const auto f = [&](auto x) {
        typename decltype(x)::value_type sum = 0;
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = 0; j < n; ++j)
                sum += 0.5 * a[i][j] * x[i] * x[j];
            sum += b[i] * x[i];
        }
        return sum;
    };
    const std::vector<T> x{1, -2, 3, 0.5}, v{2, 1, -1, 3};
    const std::vector<T> hv = sim::hessian_vector_product(f, x, v);
    const etape::tensor<T> h = sim::hessian(f, x);
    REQUIRE(hv.size() == n);
    REQUIRE(h.shape() == etape::shape{n, n});
    for (std::size_t i = 0; i < n; ++i) {
        int av = 0;
        for (std::size_t j = 0; j < n; ++j) {
            av += a[i][j] * static_cast<int>(v[j]);
            CHECK(h(i, j) == T(a[i][j]));
        }
        CHECK(hv[i] == T(av));
    }
}

TEST_CASE_TEMPLATE("Rosenbrock's Hessian against its analytic form", T, ETAPE_TEST_TYPES)
{
    const auto f = [](auto x) { return rosenbrock(x); };
    const long double tolerance = std::is_same_v<T, float> ? 1e-6L : 1e-14L;
    for (const std::vector<long double>& point : {std::vector<long double>{-1.2L, 1, 0.5L, 2},
                                                  std::vector<long double>{1, 1, 1, 1},
                                                  std::vector<long double>{0.3L, -0.7L, 1.9L, -2.5L}}) {
        const std::vector<T> x = rounded<T>(point);
        const std::vector<long double> want = rosenbrock_hessian(widened<T>(x));
        const etape::tensor<T> h = sim::hessian(f, x);
        const long double allowed = tolerance * largest_magnitude(want);
        for (std::size_t i = 0; i < x.size(); ++i)
            for (std::size_t j = 0; j < x.size(); ++j) {
                CAPTURE(i);
                CAPTURE(j);
                CHECK(std::fabs(h(i, j) - want[i * x.size() + j]) <= allowed);
            }
        check_hessian_vector_at<T>(f, point, {0.5L, -1, 2, 0.25L});
    }
}

TEST_CASE_TEMPLATE("second derivatives of the elementary functions against differences of gradients", T,
                   ETAPE_TEST_TYPES)
{
    check_second_derivative_at<T>([](auto x) { return etape::exp(x[0]); }, {-2, 0.5L, 3});
    check_second_derivative_at<T>([](auto x) { return etape::expm1(x[0]); }, {-1, 0.3L});
    check_second_derivative_at<T>([](auto x) { return etape::log(x[0]); }, {0.2L, 3});
    check_second_derivative_at<T>([](auto x) { return etape::log1p(x[0]); }, {-0.5L, 2});
    check_second_derivative_at<T>([](auto x) { return etape::log2(x[0]) + etape::log10(x[0]); }, {0.4L, 5});
    check_second_derivative_at<T>([](auto x) { return etape::sqrt(x[0]); }, {0.3L, 4});
    check_second_derivative_at<T>([](auto x) { return etape::cbrt(x[0]); }, {-2, 0.5L});
    check_second_derivative_at<T>([](auto x) { return etape::pow(x[0], 3.0); }, {-1.5L, 2});
    check_second_derivative_at<T>([](auto x) { return etape::pow(x[0], -1.5); }, {0.5L, 3});
    check_second_derivative_at<T>([](auto x) { return etape::pow(2.0, x[0]); }, {-1, 2});
    check_second_derivative_at<T>([](auto x) { return etape::sin(x[0]) * etape::cos(x[0]); }, {-1, 0.4L});
    check_second_derivative_at<T>([](auto x) { return etape::tan(x[0]); }, {-1, 0.4L});
    check_second_derivative_at<T>([](auto x) { return etape::asin(x[0]) + etape::acos(x[0] / 2); }, {-0.5L, 0.7L});
    check_second_derivative_at<T>([](auto x) { return etape::atan(x[0]); }, {-2, 0.5L});
    check_second_derivative_at<T>([](auto x) { return etape::sinh(x[0]) + etape::cosh(x[0]); }, {-1, 0.5L});
    check_second_derivative_at<T>([](auto x) { return etape::tanh(x[0]); }, {-2, 0.5L});
    check_second_derivative_at<T>([](auto x) { return etape::asinh(x[0]); }, {-2, 0.5L});
    check_second_derivative_at<T>([](auto x) { return etape::acosh(x[0]); }, {1.5L, 3});
    check_second_derivative_at<T>([](auto x) { return etape::atanh(x[0]); }, {-0.5L, 0.6L});
    check_second_derivative_at<T>([](auto x) { return etape::erf(x[0]) + etape::erfc(x[0] / 3); }, {-1, 0.5L});
}

TEST_CASE_TEMPLATE("second derivatives of the activations on both sides of their kinks", T, ETAPE_TEST_TYPES)
{
    // x^3 times the activation, so that the linear sides have a second
    // derivative too (a product rule through the kinked factor)
    check_second_derivative_at<T>([](auto x) { return x[0] * x[0] * x[0] * etape::abs(x[0]); }, {-1.5L, 2});
    check_second_derivative_at<T>([](auto x) { return x[0] * x[0] * x[0] * etape::relu(x[0]); }, {-1, 1});
    check_second_derivative_at<T>([](auto x) { return x[0] * x[0] * etape::leaky_relu(x[0], 0.125); }, {-1, 1});
    check_second_derivative_at<T>([](auto x) { return etape::elu(x[0]); }, {-1.3L, -0.2L, 0.4L});
    check_second_derivative_at<T>([](auto x) { return etape::elu(x[0], 0.75); }, {-1.3L, -0.2L, 0.4L, 2});
    check_second_derivative_at<T>([](auto x) { return x[0] * etape::elu(x[0], 0.75); }, {-0.6L, 0.6L});
    check_second_derivative_at<T>([](auto x) { return etape::selu(x[0]) * x[0]; }, {-1, 0.5L});
    check_second_derivative_at<T>([](auto x) { return etape::celu(x[0], 1.5); }, {-2, -0.1L, 0.5L});
    check_second_derivative_at<T>([](auto x) { return etape::softplus(x[0]); }, {-3, 0, 2});
    check_second_derivative_at<T>([](auto x) { return x[0] * etape::softplus(x[0], 2, 5); }, {-1, 0.5L, 3});
    check_second_derivative_at<T>([](auto x) { return etape::sigmoid(x[0]); }, {-2, 0.5L});
    check_second_derivative_at<T>([](auto x) { return etape::silu(x[0]); }, {-2, 0.5L});
    check_second_derivative_at<T>([](auto x) { return etape::gelu(x[0]); }, {-1.5L, 0.3L});
    check_second_derivative_at<T>([](auto x) { return etape::gelu(x[0], etape::approximate::tanh); }, {-1.5L, 0.3L});
}

TEST_CASE_TEMPLATE("second derivatives of the functions of two inputs", T, ETAPE_TEST_TYPES)
{
    const auto check = [](auto f, std::vector<long double> x) { check_hessian_vector_at<T>(f, x, {0.75L, -0.5L}); };
    check([](auto x) { return etape::pow(x[0], x[1]); }, {1.5L, 2.5L});
    check([](auto x) { return etape::pow(x[0], x[1]); }, {0.4L, -0.7L});
    check([](auto x) { return etape::hypot(x[0], x[1]); }, {1.5L, -0.5L});
    check([](auto x) { return etape::atan2(x[0], x[1]); }, {-1, 0.5L});
    // max and min pick a smooth branch on each side of the diagonal
    for (const std::vector<long double>& point : {std::vector<long double>{2, 3}, std::vector<long double>{-1, 3}}) {
        check([](auto x) { return etape::max(x[0] * x[1], x[0] + x[1]); }, point);
        check([](auto x) { return etape::min(x[0] * x[1], x[0] + x[1]); }, point);
        check([](auto x) { return etape::max(x[0] * x[1], 0.5) * x[0]; }, point);
        check([](auto x) { return etape::min(0.5, x[0] * x[1]) * x[1]; }, point);
    }
}

TEST_CASE_TEMPLATE("a function of several activations: H v, and a Hessian that is symmetric", T, ETAPE_TEST_TYPES)
{
    const auto f = [](auto x) { return activations_mix(x); };
    // the ELU's argument x0 x1 - x2 is positive at the first point and
    // negative at the second; the SELU's and CELU's change sides too
    for (const std::vector<long double>& point : {std::vector<long double>{0.8L, 1.1L, -0.4L},
                                                  std::vector<long double>{-0.6L, 0.9L, 0.7L}}) {
        check_hessian_vector_at<T>(f, point, {1, -0.5L, 0.25L});
        const std::vector<T> x = rounded<T>(point);
        const etape::tensor<T> h = sim::hessian(f, x);
        long double largest = 0;
        for (const T hij : h.values())
            largest = std::fmax(largest, std::fabs(static_cast<long double>(hij)));
        const long double allowed = (std::is_same_v<T, float> ? 1e-6L : 1e-14L) * largest;
        for (std::size_t i = 0; i < x.size(); ++i) {
            std::vector<T> unit(x.size());
            unit[i] = 1;
            // column i of the Hessian is the product with e_i, to the bit
            const std::vector<T> column = sim::hessian_vector_product(f, x, unit);
            for (std::size_t j = 0; j < x.size(); ++j) {
                CAPTURE(i);
                CAPTURE(j);
                CHECK(etape_test::bits_of(h(j, i)) == etape_test::bits_of(column[j]));
                CHECK(std::fabs(h(i, j) - h(j, i)) <= allowed);
            }
        }
    }
}

TEST_CASE_TEMPLATE("gradient_and_hessian gives the value, the gradient and the Hessian of one call", T,
                   ETAPE_TEST_TYPES)
{
    const auto f = [](auto x) { return activations_mix(x); };
    const std::vector<T> x{0.8f, 1.1f, -0.4f};
    const auto both = sim::gradient_and_hessian(f, x);
    const etape::tensor<T> h = sim::hessian(f, x);
    etape_test::check_same_bits(std::span<const T>(both.hessian.values()), std::span<const T>(h.values()));
    const auto along = sim::gradient_and_hessian_vector_product(f, x, std::vector<T>{1, 0, 0});
    etape_test::check_same_bits(std::span<const T>(both.gradient), std::span<const T>(along.gradient));
    CHECK(etape_test::bits_of(both.value) == etape_test::bits_of(along.value));
}

TEST_CASE_TEMPLATE("the functions rewind the active tape and keep what was recorded before", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    etape::tape<T>& t = scope.get();
    // a parameter recorded before: f reads it as a constant
    const etape::var<T> p = T(1.5);
    const etape::var<T> p2 = p * p;
    const auto f = [&](auto x) { return p2 * x[0] * x[0] * x[1] + etape::exp(x[1]); };
    const auto slots = t.size();
    const std::vector<T> x{2, 0.5f};
    const std::vector<T> hv = sim::hessian_vector_product(f, x, std::vector<T>{1, 1});
    CHECK(t.size() == slots);
    // H = [[2 p2 x1, 2 p2 x0], [2 p2 x0, e^x1]], p2 = 2.25
    const T e = std::exp(T(0.5));
    CHECK(hv[0] == doctest::Approx(2 * 2.25 * 0.5 + 2 * 2.25 * 2));
    CHECK(hv[1] == doctest::Approx(2 * 2.25 * 2 + e));
    const auto h = sim::gradient_and_hessian(f, x);
    CHECK(t.size() == slots);
    CHECK(h.value == doctest::Approx(2.25 * 4 * 0.5 + e));
    // the parameter is still on the recording
    CHECK(etape::gradient(p2, p)[0] == doctest::Approx(3));

    // an exception from f rewinds too
    const auto throwing = [](auto xs) -> typename decltype(xs)::value_type {
        (void)(xs[0] * xs[0]);
        throw std::runtime_error("f failed after recording");
    };
    CHECK_THROWS_AS((void)sim::hessian_vector_product(throwing, x, x), std::runtime_error);
    CHECK(t.size() == slots);
}

TEST_CASE("a direction of the wrong size is refused, naming both sizes")
{
    const auto f = [](auto x) { return rosenbrock(x); };
    const std::vector<double> x{1, 2};
    const std::vector<double> v{1, 2, 3};
    const auto slots = etape::active_tape<double>().size();
    const auto e = etape_test::thrown_by<std::invalid_argument>([&] { (void)sim::hessian_vector_product(f, x, v); });
    CHECK(std::string(e.what()) ==
          "etape::sim::hessian_vector_product: the direction v has 3 elements for 2 inputs x");
    const auto both = etape_test::thrown_by<std::invalid_argument>(
        [&] { (void)sim::gradient_and_hessian_vector_product(f, x, std::vector<double>{}); });
    CHECK(std::string(both.what()) ==
          "etape::sim::gradient_and_hessian_vector_product: the direction v has 0 elements for 2 inputs x");
    CHECK(etape::active_tape<double>().size() == slots);
}

TEST_CASE("an empty x gives empty results, as etape::gradient does")
{
    int calls = 0;
    const auto f = [&](auto x) {
        ++calls;
        typename decltype(x)::value_type sum = 3;
        for (const auto& xi : x)
            sum += xi * xi;
        return sum;
    };
    const std::vector<double> none;
    CHECK(sim::hessian_vector_product(f, none, none).empty());
    const etape::tensor<double> h = sim::hessian(f, none);
    CHECK(h.size() == 0);
    CHECK(h.shape() == etape::shape{0, 0});
    CHECK(calls == 1); // the Hessian of no inputs needs no call
    const auto both = sim::gradient_and_hessian(f, none);
    CHECK(both.value == 3);
    CHECK(both.gradient.empty());
    CHECK(both.hessian.size() == 0);
    const auto along = sim::gradient_and_hessian_vector_product(f, none, none);
    CHECK(along.value == 3);
    CHECK(along.gradient.empty());
    CHECK(along.hessian_vector.empty());
}

TEST_CASE("dual<double> alone: arithmetic in both orders and comparisons on values")
{
    using d = sim::dual<double>;
    const d x(1.5, 2);
    const d y(-0.5, 0.25);
    const auto check = [](const d& got, double value, double tangent) {
        CHECK(got.value() == doctest::Approx(value).epsilon(1e-15));
        CHECK(got.tangent() == doctest::Approx(tangent).epsilon(1e-15));
    };
    check(x + y, 1, 2.25);
    check(x - y, 2, 1.75);
    check(x * y, -0.75, 2 * -0.5 + 1.5 * 0.25);
    check(x / y, -3, (2 - (-3) * 0.25) / -0.5);
    check(x + 2, 3.5, 2);
    check(2 + x, 3.5, 2);
    check(x - 2, -0.5, 2);
    check(2 - x, 0.5, -2);
    check(x * 3, 4.5, 6);
    check(3 * x, 4.5, 6);
    check(x / 4, 0.375, 0.5);
    check(3 / x, 2, -3 * 2 / (1.5 * 1.5));
    check(-x, -1.5, -2);
    check(+x, 1.5, 2);
    d z = x;
    z += y;
    z *= 2;
    z -= 1;
    z /= x;
    check(z, 1 / 1.5, (4.5 - 2 / 1.5) / 1.5); // z = (2 (x + y) - 1) / x
    const d c = 2;
    check(c, 2, 0);

    CHECK(x > y);
    CHECK(y < x);
    CHECK(x > 1);
    CHECK(1 < x);
    CHECK(x <= 1.5);
    CHECK(x == 1.5);
    CHECK(1.5 == x);
    CHECK(x != y);
    CHECK(x == d(1.5, -7)); // values only
    CHECK_FALSE(d(std::nan(""), 0) == d(std::nan(""), 0));
}

TEST_CASE("dual<double> alone: each function's tangent is its analytic derivative")
{
    using std::exp;
    const double pi = std::numbers::pi;
    const auto phi = [&](double x) { return exp(-x * x / 2) / std::sqrt(2 * pi); };
    const auto big_phi = [](double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); };
    const auto logistic = [](double x) { return 1 / (1 + exp(-x)); };
    check_forward_at([](auto x) { return etape::exp(x); }, [](double x) { return exp(x); }, {-2, 0.5});
    check_forward_at([](auto x) { return etape::expm1(x); }, [](double x) { return exp(x); }, {-2, 0.5});
    check_forward_at([](auto x) { return etape::log(x); }, [](double x) { return 1 / x; }, {0.2, 3});
    check_forward_at([](auto x) { return etape::log1p(x); }, [](double x) { return 1 / (1 + x); }, {-0.5, 3});
    check_forward_at([](auto x) { return etape::log2(x); }, [](double x) { return 1 / (x * std::numbers::ln2); },
                     {0.2, 3});
    check_forward_at([](auto x) { return etape::sqrt(x); }, [](double x) { return 0.5 / std::sqrt(x); }, {0.2, 3});
    check_forward_at([](auto x) { return etape::cbrt(x); }, [](double x) { return 1 / (3 * std::cbrt(x * x)); },
                     {-2, 3});
    check_forward_at([](auto x) { return etape::pow(x, 2.5); }, [](double x) { return 2.5 * std::pow(x, 1.5); },
                     {0.2, 3});
    check_forward_at([](auto x) { return etape::pow(3.0, x); },
                     [](double x) { return std::pow(3.0, x) * std::log(3.0); }, {-1, 2});
    check_forward_at([](auto x) { return etape::sin(x); }, [](double x) { return std::cos(x); }, {-1, 2});
    check_forward_at([](auto x) { return etape::cos(x); }, [](double x) { return -std::sin(x); }, {-1, 2});
    check_forward_at([](auto x) { return etape::tan(x); }, [](double x) { return 1 / (std::cos(x) * std::cos(x)); },
                     {-1, 0.5});
    check_forward_at([](auto x) { return etape::atan(x); }, [](double x) { return 1 / (1 + x * x); }, {-1, 2});
    check_forward_at([](auto x) { return etape::tanh(x); }, [](double x) { return 1 / std::pow(std::cosh(x), 2); },
                     {-1, 0.5});
    check_forward_at([](auto x) { return etape::erf(x); }, [&](double x) { return 2 / std::sqrt(pi) * exp(-x * x); },
                     {-1, 0.5});
    check_forward_at([](auto x) { return etape::abs(x); }, [](double x) { return x > 0 ? 1.0 : -1.0; }, {-1, 0.5});
    check_forward_at([](auto x) { return etape::relu(x); }, [](double x) { return x > 0 ? 1.0 : 0.0; }, {-1, 0.5, 0});
    check_forward_at([](auto x) { return etape::elu(x, 0.7); }, [](double x) { return x > 0 ? 1 : 0.7 * exp(x); },
                     {-1, 0.5, 0});
    check_forward_at([](auto x) { return etape::selu(x); },
                     [](double x) {
                         constexpr double scale = 1.0507009873554804934193349852946, alpha = 1.6732632423543772848;
                         return x > 0 ? scale : scale * alpha * exp(x);
                     },
                     {-1, 0.5});
    check_forward_at([](auto x) { return etape::celu(x, 1.5); }, [](double x) { return x > 0 ? 1 : exp(x / 1.5); },
                     {-1, 0.5});
    check_forward_at([](auto x) { return etape::softplus(x); }, logistic, {-3, 0.5});
    check_forward_at([](auto x) { return etape::sigmoid(x); },
                     [&](double x) { return logistic(x) * (1 - logistic(x)); }, {-3, 0.5});
    check_forward_at([](auto x) { return etape::silu(x); },
                     [&](double x) { return logistic(x) * (1 + x * (1 - logistic(x))); }, {-3, 0.5});
    check_forward_at([](auto x) { return etape::gelu(x); }, [&](double x) { return big_phi(x) + x * phi(x); },
                     {-1.5, 0.3});

    // x^1 and x^0 at 0: the tangents written out, so that no 0 * inf appears
    const sim::dual<double> zero(0, 1);
    CHECK(etape::pow(zero, 1).tangent() == 1);
    CHECK(etape::pow(zero, 0).tangent() == 0);
    // two inputs: the partials along (0.5, -0.25)
    const sim::dual<double> a(1.5, 0.5), b(2.5, -0.25);
    const double y = std::pow(1.5, 2.5);
    CHECK(etape::pow(a, b).tangent() ==
          doctest::Approx(2.5 * std::pow(1.5, 1.5) * 0.5 + y * std::log(1.5) * -0.25).epsilon(1e-14));
    CHECK(etape::atan2(a, b).tangent() == doctest::Approx((2.5 * 0.5 - 1.5 * -0.25) / (1.5 * 1.5 + 2.5 * 2.5)));
    CHECK(etape::max(a, b).tangent() == -0.25);
    CHECK(etape::min(a, b).tangent() == 0.5);
    CHECK(etape::max(a, sim::dual<double>(1.5, 1.5)).tangent() == 1); // a tie: half of each
}

TEST_CASE("dual<float> alone: the chain rule in float")
{
    const sim::dual<float> x(0.5f, 1);
    const sim::dual<float> y = etape::exp(etape::sin(x)) / (1 + x * x);
    const double xv = 0.5;
    const double e = std::exp(std::sin(xv));
    const double want = (e * std::cos(xv) * (1 + xv * xv) - e * 2 * xv) / ((1 + xv * xv) * (1 + xv * xv));
    CHECK(y.tangent() == doctest::Approx(want).epsilon(1e-6));
}

namespace {

/// Generic code that calls the functions unqualified: the dual overloads are
/// found by argument-dependent lookup, std's by the using-declarations.
template <class S>
S unqualified(S x)
{
    using std::exp;
    using std::sin;
    return exp(x) * sin(x);
}

} // namespace

TEST_CASE("unqualified calls find the dual overloads by argument-dependent lookup")
{
    const sim::dual<double> y = unqualified(sim::dual<double>(0.5, 1));
    CHECK(y.value() == unqualified(0.5));
    CHECK(y.tangent() == doctest::Approx(std::exp(0.5) * (std::sin(0.5) + std::cos(0.5))));
    const auto hv = sim::hessian_vector_product([](auto x) { return unqualified(x[0]); }, std::vector<double>{0.5},
                                                std::vector<double>{1});
    CHECK(hv[0] == doctest::Approx(2 * std::exp(0.5) * std::cos(0.5)));
}
