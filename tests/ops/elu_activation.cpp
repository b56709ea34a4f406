// The tape-free ELU unit: activate() and measure(output, error).
#include <cmath>
#include <vector>

#include "support/check.hpp"

TEST_CASE_TEMPLATE("activate and measure reproduce the request's example", T, ETAPE_TEST_TYPES)
{
    const etape::elu_activation<T> unit(T(0.5));
    const std::vector<T> inputs{T(1), T(0), T(-1), T(-2)};
    const auto outputs = unit.activate(inputs);
    REQUIRE(outputs.size() == 4);
    CHECK(outputs[0] == T(1));
    CHECK(outputs[1] == T(0));
    CHECK(outputs[2] == doctest::Approx(0.5 * std::expm1(-1.0)).epsilon(1e-6));
    CHECK(outputs[3] == doctest::Approx(0.5 * std::expm1(-2.0)).epsilon(1e-6));

    const auto gradients = unit.measure(outputs, T(0.5));
    CHECK(gradients[0] == T(0.5));
    CHECK(gradients[1] == T(0.25)); // x == 0: alpha * error
    CHECK(gradients[2] == doctest::Approx(0.5 * 0.5 * std::exp(-1.0)).epsilon(1e-6));
    CHECK(gradients[3] == doctest::Approx(0.5 * 0.5 * std::exp(-2.0)).epsilon(1e-6));
}

TEST_CASE_TEMPLATE("measure agrees with the tape's gradient", T, ETAPE_TEST_TYPES)
{
    const etape::elu_activation<T> unit(T(1.3));
    for (const T x : {T(-4), T(-0.5), T(0), T(0.25), T(3)}) {
        CAPTURE(x);
        const T from_tape = etape_test::derivative_at<T>([](auto v) { return etape::elu(v[0], T(1.3)); }, x);
        CHECK(unit.measure(unit.activate(x), T(2)) == doctest::Approx(2 * from_tape).epsilon(1e-6));
    }
}

TEST_CASE("measure with one error per output checks the sizes")
{
    const etape::elu_activation<double> unit;
    const std::vector<double> outputs{1.0, -0.5};
    const std::vector<double> errors{0.1, 0.2};
    const auto g = unit.measure(outputs, errors);
    CHECK(g[0] == doctest::Approx(0.1));
    CHECK(g[1] == doctest::Approx(0.2 * 0.5));
    const std::vector<double> short_errors{0.1};
    CHECK_THROWS_WITH_AS((void)unit.measure(outputs, short_errors), doctest::Contains("2 outputs but 1 errors"),
                         std::invalid_argument);
}
