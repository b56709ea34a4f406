// Activations: gradients at many points and both sides of every kink, the
// ELU family's conventions and constants, its output-reuse derivative and
// the precision policy, relu's sign, GELU's tanh form and softplus's beta and
// threshold against PyTorch's formulas, on scalars and tensors, and rejected
// parameters.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "support/tensor_check.hpp"

using etape_test::check_unary_at;
using etape_test::derivative_at;
using etape_test::relative_step;
using etape_test::tiny;

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

// ---- relu's sign: +0 for every x <= 0, NaN for NaN ---------------------------------------

namespace {
/// -inf, -1, -0, +0, tiny, 2, +inf and NaN, repeated so that a tensor of them
/// fills several SIMD batches and a scalar tail.
template <class T>
std::vector<T> relu_edges()
{
    using limits = std::numeric_limits<T>;
    const std::vector<T> once{-limits::infinity(), T(-1), T(-0.0), T(0), limits::denorm_min(), -limits::denorm_min(),
                              T(2), limits::infinity(), limits::quiet_NaN(), -limits::max(), T(-1e-30)};
    std::vector<T> xs;
    for (int k = 0; k < 5; ++k)
        xs.insert(xs.end(), once.begin(), once.end());
    return xs;
}

/// relu(x) as IEEE 754-2019 maximum(x, +0) defines it, with its sign.
template <class T>
void check_relu_value(T x, T y)
{
    CAPTURE(x);
    CAPTURE(y);
    if (std::isnan(x))
        CHECK(std::isnan(y));
    else if (x > T(0))
        CHECK(etape_test::bits_of(y) == etape_test::bits_of(x));
    else
        CHECK(etape_test::bits_of(y) == etape_test::bits_of(T(0))); // +0: sign bit clear
}
} // namespace

TEST_CASE_TEMPLATE("relu is +0 for every x <= 0, -inf and -0 included, and NaN for NaN", T, ETAPE_TEST_TYPES)
{
    using limits = std::numeric_limits<T>;
    CHECK(etape_test::bits_of(etape::relu(-limits::infinity())) == etape_test::bits_of(T(0)));
    CHECK(etape_test::bits_of(etape::relu(T(-1))) == etape_test::bits_of(T(0)));
    CHECK(etape_test::bits_of(etape::relu(T(-0.0))) == etape_test::bits_of(T(0)));
    CHECK(std::isnan(etape::relu(limits::quiet_NaN())));
    CHECK(etape::relu(limits::infinity()) == limits::infinity());

    const std::vector<T> xs = relu_edges<T>();
    // numbers and vars
    for (const T x : xs) {
        check_relu_value(x, etape::relu(x));
        etape::var<T> v = x;
        const etape::var<T> y = etape::relu(v);
        check_relu_value(x, y.value());
        CHECK(etape::gradient(y, v)[0] == (x > T(0) ? T(1) : T(0))); // 0 at -inf and NaN too
    }
    // tensors: the primitive of a tensor and a fused expression, on batches where etape has them
    for (const bool fused : {false, true}) {
        CAPTURE(fused);
        etape::tape_scope<T> scope;
        const etape::active_tensor<T> x(etape::tensor<T>({xs.size()}, xs));
        const etape::active_tensor<T> y = fused ? etape::active_tensor<T>(etape::relu(x * T(1))) : etape::relu(x);
        const auto dx = std::get<0>(etape::gradient(etape::sum(y), x));
        for (std::size_t i = 0; i < xs.size(); ++i) {
            CAPTURE(i);
            check_relu_value(xs[i], y.values()[i]);
            CHECK(dx.values()[i] == (xs[i] > T(0) ? T(1) : T(0)));
        }
    }
}

// ---- GELU's tanh approximation ----------------------------------------------------------

namespace {
constexpr long double sqrt_2_over_pi = 0.79788456080286535587989211986876L;

/// PyTorch's formula, in long double: x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3).
/// Below x = -4 the sum 1 + tanh(u) cancels even in long double, so there
/// the same function is taken as x / (1 + e^(-2u)) (1 + tanh u = 2 / (1 + e^-2u)).
long double gelu_tanh_reference(long double x)
{
    const long double u = sqrt_2_over_pi * (x + 0.044715L * x * x * x);
    return x >= -4 ? 0.5L * x * (1 + std::tanh(u)) : x / (1 + std::exp(-2 * u));
}

/// d/dx of the formula: (1 + tanh u) / 2 + x/2 (1 - tanh^2 u) u', u' = sqrt(2/pi) (1 + 3 0.044715 x^2).
long double gelu_tanh_derivative_reference(long double x)
{
    const long double u = sqrt_2_over_pi * (x + 0.044715L * x * x * x);
    const long double du = sqrt_2_over_pi * (1 + 3 * 0.044715L * x * x);
    if (x >= -4) {
        const long double th = std::tanh(u);
        return 0.5L * (1 + th) + 0.5L * x * (1 - th * th) * du;
    }
    const long double e = std::exp(2 * u); // tiny: s = e / (1 + e), s (1 - s) = e / (1 + e)^2
    return e / (1 + e) + 2 * x * du * e / ((1 + e) * (1 + e));
}

/// The relative error a value computed in T may carry: a few roundings,
/// times the condition number in the left tail, where y ~ x e^(2u) and an
/// error of eps in u moves y by |2u| eps.
template <class T>
long double gelu_tanh_tolerance(long double x)
{
    const long double u = sqrt_2_over_pi * (x + 0.044715L * x * x * x);
    return static_cast<long double>(std::numeric_limits<T>::epsilon()) * (4 + 4 * std::fabs(u));
}

template <class T>
std::vector<long double> gelu_points()
{
    if constexpr (std::is_same_v<T, float>) // gelu(-10) is 1e-37: lower, float's result is subnormal
        return {-10, -7, -5, -4, -3, -2, -1, -0.75L, -0.5L, -0.1L, -1e-3L, -1e-20L, 0,
                1e-20L, 1e-3L, 0.1L, 0.5L, 1, 2, 3, 4, 6, 10, 30, 1e3L, 1e6L};
    else
        return {-20, -15, -10, -7, -5, -4, -3, -2, -1, -0.75L, -0.5L, -0.1L, -1e-3L, -1e-20L, 0,
                1e-20L, 1e-3L, 0.1L, 0.5L, 1, 2, 3, 4, 6, 10, 30, 1e3L, 1e6L};
}
} // namespace

TEST_CASE_TEMPLATE("gelu(x, approximate::tanh): values and derivatives against PyTorch's formula", T, ETAPE_TEST_TYPES)
{
    const auto tanh_form = [](auto x) { return etape::gelu(x[0], etape::approximate::tanh); };
    for (const long double p : gelu_points<T>()) {
        const T x = static_cast<T>(p);
        const long double xl = x;
        CAPTURE(xl);
        const long double tolerance = gelu_tanh_tolerance<T>(xl);
        const long double want = gelu_tanh_reference(xl);
        const T got = etape::gelu(x, etape::approximate::tanh);
        CHECK(std::fabs(got - want) <= tolerance * std::fabs(want));
        // the derivative sums two terms that cancel around x = -0.75: its error is relative to the larger
        const long double dwant = gelu_tanh_derivative_reference(xl);
        const T dgot = derivative_at<T>(tanh_form, x);
        const long double scale = std::max(std::fabs(dwant), 0.5L * (1 + std::tanh(sqrt_2_over_pi * xl)));
        CHECK(std::fabs(dgot - dwant) <= 4 * tolerance * std::max(scale, std::fabs(dwant)));
    }
    // against central differences
    check_unary_at<T>(tanh_form, {0.0L, tiny, -tiny, 0.5L, -0.5L, -0.75L, 1, -1, 3, -3, 6, -6, 20, 80, -80});
    // PyTorch: gelu(1, approximate='tanh') = 0.8411919906082768, gelu(-1, ...) = -0.15880800939172324
    CHECK(etape::gelu(1.0, etape::approximate::tanh) == doctest::Approx(0.8411919906082768).epsilon(4e-16));
    CHECK(etape::gelu(-1.0, etape::approximate::tanh) == doctest::Approx(-0.15880800939172324).epsilon(4e-16));
    // the limits: x far right, 0 far left (no cancellation to a wrong 0 before the result underflows)
    using limits = std::numeric_limits<T>;
    CHECK(etape::gelu(T(1e6), etape::approximate::tanh) == T(1e6));
    CHECK(etape::gelu(limits::max(), etape::approximate::tanh) == limits::max());
    CHECK(etape::gelu(limits::infinity(), etape::approximate::tanh) == limits::infinity());
    CHECK(etape::gelu(T(-1e6), etape::approximate::tanh) == T(0));
    CHECK(etape::gelu(T(-7), etape::approximate::tanh) < T(0));
    CHECK(derivative_at<T>(tanh_form, T(0)) == T(0.5));
    CHECK(derivative_at<T>(tanh_form, T(1e6)) == T(1));
    CHECK(derivative_at<T>(tanh_form, T(-1e6)) == T(0));
    CHECK(derivative_at<T>(tanh_form, limits::max()) == T(1)); // x t' would overflow: the term is dropped where e is 0
    CHECK(derivative_at<T>(tanh_form, -limits::max()) == T(0));
    CHECK(derivative_at<T>(tanh_form, limits::infinity()) == T(1));
    CHECK(std::isnan(etape::gelu(limits::quiet_NaN(), etape::approximate::tanh)));
    CHECK(std::isnan(derivative_at<T>(tanh_form, limits::quiet_NaN())));
}

TEST_CASE_TEMPLATE("gelu(x, approximate::none) is gelu(x), bit for bit", T, ETAPE_TEST_TYPES)
{
    for (const long double p : gelu_points<T>()) {
        const T x = static_cast<T>(p);
        CAPTURE(x);
        CHECK(etape_test::bits_of(etape::gelu(x, etape::approximate::none)) == etape_test::bits_of(etape::gelu(x)));
        const T none_form = derivative_at<T>([](auto v) { return etape::gelu(v[0], etape::approximate::none); }, x);
        const T erf_form = derivative_at<T>([](auto v) { return etape::gelu(v[0]); }, x);
        CHECK(etape_test::bits_of(none_form) == etape_test::bits_of(erf_form));
    }
}

// ---- softplus with beta and threshold ---------------------------------------------------

namespace {
/// PyTorch's Softplus in long double: (1/beta) log(1 + e^(beta x)), or x
/// where beta x > threshold, beta x rounded to T as both compute it.
template <class T>
long double softplus_reference(long double x, long double beta, long double threshold)
{
    const long double z = static_cast<T>(static_cast<T>(beta) * static_cast<T>(x));
    return z > threshold ? x : std::log1p(std::exp(beta * x)) / beta;
}
template <class T>
long double softplus_derivative_reference(long double x, long double beta, long double threshold)
{
    const long double z = static_cast<T>(static_cast<T>(beta) * static_cast<T>(x));
    return z > threshold ? 1 : 1 / (1 + std::exp(-beta * x));
}
} // namespace

TEST_CASE_TEMPLATE("softplus(x, beta, threshold): values and derivatives against PyTorch's formula", T,
                   ETAPE_TEST_TYPES)
{
    using limits = std::numeric_limits<T>;
    const long double eps = limits::epsilon();
    // (beta, threshold): PyTorch's defaults, and others whose switch threshold / beta is exact in T
    for (const auto& parameters :
         {std::pair{1.0L, 20.0L}, {2.0L, 20.0L}, {0.5L, 15.0L}, {4.0L, 1.0L}, {3.0L, 1.0L}}) {
        const long double beta = parameters.first, threshold = parameters.second; // not bindings: lambdas capture them
        CAPTURE(static_cast<double>(beta));
        CAPTURE(static_cast<double>(threshold));
        const T b = static_cast<T>(beta), t = static_cast<T>(threshold);
        const auto f = [b, t](auto x) { return etape::softplus(x[0], b, t); };
        const long double edge = threshold / beta; // the switch: beta x == threshold
        for (const long double p : {-80.0L, -20.0L, -3.0L, -1.0L, -1e-3L, 0.0L, 1e-3L, 1.0L, 3.0L, edge - 0.5L, edge,
                                    edge + 0.5L, 2 * edge, 1e3L, 1e6L}) {
            const T x = static_cast<T>(p);
            const long double xl = x;
            CAPTURE(xl);
            // relative, until the result underflows (x = -80 in float)
            const long double want = softplus_reference<T>(xl, b, t);
            CHECK(std::fabs(etape::softplus(x, b, t) - want) <= 4 * eps * std::fabs(want) + limits::min());
            const long double dwant = softplus_derivative_reference<T>(xl, b, t);
            CHECK(std::fabs(derivative_at<T>(f, x) - dwant) <= 4 * eps * dwant + limits::min());
        }
        // against central differences, away from the switch (a jump of (1/beta) log1p(e^-threshold))
        check_unary_at<T>(f, {-80.0L, -20.0L, -3.0L, -tiny, 0.0L, tiny, 0.5L, 3.0L, edge - 0.25L, edge + 0.25L, 1e3L});
        // at the switch: beta x == threshold is still the smooth side, as in PyTorch (beta x > threshold)
        const T at = t / b;
        if (b * at == t) { // not for beta = 3
            CHECK(etape::softplus(at, b, t) == etape::softplus(t) / b);
            CHECK(derivative_at<T>(f, at) == etape::sigmoid(t));
        }
        const T above = std::nextafter(at, limits::infinity());
        if (b * above > t) { // not where beta x rounds back to the threshold
            CHECK(etape::softplus(above, b, t) == above);
            CHECK(derivative_at<T>(f, above) == T(1));
        }
    }
    CHECK(etape::softplus(-limits::infinity(), T(2), T(20)) == T(0));
    CHECK(etape::softplus(limits::infinity(), T(2), T(20)) == limits::infinity());
    CHECK(etape::softplus(limits::infinity(), T(2), limits::infinity()) == limits::infinity());
    CHECK(std::isnan(etape::softplus(limits::quiet_NaN(), T(2), T(20))));
    // no threshold: no overflow either (e^(beta x) is never formed for beta x > 0)
    CHECK(etape::softplus(T(1000), T(1), limits::infinity()) == T(1000));
    CHECK(etape::softplus(T(1e30), T(2), limits::infinity()) == T(1e30));
    const long double small_beta = softplus_reference<T>(1000, T(0.01), limits::infinity());
    CHECK(std::fabs(etape::softplus(T(1000), T(0.01), limits::infinity()) - small_beta) <= 4 * eps * small_beta);
}

TEST_CASE_TEMPLATE("softplus(x) keeps no threshold, and softplus(x, 1, inf) is softplus(x) bit for bit", T,
                   ETAPE_TEST_TYPES)
{
    const T inf = std::numeric_limits<T>::infinity();
    for (const T x : {T(-30), T(-1), T(0), T(0.5), T(19.5), T(20), T(21), T(25), T(40), T(1e3)}) {
        CAPTURE(x);
        CHECK(etape_test::bits_of(etape::softplus(x, T(1), inf)) == etape_test::bits_of(etape::softplus(x)));
        CHECK(etape_test::bits_of(derivative_at<T>([inf](auto v) { return etape::softplus(v[0], T(1), inf); }, x)) ==
              etape_test::bits_of(derivative_at<T>([](auto v) { return etape::softplus(v[0]); }, x)));
    }
    // past 20 the defaults switch to x: log1p(e^-21) = 7.6e-10 is below half an ulp of 21 in float, not in double
    CHECK(etape::softplus(T(21), T(1)) == T(21));
    CHECK(derivative_at<T>([](auto v) { return etape::softplus(v[0], T(1)); }, T(21)) == T(1));
    if constexpr (std::is_same_v<T, double>)
        CHECK(etape::softplus(21.0) == doctest::Approx(21.000000000758256).epsilon(1e-16));
    else
        CHECK(etape::softplus(21.0f) == 21.0f);
}

TEST_CASE("softplus rejects a beta that is not positive and finite, and a NaN threshold, naming both")
{
    const auto message_of = [](auto f) { return std::string(etape_test::thrown_by<std::invalid_argument>(f).what()); };
    etape::var<double> x = 1.0;
    const double inf = std::numeric_limits<double>::infinity();
    const std::string beta_message = "etape::softplus: beta must be positive and finite, got ";
    CHECK(message_of([&] { (void)etape::softplus(x, 0.0); }) == beta_message + "0");
    CHECK(message_of([&] { (void)etape::softplus(x, -2.0); }) == beta_message + "-2");
    CHECK(message_of([&] { (void)etape::softplus(x, std::nan("")); }) == beta_message + "nan");
    CHECK(message_of([&] { (void)etape::softplus(2.0, inf); }) == beta_message + "inf");
    CHECK(message_of([&] { (void)etape::softplus(x, 1.0, std::nan("")); }) ==
          "etape::softplus: threshold must not be NaN, got nan");
    CHECK_THROWS_AS((void)etape::softplus(1.0f, -0.0f), std::invalid_argument);
    // an infinite threshold is a softplus that never turns linear; a negative one is allowed, as in PyTorch
    CHECK_NOTHROW((void)etape::softplus(x, 1.0, inf));
    CHECK_NOTHROW((void)etape::softplus(x, 1.0, -inf));
    CHECK(etape::softplus(0.5, 1.0, -inf) == 0.5);
}

// ---- the new forms on tensors -----------------------------------------------------------

namespace {
/// Applies f to a tensor of xs, as a primitive of the tensor and inside a
/// fused expression, and compares values and gradients element by element
/// with f on scalar vars: within the ulp bounds of docs/tensors.md.
template <class T, class F>
void check_tensor_against_vars(F f, const std::vector<T>& xs, double value_ulp, double partial_ulp)
{
    for (const bool fused : {false, true}) {
        CAPTURE(fused);
        etape::tape_scope<T> scope;
        const etape::active_tensor<T> x(etape::tensor<T>({xs.size()}, xs));
        const etape::active_tensor<T> y = fused ? etape::active_tensor<T>(f(x * T(1))) : etape::active_tensor<T>(f(x));
        const auto dx = std::get<0>(etape::gradient(etape::sum(y), x));
        for (std::size_t i = 0; i < xs.size(); ++i) {
            etape::var<T> v = xs[i];
            const etape::var<T> w = f(v);
            const T dv = etape::gradient(w, v)[0];
            CAPTURE(xs[i]);
            CAPTURE(y.values()[i]);
            CAPTURE(w.value());
            CAPTURE(dx.values()[i]);
            CAPTURE(dv);
            CHECK(etape_test::ulp_distance(y.values()[i], w.value()) <= value_ulp);
            CHECK(etape_test::ulp_distance(dx.values()[i], dv) <= partial_ulp);
        }
    }
}

template <class T>
std::vector<T> activation_sweep()
{
    using limits = std::numeric_limits<T>;
    std::vector<T> xs{T(0), T(-0.0), limits::infinity(), limits::quiet_NaN(), limits::max(), -limits::max(),
                      T(1e-30), T(-1e-30), T(10), T(20), T(21), T(40), T(1e6), T(-1e6)};
    for (int i = -300; i <= 300; ++i)
        xs.push_back(static_cast<T>(i) / T(20)); // [-15, 15] every 0.05
    return xs;
}
} // namespace

TEST_CASE_TEMPLATE("gelu(x, approximate) and softplus(x, beta, threshold) on tensors: the values and gradients of vars",
                   T, ETAPE_TEST_TYPES)
{
    const std::vector<T> xs = activation_sweep<T>();
    check_tensor_against_vars<T>([](const auto& x) { return etape::gelu(x, etape::approximate::tanh); }, xs, 2, 16);
    check_tensor_against_vars<T>([](const auto& x) { return etape::gelu(x, etape::approximate::none); }, xs, 0, 0);
    check_tensor_against_vars<T>([](const auto& x) { return etape::softplus(x, T(1)); }, xs, 2, 2);
    check_tensor_against_vars<T>([](const auto& x) { return etape::softplus(x, T(0.5), T(5)); }, xs, 2, 2);

    // gradients of fused expressions against central differences
    const auto at = etape_test::spread<T>({4, 5}, 4.0);
    etape_test::check_tensor_gradient<T>(
        [](const etape::active_tensor<T>& x) {
            return etape::sum(etape::gelu(x * T(0.7) + T(0.1), etape::approximate::tanh) * x +
                              etape::softplus(x, T(2), T(3)));
        },
        [](auto x) {
            long double s = 0;
            for (const long double v : x)
                s += gelu_tanh_reference(v * 0.7L + 0.1L) * v + softplus_reference<T>(v, 2, 3);
            return s;
        },
        at);
}
