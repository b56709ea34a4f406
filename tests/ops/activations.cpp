// Activations: gradients at many points and both sides of every kink, the
// ELU family's conventions and constants, its output-reuse derivative and
// the precision policy, and rejected parameters.
#include <atomic>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "support/check.hpp"

using etape_test::check_unary_at;
using etape_test::derivative_at;
using etape_test::relative_step;

namespace {
constexpr long double tiny = 1e-30L;
}

TEST_CASE_TEMPLATE("elu: gradient at many points, several alphas", T, ETAPE_TEST_TYPES)
{
    // both sides of the kink at +-tiny (relative step) and farther out
    const std::initializer_list<long double> points = {tiny, -tiny, 1e-3L, -1e-3L, 0.5L, -0.5L, 3, -3, 20, -20, 1e6L};
    for (const long double alpha : {1.0L, 0.5L, 2.5L, 0.0L}) {
        CAPTURE(static_cast<double>(alpha));
        const auto a = static_cast<T>(alpha);
        check_unary_at<T>([a](auto x) { return etape::elu(x[0], a); }, points, relative_step<T>());
        check_unary_at<T>([a](auto x) { return etape::elu(x[0], a, etape::from_input); }, points, relative_step<T>());
    }
}

TEST_CASE_TEMPLATE("elu at x == 0 takes the negative branch (PyTorch)", T, ETAPE_TEST_TYPES)
{
    for (const T alpha : {T(1), T(0.5), T(0)}) {
        CAPTURE(alpha);
        CHECK(etape::elu(T(0), alpha) == T(0));
        CHECK(derivative_at<T>([alpha](auto x) { return etape::elu(x[0], alpha); }, T(0)) == alpha);
        CHECK(derivative_at<T>([alpha](auto x) { return etape::elu(x[0], alpha, etape::from_input); }, T(0)) ==
              alpha);
    }
    CHECK(derivative_at<T>([](auto x) { return etape::elu(x[0], T(0.5)); }, T(-0.0)) == T(0.5));
}

TEST_CASE_TEMPLATE("elu with alpha == 0 is relu", T, ETAPE_TEST_TYPES)
{
    for (const T x : {T(-2), T(-1e-3), T(0), T(1e-3), T(2)}) {
        CAPTURE(x);
        CHECK(etape::elu(x, T(0)) == etape::relu(x));
        CHECK(derivative_at<T>([](auto v) { return etape::elu(v[0], T(0)); }, x) ==
              derivative_at<T>([](auto v) { return etape::relu(v[0]); }, x));
    }
}

TEST_CASE_TEMPLATE("selu and celu", T, ETAPE_TEST_TYPES)
{
    const std::initializer_list<long double> points = {tiny, -tiny, 0.5L, -0.5L, 3, -3, 20, -20};
    check_unary_at<T>([](auto x) { return etape::selu(x[0]); }, points, relative_step<T>());
    check_unary_at<T>([](auto x) { return etape::selu(x[0], etape::from_input); }, points, relative_step<T>());
    for (const long double alpha : {1.0L, 0.5L, 3.0L, -0.75L}) {
        CAPTURE(static_cast<double>(alpha));
        const auto a = static_cast<T>(alpha);
        check_unary_at<T>([a](auto x) { return etape::celu(x[0], a); }, points, relative_step<T>());
        check_unary_at<T>([a](auto x) { return etape::celu(x[0], a, etape::from_input); }, points, relative_step<T>());
    }
    // derivative at 0: scale * alpha for selu, 1 for celu (continuous)
    CHECK(derivative_at<T>([](auto x) { return etape::selu(x[0]); }, T(0)) ==
          doctest::Approx(1.0507009873554804934 * 1.6732632423543772848).epsilon(1e-6));
    CHECK(derivative_at<T>([](auto x) { return etape::celu(x[0], T(0.5)); }, T(0)) == T(1));
}

TEST_CASE("selu constants to full precision")
{
    CHECK(etape::selu_op<long double>::scale == 1.0507009873554804934193349852946L);
    CHECK(etape::selu_op<long double>::alpha == 1.6732632423543772848170429916717L);
    CHECK(etape::selu_op<double>::scale == 1.0507009873554804934193349852946);
    CHECK(etape::selu_op<double>::alpha == 1.6732632423543772848170429916717);
    CHECK(etape::selu_op<float>::scale == 1.0507009873554804934193349852946f);
    CHECK(etape::selu_op<float>::alpha == 1.6732632423543772848170429916717f);
    // PyTorch: selu(-1) = -1.1113307378125628
    CHECK(etape::selu(-1.0) == doctest::Approx(-1.1113307378125628).epsilon(1e-15));
}

TEST_CASE("rejected parameters name the value")
{
    const auto message_of = [](auto f) { return std::string(etape_test::thrown_by<std::invalid_argument>(f).what()); };
    etape::var<double> x = 1.0;
    CHECK(message_of([&] { (void)etape::elu(x, -0.5); }).find("-0.5") != std::string::npos);
    CHECK(message_of([&] { (void)etape::elu(2.0, -0.25); }).find("-0.25") != std::string::npos);
    CHECK(message_of([&] { (void)etape::celu(x, 0.0); }).find("got 0") != std::string::npos);
    CHECK(message_of([&] { (void)etape::elu(x, std::nan("")); }).find("nan") != std::string::npos);
    CHECK_THROWS_AS(etape::elu_activation<float>(-1.0f), std::invalid_argument);
    // an input-based derivative does not need the sign of y: alpha < 0 is allowed
    CHECK_NOTHROW((void)etape::elu(x, -0.5, etape::from_input));
    check_unary_at<double>([](auto v) { return etape::elu(v[0], -0.5, etape::from_input); }, {-2, -0.1L, 0.1L, 2});
}

namespace {
/// Counts every exponential the ELU family evaluates.
std::atomic<int> exponentials{0};
struct counting_exponentials {
    template <class T> static T expm1(T x)
    {
        ++exponentials;
        return std::expm1(x);
    }
    template <class T> static T exp(T x)
    {
        ++exponentials;
        return std::exp(x);
    }
};
} // namespace

TEST_CASE_TEMPLATE("elu's derivative evaluates no exponential", T, ETAPE_TEST_TYPES)
{
    using counted_elu = etape::elu_op<T, etape::from_output_t, counting_exponentials>;
    using counted_elu_from_input = etape::elu_op<T, etape::from_input_t, counting_exponentials>;
    etape::var<T> x = T(-1.5);

    exponentials = 0;
    const etape::var<T> y = etape::apply(counted_elu(T(0.7)), x);
    CHECK(exponentials == 1); // the forward value, nothing for the partial
    const auto [dx] = etape::gradient(y, x);
    CHECK(exponentials == 1); // the reverse sweep evaluates none either
    CHECK(dx == doctest::Approx(0.7 * std::exp(-1.5)).epsilon(1e-6));

    // the counter does see a derivative that needs one
    exponentials = 0;
    const etape::var<T> z = etape::apply(counted_elu_from_input(T(0.7)), x);
    (void)etape::gradient(z, x);
    CHECK(exponentials == 2);
}

TEST_CASE("the precision cost of output reuse far in the negative tail")
{
    // In float, y + alpha rounds to 0 well before alpha * exp(x) underflows.
    const float from_output = derivative_at<float>([](auto x) { return etape::elu(x[0]); }, -20.0f);
    const float from_input = derivative_at<float>([](auto x) { return etape::elu(x[0], 1.0f, etape::from_input); }, -20.0f);
    CHECK(from_output == 0.0f);
    CHECK(from_input == doctest::Approx(std::exp(-20.0)).epsilon(1e-5));
    // and the absolute error stays within one ulp of alpha
    CHECK(std::fabs(from_output - from_input) <= std::numeric_limits<float>::epsilon());
}

TEST_CASE_TEMPLATE("relu and leaky_relu on both sides of the kink", T, ETAPE_TEST_TYPES)
{
    const std::initializer_list<long double> points = {tiny, -tiny, 1, -1, 1e6L, -1e6L};
    check_unary_at<T>([](auto x) { return etape::relu(x[0]); }, points, relative_step<T>());
    check_unary_at<T>([](auto x) { return etape::leaky_relu(x[0]); }, points, relative_step<T>());
    check_unary_at<T>([](auto x) { return etape::leaky_relu(x[0], T(0.2)); }, points, relative_step<T>());
    CHECK(derivative_at<T>([](auto x) { return etape::relu(x[0]); }, T(0)) == T(0));
    CHECK(derivative_at<T>([](auto x) { return etape::leaky_relu(x[0], T(0.2)); }, T(0)) == T(0.2));
}

TEST_CASE_TEMPLATE("smooth activations", T, ETAPE_TEST_TYPES)
{
    const std::initializer_list<long double> points = {0.0L, tiny, -tiny, 0.5L, -0.5L, 3.0L, -3.0L, 20.0L, -20.0L, 80.0L, -80.0L};
    check_unary_at<T>([](auto x) { return etape::sigmoid(x[0]); }, points);
    check_unary_at<T>([](auto x) { return etape::softplus(x[0]); }, points);
    check_unary_at<T>([](auto x) { return etape::silu(x[0]); }, points);
    check_unary_at<T>([](auto x) { return etape::gelu(x[0]); }, points);
    check_unary_at<T>([](auto x) { return etape::tanh(x[0]); }, points);
    // no overflow far out
    CHECK(etape::softplus(T(1000)) == T(1000));
    CHECK(etape::softplus(T(-1000)) == T(0));
    CHECK(etape::sigmoid(T(-1000)) == T(0));
    CHECK(etape::silu(T(-1000)) == T(0));
    CHECK(etape::gelu(T(-1000)) == T(0));
}
