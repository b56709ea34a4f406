// Vectorized math in fused tensor loops: which primitives run on SIMD
// batches, that the loops take the batch path (with a scalar tail), and that
// the batch path's values and derivatives stay within the ulp bounds of
// docs/tensors.md ("Vectorized math") of the scalar libm path, on edge values
// (0, tiny, subnormal, huge, inf, NaN) and sweeps. Without a SIMD library the
// same tests check the scalar path against itself (distance 0).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <tuple>
#include <vector>

#include "support/check.hpp"

using etape_test::ulp_distance;

namespace {

/// Edge values, and sweeps over the ranges the functions care about.
template <class T>
std::vector<T> inputs()
{
    using limits = std::numeric_limits<T>;
    std::vector<T> xs{T(0), limits::denorm_min(), limits::min() / T(8), limits::min(), T(1e-20), T(1e-7),
                      T(0.5), T(1), T(2.2), T(9.5), T(20), T(87.5), T(88.8), T(103), T(709.5), T(710), T(745.2),
                      T(1e30), limits::max(), limits::infinity(), limits::quiet_NaN()};
    const std::size_t edges = xs.size();
    for (std::size_t i = 0; i < edges; ++i)
        xs.push_back(-xs[i]);
    for (int i = -2000; i <= 2000; ++i) // [-20, 20], every 0.01
        xs.push_back(static_cast<T>(i) / T(100));
    for (T m = limits::denorm_min(); m < limits::max() / T(3); m *= T(3.7)) { // every magnitude, both signs
        xs.push_back(m);
        xs.push_back(-m);
    }
    return xs;
}

struct bound_table {
    double value;   ///< ulp between the batch path's value and libm's
    double partial; ///< ulp between the batch and scalar partial, given the same x and y
};

/// Applies p to a tensor of every input, once as a primitive of an active
/// tensor (forward and reverse of primitive_reverse) and once inside a fused
/// expression (p(x * 1): the general forward loop), and compares element by
/// element with the scalar forms of p.
template <class T, class P>
void check_against_scalar(const P& p, const char* name, bound_table bound)
{
    const std::vector<T> xs = inputs<T>();
    const std::size_t n = xs.size();
    std::vector<T> weights(n, T(1));
    for (std::size_t i = 0; i < n; i += 3)
        weights[i] = T(0); // a zero adjoint passes nothing on, not even 0 * inf or 0 * NaN
    for (std::size_t i = 1; i < n; i += 7)
        weights[i] = std::numeric_limits<T>::quiet_NaN(); // a NaN adjoint passes NaN on, whatever the partial
    const etape::tensor<T> x_values({n}, xs);
    const etape::tensor<T> w({n}, weights);

    for (const bool fused : {false, true}) {
        etape::tape_scope<T> scope;
        const etape::active_tensor<T> x(x_values);
        const etape::active_tensor<T> y = fused ? etape::active_tensor<T>(etape::apply(p, x * T(1))) : etape::apply(p, x);
        const auto dx = std::get<0>(etape::gradient(etape::sum(y * w), x)); // not a binding: INFO captures it
        double worst_value = 0, worst_partial = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const T expected = static_cast<T>(p.primal(xs[i]));
            const double value_ulp = ulp_distance(y.values()[i], expected);
            INFO(fmt::format("{}{}: x = {}, libm {}, batch path {}", name, fused ? " in a fused expression" : " of a tensor",
                             xs[i], expected, y.values()[i]));
            CHECK(value_ulp <= bound.value);
            worst_value = std::max(worst_value, value_ulp);
            const T partial = static_cast<T>(p.partial(xs[i], y.values()[i]));
            const T expected_dx = weights[i] == T(0) ? T(0) : partial * weights[i];
            const double partial_ulp = ulp_distance(dx.values()[i], expected_dx);
            INFO(fmt::format("dx: scalar {}, batch path {}", expected_dx, dx.values()[i]));
            CHECK(partial_ulp <= bound.partial);
            worst_partial = std::max(worst_partial, partial_ulp);
        }
        MESSAGE(fmt::format("{} {}: worst {} ulp (value), {} ulp (partial)", name, fused ? "fused" : "of a tensor",
                            worst_value, worst_partial));
    }
}

} // namespace

// Named, not anonymous: clang counts members that only concepts read as unused.
namespace simd_math_test {

/// A primitive that counts how often it runs on batches and on numbers.
struct counting_square_op {
    static constexpr etape::derivative_source source = etape::derivative_source::input;
    static constexpr std::string_view name = "counting_square";
    static constexpr bool takes_batches = true;
    static inline std::size_t batches = 0, numbers = 0;
    template <class T> static T primal(T x)
    {
        ++numbers;
        return x * x;
    }
    template <etape::simd::batch_type V> static V primal(V x)
    {
        ++batches;
        return x * x;
    }
    template <class T> static T partial(T x, T) { return T(2) * x; }
};

/// The same primitive without batch forms: it must stay on numbers.
struct scalar_square_op {
    static constexpr etape::derivative_source source = etape::derivative_source::input;
    template <class T> static T primal(T x) { return x * x; }
    template <class T> static T partial(T x, T) { return T(2) * x; }
};

} // namespace simd_math_test

using simd_math_test::counting_square_op;
using simd_math_test::scalar_square_op;

TEST_CASE_TEMPLATE("primitives with batch forms are detected, and only they", T, ETAPE_TEST_TYPES)
{
    static_assert(etape::batch_primitive<etape::exp_op>);
    static_assert(etape::batch_primitive<etape::expm1_op>);
    static_assert(etape::batch_primitive<etape::log_op>);
    static_assert(etape::batch_primitive<etape::tanh_op>);
    static_assert(etape::batch_primitive<etape::erf_op>);
    static_assert(etape::batch_primitive<etape::elu_op<T>>);
    static_assert(etape::batch_primitive<etape::elu_op<T, etape::from_input_t>>);
    static_assert(etape::batch_primitive<etape::selu_op<T>>);
    static_assert(etape::batch_primitive<etape::celu_op<T>>);
    static_assert(etape::batch_primitive<etape::multiply_op>);
    static_assert(etape::batch_primitive<etape::add_op>);
    static_assert(etape::batch_primitive<etape::relu_op>);
    static_assert(etape::batch_primitive<etape::gelu_tanh_op>);
    static_assert(etape::batch_primitive<etape::gelu_approximate_op>);
    static_assert(etape::batch_primitive<etape::thresholded_softplus_op<T>>);
    static_assert(!etape::batch_primitive<etape::gelu_op>);
    static_assert(!etape::batch_primitive<etape::softplus_op>);
    static_assert(!etape::batch_primitive<etape::sin_op>);
    static_assert(!etape::batch_primitive<etape::erfc_op>);
    static_assert(!etape::batch_primitive<scalar_square_op>);

    // elu(a * x + b) * c + d: every node takes batches, so the fused loop
    // runs on batches whenever etape has a SIMD library (T float or double)
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(etape::tensor<T>({4, 8}, T(0.5)));
    const etape::var<T> a = T(0.5), b = T(-0.25), c = T(2), d = T(1);
    const auto e = etape::elu(a * x + b) * c + d;
    using bound = decltype(etape::detail::bind(e, e.shape()));
    static_assert(bound::takes_batches);
    static_assert(etape::detail::tree_on_batches<T, bound> == etape::simd::available);
    static_assert(etape::detail::on_batches<T, etape::elu_op<T>> == etape::simd::available);
    // one primitive without batch forms keeps the whole expression on numbers
    using mixed = decltype(etape::detail::bind(etape::sin(x) * c, e.shape()));
    static_assert(!mixed::takes_batches);
    static_assert(!etape::detail::on_batches<long double, etape::elu_op<long double>>);
#if ETAPE_HAS_XSIMD
    static_assert(etape::simd::available);
    static_assert(etape::simd::batch<T>::size >= 2);
#else
    static_assert(!etape::simd::available);
#endif
}

TEST_CASE_TEMPLATE("fused loops run on batches with a scalar tail", T, ETAPE_TEST_TYPES)
{
    const std::size_t width = etape::simd::available ? etape::simd::batch<T>::size : 1;
    etape::tape_scope<T> scope;
    std::vector<T> values(37);
    std::iota(values.begin(), values.end(), T(-18));
    const etape::active_tensor<T> x(etape::tensor<T>({37}, values));

    counting_square_op::batches = counting_square_op::numbers = 0;
    const etape::active_tensor<T> y = etape::apply(counting_square_op{}, x); // a primitive of a tensor
    const std::size_t full = etape::simd::available ? 37 / width : 0;
    CHECK(counting_square_op::batches == full);
    CHECK(counting_square_op::numbers == 37 - full * width);

    counting_square_op::batches = counting_square_op::numbers = 0;
    const etape::active_tensor<T> z = etape::apply(counting_square_op{}, x * T(2)) + T(1); // the fused loop
    CHECK(counting_square_op::batches == full);
    CHECK(counting_square_op::numbers == 37 - full * width);

    // a bias read along rows keeps batches inside each row: [3, 13] holds
    // 13 / width batches and 13 % width numbers per row
    counting_square_op::batches = counting_square_op::numbers = 0;
    const etape::active_tensor<T> m(etape::tensor<T>({3, 13}, T(0.5)));
    const etape::active_tensor<T> bias(etape::tensor<T>({13}, T(0.25)));
    const etape::active_tensor<T> r = etape::apply(counting_square_op{}, m + bias);
    const std::size_t per_row = etape::simd::available ? 13 / width : 0;
    CHECK(counting_square_op::batches == 3 * per_row);
    CHECK(counting_square_op::numbers == 3 * (13 - per_row * width));

    for (std::size_t i = 0; i < 37; ++i) {
        CHECK(y.values()[i] == values[i] * values[i]);
        CHECK(z.values()[i] == T(4) * values[i] * values[i] + T(1));
    }
    for (const T v : r.values())
        CHECK(v == T(0.5625));
    const auto [dm, dbias] = etape::gradient(etape::sum(r), m, bias);
    for (const T v : dm.values())
        CHECK(v == T(1.5));
    for (const T v : dbias.values())
        CHECK(v == T(4.5));
}

TEST_CASE_TEMPLATE("the batch path equals libm within the stated ulp bounds", T, ETAPE_TEST_TYPES)
{
    // docs/tensors.md, "Vectorized math": these are the bounds we promise.
    // Exact forms (arithmetic, select, sqrt) must agree bit for bit.
    constexpr bool is_double = std::is_same_v<T, double>;
    check_against_scalar<T>(etape::exp_op{}, "exp", {2, 2});
    check_against_scalar<T>(etape::expm1_op{}, "expm1", {2, 2});
    check_against_scalar<T>(etape::log_op{}, "log", {2, 0});
    check_against_scalar<T>(etape::log1p_op{}, "log1p", {2, 0});
    check_against_scalar<T>(etape::tanh_op{}, "tanh", {2, 0});
    check_against_scalar<T>(etape::erf_op{}, "erf", {is_double ? 128.0 : 4.0, 2});
    check_against_scalar<T>(etape::sqrt_op{}, "sqrt", {0, 0});
    check_against_scalar<T>(etape::relu_op{}, "relu", {0, 0});
    check_against_scalar<T>(etape::leaky_relu_op<T>{T(0.1)}, "leaky_relu", {0, 0});
    check_against_scalar<T>(etape::sigmoid_op{}, "sigmoid", {2, 0});
    // the partial cancels around its zero at x = -0.75: a few ulp of sigmoid(t) there
    check_against_scalar<T>(etape::gelu_tanh_op{}, "gelu_tanh", {2, 16});
    check_against_scalar<T>(etape::gelu_approximate_op{etape::approximate::tanh}, "gelu(approximate::tanh)", {2, 16});
    check_against_scalar<T>(etape::gelu_approximate_op{etape::approximate::none}, "gelu(approximate::none)", {0, 0});
    check_against_scalar<T>(etape::thresholded_softplus_op<T>(), "softplus(1, 20)", {2, 2});
    check_against_scalar<T>(etape::thresholded_softplus_op<T>(T(0.5), T(15)), "softplus(0.5, 15)", {2, 2});
    check_against_scalar<T>(etape::thresholded_softplus_op<T>(T(3), std::numeric_limits<T>::infinity()),
                            "softplus(3, inf)", {2, 2});
    check_against_scalar<T>(etape::elu_op<T>(), "elu", {2, 0});
    check_against_scalar<T>(etape::elu_op<T>(T(0.3)), "elu(0.3)", {2, 0});
    check_against_scalar<T>(etape::elu_op<T, etape::from_input_t>(T(1.5)), "elu from input", {2, 2});
    check_against_scalar<T>(etape::selu_op<T>(), "selu", {2, 0});
    check_against_scalar<T>(etape::celu_op<T>(T(0.7)), "celu", {2, 0});
    // alpha < 0: the exponential's argument is >= 0 on the negative side, so
    // the batch form keeps the checked expm1 (libm for wild and overflowing lanes)
    check_against_scalar<T>(etape::celu_op<T>(T(-0.7)), "celu(-0.7)", {2, 0});
}

TEST_CASE_TEMPLATE("elu(a * x + b) * c + d with a bias: batch path against the scalar loop", T, ETAPE_TEST_TYPES)
{
    for (const etape::shape s : {etape::shape{5, 13}, etape::shape{3, 16}, etape::shape{1000}}) {
        etape::tape_scope<T> scope;
        const std::size_t n = s.size(), columns = s.last();
        std::vector<T> xv(n), bv(columns);
        for (std::size_t i = 0; i < n; ++i)
            xv[i] = static_cast<T>(std::sin(0.37 * static_cast<double>(i)) * 12.0);
        for (std::size_t c = 0; c < columns; ++c)
            bv[c] = static_cast<T>(0.1 * static_cast<double>(c) - 0.4);
        const etape::active_tensor<T> x(etape::tensor<T>(s, xv));
        const etape::active_tensor<T> bias(etape::tensor<T>({columns}, bv));
        etape::var<T> a = T(0.75), c = T(2), d = T(-1);
        const etape::active_tensor<T> z = etape::elu(a * x + bias, T(0.5)) * c + d;
        const auto [dx, dbias, da] = etape::gradient(etape::sum(z), x, bias, a);
        T da_expected = 0;
        for (std::size_t i = 0; i < n; ++i) {
            // the same statement on plain numbers: the scalar path
            const T u = T(0.75) * xv[i] + bv[i % columns];
            const T e = etape::elu(u, T(0.5));
            const T expected = e * T(2) + T(-1);
            INFO("shape ", s.size(), " element ", i, ": u = ", u);
            // a few ulp of expm1, and one rounding of a * x + b that an FMA
            // may fuse differently in the two paths
            CHECK(ulp_distance(z.values()[i], expected) <= 4);
            // the derivative from the output, e + alpha, cancels on the
            // negative side: a difference of an ulp in e is an absolute one
            // in the derivative (ops/elu.hpp, "Precision"), so it is compared
            // to the scale of c * a (1.5), not to its own magnitude
            const T de = etape::elu_op<T>(T(0.5)).partial(u, e);
            CHECK(std::fabs(dx.values()[i] - T(2) * de * T(0.75)) <= T(4) * std::numeric_limits<T>::epsilon() * T(1.5));
            da_expected += T(2) * de * xv[i];
        }
        CHECK(static_cast<T>(da) == doctest::Approx(da_expected).epsilon(std::is_same_v<T, double> ? 1e-12 : 1e-5));
    }
}

TEST_CASE_TEMPLATE("sum of a fused expression: lane sums in double for float, the same as summing the output", T,
                   ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    std::vector<T> xv(1001);
    for (std::size_t i = 0; i < xv.size(); ++i)
        xv[i] = static_cast<T>(std::cos(0.1 * static_cast<double>(i)) * 4.0);
    const etape::active_tensor<T> x(etape::tensor<T>({xv.size()}, xv));
    const etape::active_tensor<T> y = etape::elu(x);
    const etape::var<T> fused = etape::sum(etape::elu(x));
    const etape::var<T> again = etape::sum(etape::elu(x));
    const etape::var<T> stored = etape::sum(y);
    CHECK(fused.value() == again.value());  // the same order every time
    CHECK(fused.value() == stored.value()); // the same lanes whether the elements are stored or not
    long double exact = 0, magnitude = 0;
    for (const T v : y.values()) {
        exact += v;
        magnitude += std::fabs(static_cast<long double>(v));
    }
    // float sums in double: within one float rounding of the exact sum; double
    // sums in double: within n eps of the sum of magnitudes
    const long double bound =
        std::is_same_v<T, float>
            ? std::numeric_limits<float>::epsilon() * std::fabs(exact) + 1e-12L * magnitude
            : static_cast<long double>(xv.size()) * std::numeric_limits<double>::epsilon() * magnitude;
    CHECK(std::fabs(static_cast<long double>(fused.value()) - exact) <= bound);
    // and it is not summed in float: a float running sum of these values misses by more
    if constexpr (std::is_same_v<T, float>) {
        float naive = 0;
        for (const float v : y.values())
            naive += v;
        CHECK(std::fabs(static_cast<long double>(fused.value()) - exact) <=
              std::fabs(static_cast<long double>(naive) - exact));
    }
}

TEST_CASE_TEMPLATE("NaN propagates through the batch path, forward and reverse", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const T nan = std::numeric_limits<T>::quiet_NaN();
    std::vector<T> xv(19, T(-0.5));
    xv[3] = nan;
    xv[17] = nan; // in the tail when the width is 4 or 8
    const etape::active_tensor<T> x(etape::tensor<T>({19}, xv));
    const etape::active_tensor<T> y = etape::elu(x);
    const etape::active_tensor<T> z = etape::tanh(etape::exp(x) * T(0.5));
    const etape::var<T> loss = etape::sum(y) + etape::sum(z);
    const auto [dx] = etape::gradient(loss, x);
    for (const std::size_t i : {std::size_t(3), std::size_t(17)}) {
        CHECK(std::isnan(y.values()[i]));
        CHECK(std::isnan(z.values()[i]));
        CHECK(std::isnan(dx.values()[i]));
    }
    CHECK(!std::isnan(dx.values()[4]));
    CHECK(!std::isnan(dx.values()[16]));
}
