// External functions (sim/external_function.hpp): a block computed by plain
// code and recorded as one node with a hand-written adjoint gives the same
// gradient as the block taped statement by statement, and finite
// differences agree; inputs may be tensors, vars and passive vars.
#include <span>
#include <vector>

#include <etape/sim/external_function.hpp>

#include "support/tensor_check.hpp"

namespace {

/// The block of these tests: y_i = s * (x_0 + ... + x_i), a running sum
/// scaled by a parameter.
template <class S, class X>
std::vector<S> scaled_running_sum(const S& s, std::span<const X> x)
{
    std::vector<S> y;
    S total = x[0];
    y.push_back(s * total);
    for (std::size_t i = 1; i < x.size(); ++i) {
        total = total + x[i];
        y.push_back(s * total);
    }
    return y;
}

/// The same block as an external function: forward on numbers, reverse by
/// hand: x_j gets s * (ybar_j + ... + ybar_{n-1}), s gets sum_i ybar_i * y_i / s
/// written without the division, as sum_i ybar_i * running_i.
template <class T>
etape::active_tensor<T> external_running_sum(const etape::var<T>& s, const etape::active_tensor<T>& x)
{
    const std::size_t n = x.size();
    std::vector<T> running(n);
    T total = 0;
    for (std::size_t i = 0; i < n; ++i)
        running[i] = total += x.values()[i];
    etape::tensor<T> y({n});
    for (std::size_t i = 0; i < n; ++i)
        y.data()[i] = s.value() * running[i];
    const T scale = s.value();
    return etape::sim::external<T>("scaled running sum", {x, s}, y,
                                   [running, scale](const etape::sim::external_adjoints<T>& a) {
                                       const std::span<const T> ybar = a.output();
                                       const std::span<T> xbar = a.input(0);
                                       T from_right = 0, sbar = 0;
                                       for (std::size_t j = ybar.size(); j-- > 0;) {
                                           from_right += ybar[j];
                                           xbar[j] += scale * from_right;
                                           sbar += ybar[j] * running[j];
                                       }
                                       a.input(1)[0] += sbar;
                                   });
}

} // namespace

TEST_CASE_TEMPLATE("an external function's hand-written adjoint gives the taped block's gradient", T, ETAPE_TEST_TYPES)
{
    const etape::tensor<T> at = etape_test::spread<T>({13});
    const T s0 = T(0.75);
    const etape::tensor<T> r = etape_test::output_weights<T>({13});

    etape::tape_scope<T> scope;
    const etape::var<T> s = s0;
    const etape::active_tensor<T> x(at);
    const auto nodes = scope.get().stats().nodes;
    const etape::active_tensor<T> y = external_running_sum(s, x);
    CHECK(scope.get().stats().nodes == nodes + 1);
    CHECK(scope.get().stats().statements == 0);
    const auto [gx, gs] = etape::gradient(etape_test::loss(etape::active_tensor<T>(elu(y)), r), x, s);

    // the same block taped statement by statement
    etape::tape_scope<T> taped_scope;
    const etape::var<T> st = s0;
    std::vector<etape::var<T>> xt(at.values().begin(), at.values().end());
    const std::vector<etape::var<T>> yt = scaled_running_sum(st, std::span<const etape::var<T>>(xt));
    etape::var<T> loss = T(0);
    for (std::size_t i = 0; i < yt.size(); ++i) {
        const etape::var<T> e = elu(yt[i]);
        loss += r.data()[i] * e + e * e * T(0.25);
    }
    for (std::size_t i = 0; i < yt.size(); ++i)
        CHECK(y.values()[i] == doctest::Approx(yt[i].value()).epsilon(1e-6));
    const double tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-13;
    for (std::size_t i = 0; i < xt.size(); ++i)
        CHECK(gx.values()[i] == doctest::Approx(etape::gradient(loss, xt[i])[0]).epsilon(tolerance));
    CHECK(gs == doctest::Approx(etape::gradient(loss, st)[0]).epsilon(tolerance));
}

TEST_CASE_TEMPLATE("an external function against finite differences, inside a longer recording", T, ETAPE_TEST_TYPES)
{
    const etape::tensor<T> r = etape_test::output_weights<T>({9});
    etape_test::check_tensor_gradient<T>(
        [&](const etape::active_tensor<T>& x) {
            const etape::var<T> s = T(1.25);
            const etape::active_tensor<T> once = external_running_sum(s, etape::active_tensor<T>(x * x));
            const etape::active_tensor<T> twice = external_running_sum(s, once); // chained
            return etape_test::loss(twice, r);
        },
        [&](std::span<const long double> x) {
            std::vector<long double> squares;
            for (const long double v : x)
                squares.push_back(v * v);
            const long double s = 1.25L;
            const std::vector<long double> once = scaled_running_sum(s, std::span<const long double>(squares));
            const std::vector<long double> twice = scaled_running_sum(s, std::span<const long double>(once));
            return etape_test::loss<T>(twice, r);
        },
        etape_test::spread<T>({9}, 1.0));
}

TEST_CASE("an external function with a passive var, an empty input, and a rewind")
{
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> x(etape::tensor<double>({3}, {1.0, 2.0, 3.0}));
    const auto start = scope.get().position();
    const etape::var<double> passive = 2.0; // not on the tape: its adjoint goes to the passive sink
    const etape::active_tensor<double> empty(etape::tensor<double>({0}));
    const etape::active_tensor<double> y = etape::sim::external<double>(
        "scale by a constant", {x, passive, empty}, etape::tensor<double>({3}, {2.0, 4.0, 6.0}),
        [](const etape::sim::external_adjoints<double>& a) {
            CHECK(a.input_count() == 3);
            CHECK(a.input(2).empty());
            CHECK_THROWS_AS((void)a.input(3), std::out_of_range);
            for (std::size_t i = 0; i < 3; ++i) {
                a.input(0)[i] += 2.0 * a.output()[i];
                a.input(1)[0] += a.output()[i]; // dropped: passive
            }
        });
    const auto [g] = etape::gradient(etape::sum(y * y), x);
    CHECK(g.values()[0] == 8.0); // d/dx (2x)^2 = 8x
    CHECK(g.values()[2] == 24.0);
    scope.get().rewind(start); // the callback and what it captured are destroyed
    CHECK(scope.get().stats().nodes == 0);
}
