// The gradient checker must catch a wrong derivative and name where it is.
#include "support/check.hpp"

namespace {
/// sin with a derivative that is wrong by 1e-3 relative: the checker must see it.
struct slightly_wrong_sin {
    static constexpr etape::derivative_source source = etape::derivative_source::input;
    template <class T> T primal(T x) const { return std::sin(x); }
    template <class T> T partial(T x, T) const { return std::cos(x) * T(1.001); }
};
} // namespace

TEST_CASE_TEMPLATE("the checker fails a wrong gradient and names the worst component", T, ETAPE_TEST_TYPES)
{
    const auto f = [](auto x) { return x[0] * x[1] + etape::apply(slightly_wrong_sin{}, x[2]) + x[3]; };
    const std::vector<T> at{T(1), T(2), T(0.5), T(3)};
    const auto report = etape::check_gradient(f, at);
    CHECK_FALSE(report.passed);
    CHECK(report.worst == 2);
    CHECK(report.worst_excess > 1);
    CHECK(fmt::format("{}", report).find("failed: worst component 2") != std::string::npos);

    const auto right = [](auto x) { return x[0] * x[1] + etape::sin(x[2]) + x[3]; };
    CHECK(etape::check_gradient(right, at).passed);
}

TEST_CASE("the checker's differences are taken in long double")
{
    // float cannot resolve this difference; long double can
    const auto f = [](auto x) { return etape::exp(x[0]) * 1e-3; };
    const std::vector<double> at{20.0};
    const auto report = etape::check_gradient(f, at);
    CHECK(report.passed);
    CHECK(static_cast<double>(report.finite_difference[0]) == doctest::Approx(std::exp(20.0) * 1e-3).epsilon(1e-12));
}
