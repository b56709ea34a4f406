// Gradient front-ends: several inputs, spans, the functional form, jacobians.
#include <array>
#include <span>
#include <vector>

#include "support/check.hpp"

TEST_CASE_TEMPLATE("gradient with respect to chosen inputs", T, ETAPE_TEST_TYPES)
{
    etape::var<T> x = T(2), y = T(3), z = T(-1);
    const etape::var<T> f = x * y * y + etape::exp(z) * x;
    const auto [dx, dz] = etape::gradient(f, x, z);
    CHECK(dx == doctest::Approx(9 + std::exp(-1.0)).epsilon(1e-6));
    CHECK(dz == doctest::Approx(2 * std::exp(-1.0)).epsilon(1e-6));
    const std::vector<etape::var<T>> inputs{x, y, z};
    const std::vector<T> all = etape::gradient(f, inputs);
    CHECK(all[1] == T(12));
    // asking twice gives the same answer (adjoints are cleared each time)
    CHECK(etape::gradient(f, inputs) == all);
    // an intermediate can be an input too
    const etape::var<T> u = x * y;
    const etape::var<T> g = u * u;
    CHECK(etape::gradient(g, u)[0] == T(12));
}

TEST_CASE_TEMPLATE("the functional form over plain vectors", T, ETAPE_TEST_TYPES)
{
    const auto rosenbrock = [](std::span<const etape::var<T>> x) {
        etape::var<T> sum = T(0);
        for (std::size_t i = 0; i + 1 < x.size(); ++i)
            sum += 100 * (x[i + 1] - x[i] * x[i]) * (x[i + 1] - x[i] * x[i]) + (1 - x[i]) * (1 - x[i]);
        return sum;
    };
    const std::vector<T> at{T(1), T(1), T(1)};
    const auto before = etape::active_tape<T>().position();
    const auto [value, grad] = etape::value_and_gradient(rosenbrock, at);
    CHECK(value == T(0));
    CHECK(grad == std::vector<T>{T(0), T(0), T(0)});
    CHECK(etape::active_tape<T>().position() == before); // the recording was rewound

    const std::vector<T> other{T(-1.2), T(1)};
    const auto g = etape::gradient(rosenbrock, std::span<const T>(other));
    CHECK(g[0] == doctest::Approx(-215.6).epsilon(1e-6));
    CHECK(g[1] == doctest::Approx(-88).epsilon(1e-6));
}

TEST_CASE_TEMPLATE("jacobian of several outputs", T, ETAPE_TEST_TYPES)
{
    const auto polar = [](std::span<const etape::var<T>> p) {
        return std::vector<etape::var<T>>{p[0] * etape::cos(p[1]), p[0] * etape::sin(p[1])};
    };
    const std::vector<T> at{T(2), T(0.5)};
    const auto j = etape::jacobian(polar, at);
    REQUIRE(j.size() == 2);
    CHECK(j[0][0] == doctest::Approx(std::cos(0.5)).epsilon(1e-6));
    CHECK(j[0][1] == doctest::Approx(-2 * std::sin(0.5)).epsilon(1e-6));
    CHECK(j[1][0] == doctest::Approx(std::sin(0.5)).epsilon(1e-6));
    CHECK(j[1][1] == doctest::Approx(2 * std::cos(0.5)).epsilon(1e-6));
}

TEST_CASE("an exception inside the functional form still rewinds the tape")
{
    const auto before = etape::active_tape<double>().position();
    const auto throwing = [](std::span<const etape::var<double>> x) -> etape::var<double> {
        const etape::var<double> y = x[0] * 2;
        throw std::runtime_error("user error");
        return y;
    };
    CHECK_THROWS_AS((void)etape::gradient(throwing, std::vector<double>{1.0}), std::runtime_error);
    CHECK(etape::active_tape<double>().position() == before);
}

TEST_CASE("a var from a scope that ended is not on the active tape")
{
    etape::var<double> stray;
    {
        etape::tape_scope<double> scope;
        for (int i = 0; i < 10; ++i)
            stray = etape::var<double>(static_cast<double>(i));
    }
    etape::tape_scope<double> fresh;
    etape::var<double> y = 1.0;
    CHECK_THROWS_AS((void)etape::gradient(y, stray), etape::tape_error);
}

TEST_CASE_TEMPLATE("register_inputs makes consecutive new inputs at once", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    std::vector<etape::var<T>> x(3);
    const std::vector<T> values{T(1), T(2), T(3)};
    etape::register_inputs(x, values);
    CHECK(x[1].slot() == x[0].slot() + 1);
    CHECK(x[2].slot() == x[0].slot() + 2);
    CHECK(x[2].value() == T(3));
    CHECK(scope.get().stats().slots == 3);
    const etape::var<T> y = x[0] * x[1] + etape::sin(x[2]);
    const std::vector<T> g = etape::gradient(y, std::span<const etape::var<T>>(x));
    CHECK(g[0] == T(2));
    CHECK(g[1] == T(1));
    CHECK(g[2] == doctest::Approx(std::cos(3.0)).epsilon(1e-6));
    // registering again gives fresh slots; the old vars keep theirs
    const auto before = x[0].slot();
    etape::register_inputs(x, values);
    CHECK(x[0].slot() == before + 4);
    std::vector<etape::var<T>> two(2);
    CHECK_THROWS_WITH_AS(etape::register_inputs(two, values), doctest::Contains("2 vars for 3 values"),
                         std::invalid_argument);
}

TEST_CASE("gradient over a span: passive vars get zero even when something flowed into the sink")
{
    etape::tape_scope<double> scope;
    const etape::var<double> passive; // slot 0
    const etape::var<double> x = 2.0;
    const etape::var<double> y = x * passive + x * x; // flows into slot 0 too
    const std::vector<etape::var<double>> xs{passive, x};
    const std::vector<double> g = etape::gradient(y, xs);
    CHECK(g[0] == 0.0);
    CHECK(g[1] == 4.0);
}

TEST_CASE_TEMPLATE("gradient_into writes the gradient into the caller's buffer", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    std::vector<etape::var<T>> x(4);
    etape::register_inputs(x, std::vector<T>{T(0.5), T(-1), T(2), T(0.25)});
    const etape::var<T> y = x[0] * x[1] + etape::exp(x[2]) * x[3] - x[1] * x[1];
    const std::vector<T> want{T(-1), T(0.5) + T(2), std::exp(T(2)) * T(0.25), std::exp(T(2))};

    SUBCASE("inputs on consecutive slots, as register_inputs makes them")
    {
        std::vector<T> out(4, T(99));
        etape::gradient_into(y, x, out);
        for (std::size_t i = 0; i < out.size(); ++i)
            CHECK(out[i] == doctest::Approx(want[i]).epsilon(1e-6));
        CHECK(out == etape::gradient(y, x));
    }
    SUBCASE("in any order, repeated, or passive")
    {
        const etape::var<T> passive;
        const etape::var<T> y_with_sink = y + passive * x[0]; // something flows into slot 0
        const std::vector<etape::var<T>> picked{x[3], x[1], passive, x[3], x[0]};
        std::array<T, 5> out{};
        etape::gradient_into(y_with_sink, picked, out);
        CHECK(out[0] == doctest::Approx(want[3]).epsilon(1e-6));
        CHECK(out[1] == doctest::Approx(want[1]).epsilon(1e-6));
        CHECK(out[2] == T(0));
        CHECK(out[3] == out[0]);
        CHECK(out[4] == doctest::Approx(want[0]).epsilon(1e-6));
    }
    SUBCASE("consecutive slots that start at an input recorded later than the lowest")
    {
        std::vector<T> out(2);
        etape::gradient_into(y, std::span<const etape::var<T>>(x).subspan(2), out);
        CHECK(out[0] == doctest::Approx(want[2]).epsilon(1e-6));
        CHECK(out[1] == doctest::Approx(want[3]).epsilon(1e-6));
    }
    SUBCASE("only passive vars, or none")
    {
        const std::vector<etape::var<T>> passive(2);
        std::vector<T> out(2, T(7));
        etape::gradient_into(y, passive, out);
        CHECK(out == std::vector<T>(2, T(0)));
        std::vector<T> nothing;
        etape::gradient_into(y, std::span<const etape::var<T>>(), nothing);
        CHECK(nothing.empty());
    }
    SUBCASE("a buffer of another size is rejected before anything is written")
    {
        std::vector<T> out(3, T(7));
        CHECK_THROWS_WITH_AS(etape::gradient_into(y, x, out),
                             doctest::Contains("3 elements to write the gradient into, for 4 inputs"),
                             std::invalid_argument);
        CHECK(out == std::vector<T>(3, T(7)));
    }
}
