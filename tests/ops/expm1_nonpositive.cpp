// The ELU family's own expm1 on x <= 0 (core/expm1_nonpositive.hpp), as a
// scalar and as a SIMD batch (core/simd.hpp): its error against expm1l in
// long double over the whole negative range and near zero, its edge values,
// and that the ELU family's scalar path uses it.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <type_traits>

#include <etape/core/expm1_nonpositive.hpp>
#include <etape/core/simd.hpp>

#include "support/check.hpp"

namespace {

/// |got - exact| in units of the last place of T at the exact value.
template <class T>
double ulp_error(T got, long double exact)
{
    const T rounded = static_cast<T>(exact);
    const T magnitude = std::fabs(rounded);
    const T ulp = rounded == T(0) ? std::numeric_limits<T>::denorm_min()
                                  : std::nextafter(magnitude, std::numeric_limits<T>::infinity()) - magnitude;
    return static_cast<double>(std::fabs(static_cast<long double>(got) - exact) / static_cast<long double>(ulp));
}

/// The scalar form.
struct scalar_form {
    static constexpr const char* name = "scalar";
    template <class T>
    static T at(T x)
    {
        return etape::detail::expm1_nonpositive(x);
    }
};

/// The batch form, every lane at x (without a SIMD library: the scalar).
struct batch_form {
    static constexpr const char* name = "batch";
    template <class T>
    static T at(T x)
    {
        if constexpr (etape::simd::enabled_for<T>) {
            using V = etape::simd::batch<T>;
            std::array<T, V::size> lanes{};
            etape::simd::expm1_where_nonpositive(V(x)).store_unaligned(lanes.data());
            for (const T lane : lanes)
                REQUIRE(std::bit_cast<std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>(lane) ==
                        std::bit_cast<std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>(lanes[0]));
            return lanes[0];
        } else {
            return etape::detail::expm1_nonpositive(x);
        }
    }
};

/// The largest error over `count` points drawn by `draw`; `at` receives its argument.
template <class Form, class T, class Draw>
double worst_error(std::size_t count, Draw draw, T& at)
{
    double worst = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const T x = draw();
        const double e = ulp_error(Form::at(x), std::expm1(static_cast<long double>(x)));
        if (e > worst) {
            worst = e;
            at = x;
        }
    }
    return worst;
}

/// Asserts `bound` ulp over the whole negative range, near zero, and at the
/// ends of the reduced range.
template <class Form, class T>
void check_accuracy(double bound)
{
    std::mt19937_64 rng(20261129);
    std::uniform_real_distribution<double> whole_range(-45.0, 0.0);
    std::uniform_real_distribution<double> exponent(-320.0, 0.0);
    T at{};
    const double uniform = worst_error<Form, T>(1'000'000, [&] { return static_cast<T>(whole_range(rng)); }, at);
    CAPTURE(static_cast<double>(at));
    CHECK(uniform <= bound);
    const double small = worst_error<Form, T>(250'000, [&] { return -static_cast<T>(std::exp2(exponent(rng))); }, at);
    CAPTURE(static_cast<double>(at));
    CHECK(small <= bound);
    MESSAGE(fmt::format("{} form: worst {} ulp", Form::name, std::max(uniform, small)));
    // the ends of the reduced range, r = +-ln(2)/2, where k changes
    for (int k = -60; k <= 0; ++k) {
        for (const long double side : {-0.5L, 0.5L}) {
            const auto x = static_cast<T>((k + side) * 0.693147180559945309417232121458176568L);
            if (x > T(0))
                continue;
            CAPTURE(static_cast<double>(x));
            for (const T y : {x, std::nextafter(x, T(0)), std::nextafter(x, -std::numeric_limits<T>::infinity())})
                CHECK(ulp_error(Form::at(y), std::expm1(static_cast<long double>(y))) <= bound);
        }
    }
}

/// The edges that both forms share (x <= 0).
template <class Form, class T>
void check_edges()
{
    using limits = std::numeric_limits<T>;
    const auto f = [](T x) { return Form::at(x); };
    CHECK(f(T(0)) == T(0));
    CHECK(!std::signbit(f(T(0))));
    CHECK(f(-T(0)) == T(0));
    CHECK(std::signbit(f(-T(0)))); // as libm: expm1(-0) = -0
    CHECK(f(-limits::denorm_min()) == -limits::denorm_min());
    CHECK(f(-limits::min()) == -limits::min());
    CHECK(f(T(-1e-30)) == T(-1e-30));
    CHECK(f(T(-40)) == std::expm1(T(-40)));
    CHECK(f(T(-41)) == T(-1));
    CHECK(f(-limits::max()) == T(-1));
    CHECK(f(-limits::infinity()) == T(-1));
}

} // namespace

TEST_CASE_TEMPLATE("expm1_nonpositive: within 1 ulp (double) and 0.5 ulp (float) of expm1l", T, ETAPE_TEST_TYPES)
{
    // double: within 1 ulp, as libm; float: computed in double and rounded
    // once, so correctly rounded but for a double rounding at a near-tie
    check_accuracy<scalar_form, T>(std::is_same_v<T, double> ? 1.0 : 0.501);
}

TEST_CASE_TEMPLATE("expm1_where_nonpositive: the batch form within 1 ulp of expm1l", T, ETAPE_TEST_TYPES)
{
    check_accuracy<batch_form, T>(1.0); // float batches compute in float
}

TEST_CASE_TEMPLATE("expm1_nonpositive: edge values", T, ETAPE_TEST_TYPES)
{
    check_edges<scalar_form, T>();
    const auto f = [](T x) { return etape::detail::expm1_nonpositive(x); };
    using limits = std::numeric_limits<T>;
    CHECK(std::isnan(f(limits::quiet_NaN())));
    CHECK(std::isnan(f(-limits::quiet_NaN())));
    // arguments > 0 are outside the contract and give expm1(0)
    CHECK(f(T(3)) == T(0));
    CHECK(f(limits::infinity()) == T(0));
}

TEST_CASE_TEMPLATE("expm1_where_nonpositive: edge values of the batch form", T, ETAPE_TEST_TYPES)
{
    // lanes with x > 0 or NaN are the caller's to discard: no value promised
    check_edges<batch_form, T>();
}

TEST_CASE_TEMPLATE("the ELU family's negative side computes with expm1_nonpositive", T, ETAPE_TEST_TYPES)
{
    for (const T x : {T(-0.3), T(-1), T(-2.5), T(-7), T(-30)}) {
        CAPTURE(x);
        CHECK(etape::elu(x, T(0.5)) == T(0.5) * etape::detail::expm1_nonpositive(x));
        CHECK(etape::elu(etape::var<T>(x), T(0.5)).value() == T(0.5) * etape::detail::expm1_nonpositive(x));
        CHECK(etape::celu(x, T(2)) == T(2) * etape::detail::expm1_nonpositive(x / T(2)));
        // CELU with alpha < 0 has a positive argument there: libm's expm1
        CHECK(etape::celu(x, T(-2), etape::from_input) == T(-2) * std::expm1(x / T(-2)));
    }
    CHECK(std::signbit(etape::elu(-T(0))));
    CHECK(std::isnan(etape::selu(std::numeric_limits<T>::quiet_NaN())));
}
