// The ODE steppers: orders of convergence against analytic solutions, the
// adaptive stepper's tolerance and rejections, energy over long runs, the
// same code on numbers, vars and active tensors, gradients against finite
// differences in long double, and every bad input.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <etape/sim/steppers.hpp>

#include "support/check.hpp"

namespace sim = etape::sim;
using etape_test::thrown_by;

namespace {

template <class S>
using pair_of = std::array<S, 2>;

/// q' = v, v' = -q: q = cos t, v = -sin t from (1, 0).
const auto oscillator = [](double, const auto& y) {
    using S = std::remove_cvref_t<decltype(y)>;
    return S{y[1], -y[0]};
};

/// The message of the E that f throws.
template <class E, class F>
std::string message_of(F&& f)
{
    return thrown_by<E>(std::forward<F>(f)).what();
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

sim::adaptive_options tolerance(double relative, double absolute)
{
    sim::adaptive_options o;
    o.relative_tolerance = relative;
    o.absolute_tolerance = absolute;
    return o;
}

/// y(t1) by Dormand-Prince, or, on long double, where the finite
/// differences are taken, by RK4 in 5000 fixed steps. A difference quotient
/// through an adaptive stepper is no reference: the step sequence changes
/// with the inputs, and its jumps (a step accepted or not, the last one
/// stretched or not) change the solution by about the tolerance, which the
/// quotient divides by its small step. The stepper's own gradient is that of
/// the discrete map with its steps held, which approaches the ODE's as the
/// tolerance does; the single step's gradient is checked exactly below.
template <class F, class S>
S dormand_prince_or_reference(const F& f, const S& y0, double t0, double t1)
{
    using scalar = typename sim::state_traits<S>::scalar;
    if constexpr (std::is_same_v<scalar, long double>)
        return sim::integrate_rk4(f, y0, t0, t1, 5000);
    else if constexpr (std::is_same_v<scalar, float>)
        return sim::integrate_dormand_prince(f, y0, t0, t1, tolerance(1e-7, 1e-9));
    else
        return sim::integrate_dormand_prince(f, y0, t0, t1, tolerance(1e-12, 1e-14));
}

/// Runs check_gradient on f at x and reports the comparison when it fails.
template <class T, class F>
void check_gradient_at(F f, const std::vector<T>& x,
                       const etape::gradient_check_options& options = etape::gradient_check_options::for_type<T>())
{
    etape::tape_scope<T> scope;
    const auto report = etape::check_gradient(f, x, options);
    INFO(fmt::format("{}", report));
    CHECK(report.passed);
}

} // namespace

// ---- orders of convergence ------------------------------------------------------------

TEST_CASE("Euler and RK4 converge at orders 1 and 4 on exponential decay")
{
    const auto decay = [](double, const double& y) { return -y; };
    const double exact = std::exp(-1.0);
    const auto euler_error = [&](std::size_t n) {
        return std::abs(sim::integrate_euler(decay, 1.0, 0.0, 1.0, n) - exact);
    };
    const auto rk4_error = [&](std::size_t n) { return std::abs(sim::integrate_rk4(decay, 1.0, 0.0, 1.0, n) - exact); };
    for (const std::size_t n : {100, 200, 400}) {
        CAPTURE(n);
        CHECK(euler_error(n) / euler_error(2 * n) == doctest::Approx(2).epsilon(0.02));
    }
    for (const std::size_t n : {10, 20, 40}) {
        CAPTURE(n);
        CHECK(rk4_error(n) / rk4_error(2 * n) == doctest::Approx(16).epsilon(0.06));
    }
    CHECK(rk4_error(40) < 2e-9);
}

TEST_CASE("RK4 and velocity Verlet converge at orders 4 and 2 on the harmonic oscillator")
{
    const double end = 2.0;
    const auto rk4_error = [&](std::size_t n) {
        const auto y = sim::integrate_rk4(oscillator, pair_of<double>{1, 0}, 0.0, end, n);
        return std::hypot(y[0] - std::cos(end), y[1] + std::sin(end));
    };
    const auto acceleration = [](const double& q) { return -q; };
    const auto verlet_error = [&](std::size_t n) {
        const auto x = sim::integrate_verlet(acceleration, sim::phase_point<double>{1, 0}, 0.0, end, n);
        return std::hypot(x.position - std::cos(end), x.velocity + std::sin(end));
    };
    for (const std::size_t n : {10, 20, 40}) {
        CAPTURE(n);
        CHECK(rk4_error(n) / rk4_error(2 * n) == doctest::Approx(16).epsilon(0.06));
        CHECK(verlet_error(n) / verlet_error(2 * n) == doctest::Approx(4).epsilon(0.03));
    }
}

TEST_CASE("one Dormand-Prince step has local error of order 6 and an error estimate of order 5")
{
    const auto decay = [](double, const double& y) { return -y; };
    const auto local = [&](double h) {
        return std::abs(sim::dormand_prince_step(decay, 0.0, 1.0, h).state - std::exp(-h));
    };
    const auto estimate = [&](double h) { return sim::dormand_prince_step(decay, 0.0, 1.0, h).error; };
    for (const double h : {0.2, 0.1}) {
        CAPTURE(h);
        CHECK(local(h) / local(h / 2) == doctest::Approx(64).epsilon(0.15));
        CHECK(estimate(h) / estimate(h / 2) == doctest::Approx(32).epsilon(0.1));
    }
    // the step hands back f at its end, for the next step's first stage
    const auto step = sim::dormand_prince_step(decay, 0.0, 1.0, 0.1);
    CHECK(step.derivative == -step.state);
}

// ---- the adaptive stepper ------------------------------------------------------------

TEST_CASE("Dormand-Prince meets its tolerance, with fewer steps for looser ones")
{
    std::size_t previous_steps = 0;
    double previous_error = 1;
    for (const double tol : {1e-4, 1e-6, 1e-8, 1e-10}) {
        CAPTURE(tol);
        sim::adaptive_report report;
        const auto y = sim::integrate_dormand_prince(oscillator, pair_of<double>{1, 0}, 0.0, 10.0,
                                                     tolerance(tol, tol), &report);
        const double error = std::hypot(y[0] - std::cos(10.0), y[1] + std::sin(10.0));
        CHECK(error < 10 * tol); // the global error over about 1.6 periods, from local errors of tol
        CHECK(error < previous_error);
        CHECK(report.accepted > previous_steps);
        CHECK(report.evaluations == 1 + 6 * (report.accepted + report.rejected));
        CHECK(report.time == 10.0);
        CHECK(report.last_step > 0);
        previous_steps = report.accepted;
        previous_error = error;
    }
    // a relative tolerance alone, on a solution that decays by e^-20
    sim::adaptive_report report;
    const double y = sim::integrate_dormand_prince([](double, const double& v) { return -v; }, 1.0, 0.0, 20.0,
                                                   tolerance(1e-9, 0), &report);
    CHECK(std::abs(y / std::exp(-20.0) - 1) < 1e-7);
}

TEST_CASE("Dormand-Prince rejects steps that are too large and retries smaller ones")
{
    // a first step of the whole interval misses 1e-10 by far
    sim::adaptive_options options = tolerance(1e-10, 1e-12);
    options.initial_step = 5;
    sim::adaptive_report report;
    const auto y = sim::integrate_dormand_prince(oscillator, pair_of<double>{1, 0}, 0.0, 5.0, options, &report);
    CHECK(report.rejected >= 1);
    CHECK(report.evaluations == 1 + 6 * (report.accepted + report.rejected));
    CHECK(std::abs(y[0] - std::cos(5.0)) < 1e-9);
    CHECK(std::abs(y[1] + std::sin(5.0)) < 1e-9);

    // max_step bounds every step
    options = tolerance(1e-3, 1e-3);
    options.max_step = 0.01;
    const auto bounded = sim::integrate_dormand_prince(oscillator, pair_of<double>{1, 0}, 0.0, 1.0, options, &report);
    CHECK(report.accepted >= 100);
    CHECK(report.last_step <= 0.01);
    CHECK(std::abs(bounded[0] - std::cos(1.0)) < 1e-9);

    // the controller: the factor is safety * error^(-1/5), within its bounds
    const sim::adaptive_options defaults;
    CHECK(sim::next_step_size(0.1, 1.0, defaults) == doctest::Approx(0.09));
    CHECK(sim::next_step_size(0.1, std::pow(0.9 / 2, 5), defaults) == doctest::Approx(0.2));
    CHECK(sim::next_step_size(0.1, 0.0, defaults) == doctest::Approx(0.5));
    CHECK(sim::next_step_size(0.1, 1e9, defaults) == doctest::Approx(0.02));
}

TEST_CASE("rejected Dormand-Prince attempts are rewound off the tape")
{
    etape::tape_scope<double> scope;
    const etape::var<double> k = 2.0, y0 = 1.0;
    const auto decay = [&k](double, const etape::var<double>& y) { return -k * y; }; // one statement a call
    sim::adaptive_options options = tolerance(1e-10, 1e-12);
    options.initial_step = 1;
    sim::adaptive_report report;
    const auto before = scope.get().stats().statements;
    const etape::var<double> y = sim::integrate_dormand_prince(decay, y0, 0.0, 1.0, options, &report);
    CHECK(report.rejected >= 1);
    // f(t0, y0), then per accepted step six calls of f and six combinations
    CHECK(scope.get().stats().statements - before == 1 + 12 * report.accepted);
    const auto [dy0, dk] = etape::gradient(y, y0, k);
    CHECK(y.value() == doctest::Approx(std::exp(-2.0)).epsilon(1e-9));
    CHECK(dy0 == doctest::Approx(std::exp(-2.0)).epsilon(1e-8));
    CHECK(dk == doctest::Approx(-std::exp(-2.0)).epsilon(1e-8));
}

// ---- energy ------------------------------------------------------------------

TEST_CASE("velocity Verlet keeps the oscillator's energy bounded over long runs while Euler's grows")
{
    const auto energy = [](double q, double v) { return (q * q + v * v) / 2; };
    const double e0 = energy(1, 0), h = 0.1;
    const auto acceleration = [](const double& q) { return -q; };
    sim::phase_point<double> x{1, 0};
    pair_of<double> y{1, 0};
    double verlet_early = 0, verlet_late = 0, euler_previous = e0;
    constexpr int chunks = 1000; // of 10 steps each: t = 1000, about 160 periods
    for (int c = 0; c < chunks; ++c) {
        const double t = c;
        x = sim::integrate_verlet(acceleration, x, t, t + 1, 10);
        y = sim::integrate_euler(oscillator, y, t, t + 1, 10);
        double& worst = c < chunks / 10 ? verlet_early : verlet_late; // the first 100 time units, and the rest
        worst = std::max(worst, std::abs(energy(x.position, x.velocity) - e0));
        const double euler_energy = energy(y[0], y[1]);
        CHECK(euler_energy > euler_previous); // each step multiplies it by 1 + h^2
        euler_previous = euler_energy;
    }
    CHECK(verlet_late < h * h * e0); // the shadow energy's O(h^2) oscillation, no growth
    CHECK(verlet_late < 1.5 * verlet_early);
    CHECK(euler_previous / e0 == doctest::Approx(std::pow(1 + h * h, 10000)).epsilon(1e-6));
    CHECK(euler_previous > 1e40 * e0);
}

// ---- the same code on every kind of state ------------------------------------------

TEST_CASE_TEMPLATE("the same stepper code on numbers, vars and active tensors gives the same values", T,
                   ETAPE_TEST_TYPES)
{
    constexpr std::size_t n = 3;
    const std::array<T, n> start{T(1), T(-0.5), T(2)};
    const T rate = T(0.7);
    const auto forcing = [](double t) { return static_cast<T>(std::cos(t)); };
    const double close = std::is_same_v<T, float> ? 1e-5 : 1e-12;

    etape::tape_scope<T> scope;
    const etape::var<T> k = rate;
    const auto on_numbers = [&](double t, const std::array<T, n>& y) {
        std::array<T, n> r;
        for (std::size_t i = 0; i < n; ++i)
            r[i] = forcing(t) - rate * y[i];
        return r;
    };
    const auto on_vars = [&](double t, const std::array<etape::var<T>, n>& y) {
        std::array<etape::var<T>, n> r;
        for (std::size_t i = 0; i < n; ++i)
            r[i] = forcing(t) - k * y[i];
        return r;
    };
    const auto on_tensor = [&](double t, const etape::active_tensor<T>& y) { return forcing(t) - k * y; };
    std::array<etape::var<T>, n> vars0;
    for (std::size_t i = 0; i < n; ++i)
        vars0[i] = start[i];
    const etape::active_tensor<T> tensor0(etape::tensor<T>(etape::shape{n}, std::span<const T>(start)));

    const auto compare = [&](const std::array<T, n>& a, const std::array<etape::var<T>, n>& b,
                             const etape::active_tensor<T>& c) {
        REQUIRE(c.size() == n);
        for (std::size_t i = 0; i < n; ++i) {
            CAPTURE(i);
            CHECK(b[i].value() == doctest::Approx(a[i]).epsilon(close));
            CHECK(c.values()[i] == doctest::Approx(a[i]).epsilon(close));
        }
    };
    SUBCASE("Euler")
    {
        compare(sim::integrate_euler(on_numbers, start, 0.0, 2.0, 50),
                sim::integrate_euler(on_vars, vars0, 0.0, 2.0, 50),
                sim::integrate_euler(on_tensor, tensor0, 0.0, 2.0, 50));
    }
    SUBCASE("RK4")
    {
        compare(sim::integrate_rk4(on_numbers, start, 0.0, 2.0, 20), sim::integrate_rk4(on_vars, vars0, 0.0, 2.0, 20),
                sim::integrate_rk4(on_tensor, tensor0, 0.0, 2.0, 20));
        // and against the solution: y' = cos t - a y
        const auto exact = [&](double y0, double t) {
            const double a = rate, c = (a * std::cos(t) + std::sin(t)) / (a * a + 1);
            return (y0 - a / (a * a + 1)) * std::exp(-a * t) + c;
        };
        const auto y = sim::integrate_rk4(on_numbers, start, 0.0, 2.0, 20);
        for (std::size_t i = 0; i < n; ++i)
            CHECK(y[i] == doctest::Approx(exact(start[i], 2.0)).epsilon(std::is_same_v<T, float> ? 1e-5 : 1e-6));
    }
    SUBCASE("Dormand-Prince")
    {
        const auto options = tolerance(1e-5, 1e-7);
        sim::adaptive_report on_a, on_b, on_c;
        compare(sim::integrate_dormand_prince(on_numbers, start, 0.0, 2.0, options, &on_a),
                sim::integrate_dormand_prince(on_vars, vars0, 0.0, 2.0, options, &on_b),
                sim::integrate_dormand_prince(on_tensor, tensor0, 0.0, 2.0, options, &on_c));
        CHECK(on_a.accepted == on_b.accepted);
        CHECK(on_a.accepted == on_c.accepted);
        CHECK(on_a.rejected == on_c.rejected);
    }
    SUBCASE("velocity Verlet")
    {
        const auto a_numbers = [&](const std::array<T, n>& q) {
            std::array<T, n> r;
            for (std::size_t i = 0; i < n; ++i)
                r[i] = -rate * q[i];
            return r;
        };
        const auto a_vars = [&](const std::array<etape::var<T>, n>& q) {
            std::array<etape::var<T>, n> r;
            for (std::size_t i = 0; i < n; ++i)
                r[i] = -k * q[i];
            return r;
        };
        const auto a_tensor = [&](const etape::active_tensor<T>& q) { return -(k * q); };
        const std::array<T, n> v0{T(0), T(1), T(-1)};
        std::array<etape::var<T>, n> vars_v0;
        for (std::size_t i = 0; i < n; ++i)
            vars_v0[i] = v0[i];
        const etape::active_tensor<T> tensor_v0(etape::tensor<T>(etape::shape{n}, std::span<const T>(v0)));
        const auto a = sim::integrate_verlet(a_numbers, sim::phase_point<std::array<T, n>>{start, v0}, 0.0, 3.0, 30);
        const auto b = sim::integrate_verlet(a_vars, sim::phase_point<std::array<etape::var<T>, n>>{vars0, vars_v0},
                                             0.0, 3.0, 30);
        const auto c = sim::integrate_verlet(a_tensor, sim::phase_point<etape::active_tensor<T>>{tensor0, tensor_v0},
                                             0.0, 3.0, 30);
        compare(a.position, b.position, c.position);
        compare(a.velocity, b.velocity, c.velocity);
    }
    SUBCASE("a single number and a single var")
    {
        const auto decay_number = [&](double t, const T& y) { return forcing(t) - rate * y; };
        const auto decay_var = [&](double t, const etape::var<T>& y) { return forcing(t) - k * y; };
        const etape::var<T> y0 = start[0];
        CHECK(sim::integrate_rk4(decay_var, y0, 0.0, 2.0, 20).value() ==
              doctest::Approx(sim::integrate_rk4(decay_number, start[0], 0.0, 2.0, 20)).epsilon(close));
        CHECK(sim::euler_step(decay_var, 0.5, y0, 0.1).value() ==
              doctest::Approx(sim::euler_step(decay_number, 0.5, start[0], 0.1)).epsilon(close));
    }
}

TEST_CASE_TEMPLATE("each combination of stages records one statement or one fused node", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::var<T> k = T(0.5);
    using counts = std::array<std::size_t, 2>; // statements, nodes
    const auto count = [&] { return counts{scope.get().stats().statements, scope.get().stats().nodes}; };
    const auto grew = [&](const counts& before) {
        const counts now = count();
        return counts{now[0] - before[0], now[1] - before[1]};
    };

    SUBCASE("active tensors: one node a call of f and one a combination, no scalar statement")
    {
        const etape::active_tensor<T> y(etape::tensor<T>(etape::shape{5}, {T(1), T(2), T(3), T(4), T(5)}));
        // -(k * x): a negated scalar, -k * x, would record -k as a statement first
        const auto f = [&](double, const etape::active_tensor<T>& x) { return -(k * x); };
        const auto a = [&](const etape::active_tensor<T>& q) { return -(k * q); };
        auto before = count();
        (void)sim::euler_step(f, 0.0, y, 0.1);
        CHECK(grew(before) == counts{0, 2});
        before = count();
        (void)sim::rk4_step(f, 0.0, y, 0.1);
        CHECK(grew(before) == counts{0, 8});
        const etape::active_tensor<T> dydt = f(0.0, y);
        before = count();
        (void)sim::dormand_prince_step(f, 0.0, y, dydt, 0.1);
        CHECK(grew(before) == counts{0, 12}); // five stage arguments, the result, six calls of f
        before = count();
        (void)sim::verlet_step(a, sim::phase_point<etape::active_tensor<T>>{y, y}, 0.1);
        CHECK(grew(before) == counts{0, 4});
    }
    SUBCASE("vars: one statement a call of f and one a combination")
    {
        const etape::var<T> y = T(1.5);
        const auto f = [&](double, const etape::var<T>& x) { return -k * x; };
        const auto a = [&](const etape::var<T>& q) { return -k * q; };
        auto before = count();
        (void)sim::euler_step(f, 0.0, y, 0.1);
        CHECK(grew(before) == counts{2, 0});
        before = count();
        (void)sim::rk4_step(f, 0.0, y, 0.1);
        CHECK(grew(before) == counts{8, 0});
        before = count();
        (void)sim::dormand_prince_step(f, 0.0, y, 0.1);
        CHECK(grew(before) == counts{13, 0});
        before = count();
        (void)sim::verlet_step(a, sim::phase_point<etape::var<T>>{y, y}, 0.1);
        CHECK(grew(before) == counts{4, 0});
    }
}

// ---- gradients ------------------------------------------------------------------

TEST_CASE_TEMPLATE("gradients through vars with respect to the initial state and a rate", T, ETAPE_TEST_TYPES)
{
    // y' = -k y + sin(y): x = (y0, k)
    const auto run = [](auto method) {
        return [method](auto x) {
            using S = std::remove_cvref_t<decltype(x[0])>;
            const S y0 = x[0], k = x[1];
            const auto f = [&k](double, const S& y) -> S {
                using std::sin;
                return -k * y + sin(y);
            };
            return method(f, y0);
        };
    };
    const std::vector<T> at{T(0.8), T(1.3)};
    check_gradient_at<T>(run([](const auto& f, const auto& y0) { return sim::integrate_euler(f, y0, 0.0, 1.5, 30); }),
                         at);
    check_gradient_at<T>(run([](const auto& f, const auto& y0) { return sim::integrate_rk4(f, y0, 0.0, 1.5, 10); }),
                         at);
    check_gradient_at<T>(run([](const auto& f, const auto& y0) {
                             return dormand_prince_or_reference(f, y0, 0.0, 1.5);
                         }),
                         at);
    // one step, then a second from its derivative (FSAL): with the steps
    // given, a smooth map of the inputs, so the differences are exact
    check_gradient_at<T>(run([](const auto& f, const auto& y0) {
                             const auto first = sim::dormand_prince_step(f, 0.0, y0, 0.3);
                             return sim::dormand_prince_step(f, 0.3, first.state, first.derivative, 0.4).state;
                         }),
                         at);
}

TEST_CASE_TEMPLATE("gradients through a damped oscillator written with std::array", T, ETAPE_TEST_TYPES)
{
    // q'' = -w^2 q - c q': x = (q0, v0, c, w); the loss weighs q and v unequally
    const auto run = [](auto method) {
        return [method](auto x) {
            using S = std::remove_cvref_t<decltype(x[0])>;
            const S c = x[2], w = x[3];
            const auto f = [&](double, const pair_of<S>& y) { return pair_of<S>{y[1], -w * w * y[0] - c * y[1]}; };
            const pair_of<S> y = method(f, pair_of<S>{x[0], x[1]});
            return S(y[0] + 0.5 * y[1]);
        };
    };
    const std::vector<T> at{T(1), T(-0.5), T(0.3), T(1.7)};
    check_gradient_at<T>(run([](const auto& f, const auto& y0) { return sim::integrate_euler(f, y0, 0.0, 3.0, 60); }),
                         at);
    check_gradient_at<T>(run([](const auto& f, const auto& y0) { return sim::integrate_rk4(f, y0, 0.0, 3.0, 30); }),
                         at);
    check_gradient_at<T>(run([](const auto& f, const auto& y0) {
                             return dormand_prince_or_reference(f, y0, 0.0, 3.0);
                         }),
                         at);
    // velocity Verlet, undamped: q'' = -w^2 q
    check_gradient_at<T>(
        [](auto x) {
            using S = std::remove_cvref_t<decltype(x[0])>;
            const S w = x[3];
            const auto a = [&w](const S& q) -> S { return -w * w * q; };
            const auto end = sim::integrate_verlet(a, sim::phase_point<S>{x[0], x[1]}, 0.0, 3.0, 40);
            return S(end.position + 0.5 * end.velocity + x[2]);
        },
        at);
}

TEST_CASE_TEMPLATE("gradients through Lotka-Volterra with respect to all four rates", T, ETAPE_TEST_TYPES)
{
    // prey' = a prey - b prey predator, predator' = d prey predator - g predator
    const auto run = [](auto x) {
        using S = std::remove_cvref_t<decltype(x[0])>;
        const S a = x[2], b = x[3], g = x[4], d = x[5];
        const auto f = [&](double, const pair_of<S>& y) {
            return pair_of<S>{a * y[0] - b * y[0] * y[1], d * y[0] * y[1] - g * y[1]};
        };
        const pair_of<S> y = dormand_prince_or_reference(f, pair_of<S>{x[0], x[1]}, 0.0, 4.0);
        return S(y[0] + 2 * y[1]);
    };
    check_gradient_at<T>(run, {T(10), T(5), T(1.1), T(0.4), T(0.4), T(0.1)});
}

TEST_CASE_TEMPLATE("gradients through active tensors with respect to the initial tensor and a rate", T,
                   ETAPE_TEST_TYPES)
{
    constexpr std::size_t n = 4;
    const std::array<T, n> start{T(0.5), T(-1.25), T(2), T(0.125)};
    const std::array<T, n> weights{T(1), T(-0.5), T(0.25), T(2)};
    const T rate = T(0.8);
    const auto forcing = [](double t) { return static_cast<T>(0.25 * std::cos(t)); };

    const auto check_method = [&](auto method) {
        etape::tape_scope<T> scope;
        const etape::active_tensor<T> y0(etape::tensor<T>(etape::shape{n}, std::span<const T>(start)));
        const etape::var<T> k = rate;
        const auto f = [&](double t, const etape::active_tensor<T>& y) {
            return T(0.5) * etape::sin(y) + forcing(t) - k * y;
        };
        const etape::active_tensor<T> y1 = method(f, y0);
        const etape::var<T> loss = etape::sum(y1 * etape::tensor<T>(etape::shape{n}, std::span<const T>(weights)));
        const auto [gy0, gk] = etape::gradient(loss, y0, k);
        std::vector<T> reverse(gy0.values().begin(), gy0.values().end());
        reverse.push_back(gk);

        // the same system on long double numbers: x = (y0..., k)
        const auto on_numbers = [&](std::span<const long double> x) {
            std::array<long double, n> y;
            std::copy(x.begin(), x.begin() + n, y.begin());
            const long double kk = x[n];
            const auto g = [&](double t, const std::array<long double, n>& v) {
                std::array<long double, n> r;
                for (std::size_t i = 0; i < n; ++i)
                    r[i] = -kk * v[i] + 0.5L * std::sin(v[i]) + static_cast<long double>(forcing(t));
                return r;
            };
            const std::array<long double, n> end = method(g, y);
            long double s = 0;
            for (std::size_t i = 0; i < n; ++i)
                s += static_cast<long double>(weights[i]) * end[i];
            return s;
        };
        std::vector<T> at(start.begin(), start.end());
        at.push_back(rate);
        const auto options = etape::gradient_check_options::for_type<T>();
        const auto fd = etape::finite_difference_gradient(on_numbers, std::span<const T>(at), options);
        const auto report =
            etape::compare_gradients(std::span<const T>(reverse), std::span<const long double>(fd), options);
        INFO(fmt::format("{}", report));
        CHECK(report.passed);
    };
    check_method([](const auto& f, const auto& y0) { return sim::integrate_euler(f, y0, 0.0, 2.0, 40); });
    check_method([](const auto& f, const auto& y0) { return sim::integrate_rk4(f, y0, 0.0, 2.0, 20); });
    check_method([](const auto& f, const auto& y0) {
        return dormand_prince_or_reference(f, y0, 0.0, 2.0);
    });
    check_method([](const auto& f, const auto& y0) {
        const auto first = sim::dormand_prince_step(f, 0.0, y0, 0.5);
        return sim::dormand_prince_step(f, 0.5, first.state, first.derivative, 0.5).state;
    });
}

// ---- bad input ------------------------------------------------------------------

TEST_CASE("a step size that is zero, negative, infinite or NaN is rejected, naming it")
{
    const auto decay = [](double, const double& y) { return -y; };
    const auto acceleration = [](const double& q) { return -q; };
    const sim::phase_point<double> x{1, 0};
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    const std::vector<std::pair<double, std::string>> bad{{0.0, "got 0"}, {-0.5, "got -0.5"}, {nan, "got nan"},
                                                          {inf, "got inf"}};
    for (const auto& [step, text] : bad) {
        const double h = step; // a copy: lambdas capture no structured binding before clang 16
        CAPTURE(h);
        CHECK(contains(message_of<sim::invalid_step_error>([&] { (void)sim::euler_step(decay, 0.0, 1.0, h); }), text));
        CHECK(contains(message_of<sim::invalid_step_error>([&] { (void)sim::rk4_step(decay, 0.0, 1.0, h); }), text));
        CHECK(contains(message_of<sim::invalid_step_error>([&] { (void)sim::dormand_prince_step(decay, 0.0, 1.0, h); }),
                       text));
        CHECK(contains(message_of<sim::invalid_step_error>([&] { (void)sim::verlet_step(acceleration, x, h); }), text));
    }
    const std::string message =
        message_of<sim::invalid_step_error>([&] { (void)sim::euler_step(decay, 0.0, 1.0, -0.5); });
    CHECK(contains(message, "etape::sim::euler_step"));
    CHECK(contains(message, "step size"));
    // the error is a std::invalid_argument
    CHECK_THROWS_AS((void)sim::rk4_step(decay, 0.0, 1.0, 0.0), std::invalid_argument);
    // no steps at all
    CHECK(contains(message_of<sim::invalid_step_error>([&] { (void)sim::integrate_euler(decay, 1.0, 0.0, 1.0, 0); }),
                   "number of steps"));
    CHECK_THROWS_AS((void)sim::integrate_rk4(decay, 1.0, 0.0, 1.0, 0), sim::invalid_step_error);
    CHECK_THROWS_AS((void)sim::integrate_verlet(acceleration, x, 0.0, 1.0, 0), sim::invalid_step_error);
}

TEST_CASE("an end time before the start time is rejected, naming both")
{
    const auto decay = [](double, const double& y) { return -y; };
    const auto acceleration = [](const double& q) { return -q; };
    const sim::phase_point<double> x{1, 0};
    const auto check_interval = [](auto run) {
        const std::string message = message_of<sim::invalid_interval_error>(run);
        CHECK(contains(message, "end time 0.5"));
        CHECK(contains(message, "start time 2"));
    };
    check_interval([&] { (void)sim::integrate_euler(decay, 1.0, 2.0, 0.5, 10); });
    check_interval([&] { (void)sim::integrate_rk4(decay, 1.0, 2.0, 0.5, 10); });
    check_interval([&] { (void)sim::integrate_dormand_prince(decay, 1.0, 2.0, 0.5); });
    check_interval([&] { (void)sim::integrate_verlet(acceleration, x, 2.0, 0.5, 10); });
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK(contains(message_of<sim::invalid_interval_error>([&] { (void)sim::integrate_rk4(decay, 1.0, 0.0, nan, 4); }),
                   "finite"));
    // an empty interval is no error: nothing to integrate
    CHECK(sim::integrate_euler(decay, 1.5, 1.0, 1.0, 10) == 1.5);
    CHECK(sim::integrate_dormand_prince(decay, 1.5, 1.0, 1.0) == 1.5);
    CHECK(sim::integrate_verlet(acceleration, x, 1.0, 1.0, 3).position == 1.0);
}

TEST_CASE("a NaN or an infinity in the state stops the adaptive stepper, naming the time")
{
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    const auto decay = [](double, const pair_of<double>& y) { return pair_of<double>{-y[0], -y[1]}; };
    std::string message = message_of<sim::non_finite_state_error>(
        [&] { (void)sim::integrate_dormand_prince(decay, pair_of<double>{1, nan}, 0.0, 1.0); });
    CHECK(contains(message, "element 1 of the initial state is nan at t = 0"));

    // f turns the state into infinities past t = 0.5
    const auto breaks = [&](double t, const pair_of<double>& y) {
        return pair_of<double>{-y[0], t > 0.5 ? inf : -y[1]};
    };
    sim::adaptive_report report;
    message = message_of<sim::non_finite_state_error>(
        [&] { (void)sim::integrate_dormand_prince(breaks, pair_of<double>{1, 1}, 0.0, 1.0, {}, &report); });
    CHECK(contains(message, "etape::sim::integrate_dormand_prince"));
    CHECK(contains(message, "element 1 of the state is ")); // inf, or nan where infinities met
    CHECK(contains(message, "from t = " + etape::detail::number_text(report.time)));
    CHECK(report.time <= 0.5);
    CHECK(report.time > 0);

    // a NaN derivative at the end of the first attempt, the state itself
    // finite: f's 7th call (the initial one, then k2 to k7)
    int calls = 0;
    const auto ends_badly = [&](double, const double& y) { return ++calls == 7 ? nan : -y; };
    message = message_of<sim::non_finite_state_error>(
        [&] { (void)sim::integrate_dormand_prince(ends_badly, 1.0, 0.0, 1.0, {}, &report); });
    CHECK(contains(message, "the error estimate is nan"));
    CHECK(contains(message, "from t = 0)"));
    CHECK(report.time == 0);

    // and the same from the single step
    CHECK_THROWS_AS((void)sim::dormand_prince_step(breaks, 0.6, pair_of<double>{1, 1}, 0.1),
                    sim::non_finite_state_error);
}

TEST_CASE("an adaptive stepper that cannot meet its tolerance says where it stopped and with what step")
{
    // y' = y^2 from 1 blows up at t = 1: the steps shrink towards it
    const auto blows_up = [](double, const double& y) { return y * y; };
    sim::adaptive_report report;
    std::string message = message_of<sim::tolerance_error>(
        [&] { (void)sim::integrate_dormand_prince(blows_up, 1.0, 0.0, 2.0, tolerance(1e-8, 1e-8), &report); });
    CHECK(report.time == doctest::Approx(1).epsilon(1e-6)); // the numerical solution's pole
    CHECK(contains(message, "cannot meet the tolerance (relative 1e-08, absolute 1e-08)"));
    CHECK(contains(message, "at t = " + etape::detail::number_text(report.time) + " of [0, 2]"));
    CHECK(contains(message, "fell below the minimum"));
    CHECK(contains(message, "step size " + etape::detail::number_text(report.next_step)));

    // a minimum of the user's
    sim::adaptive_options options = tolerance(1e-8, 1e-8);
    options.min_step = 1e-3;
    message = message_of<sim::tolerance_error>(
        [&] { (void)sim::integrate_dormand_prince(blows_up, 1.0, 0.0, 2.0, options, &report); });
    CHECK(contains(message, "below the minimum 0.001"));
    CHECK(report.time < 1.0);

    // too few attempts allowed
    options = tolerance(1e-8, 1e-8);
    options.max_steps = 5;
    message = message_of<sim::tolerance_error>(
        [&] { (void)sim::integrate_dormand_prince(oscillator, pair_of<double>{1, 0}, 0.0, 100.0, options, &report); });
    CHECK(report.accepted + report.rejected == 5);
    CHECK(contains(message, "max_steps (5)"));
    CHECK(contains(message, "at t = " + etape::detail::number_text(report.time)));
    CHECK(contains(message, "step size " + etape::detail::number_text(report.next_step)));
}

// the errors are std exceptions: bad arguments are std::invalid_argument,
// failures of the integration std::runtime_error
static_assert(std::is_base_of_v<std::invalid_argument, sim::invalid_step_error>);
static_assert(std::is_base_of_v<std::invalid_argument, sim::invalid_interval_error>);
static_assert(std::is_base_of_v<std::invalid_argument, sim::invalid_options_error>);
static_assert(std::is_base_of_v<std::invalid_argument, sim::state_size_error>);
static_assert(std::is_base_of_v<std::runtime_error, sim::non_finite_state_error>);
static_assert(std::is_base_of_v<std::runtime_error, sim::tolerance_error>);

TEST_CASE("adaptive options out of range are rejected, naming the option")
{
    const auto decay = [](double, const double& y) { return -y; };
    const auto rejects = [&](auto change, const std::string& text) {
        sim::adaptive_options o;
        change(o);
        CAPTURE(text);
        const auto run = [&] { (void)sim::integrate_dormand_prince(decay, 1.0, 0.0, 1.0, o); };
        CHECK(contains(message_of<sim::invalid_options_error>(run), text));
        CHECK_THROWS_AS((void)sim::dormand_prince_step(decay, 0.0, 1.0, 0.1, o), sim::invalid_options_error);
    };
    rejects([](auto& o) { o.relative_tolerance = -1; }, "relative_tolerance must be >= 0 and finite, got -1");
    rejects([](auto& o) { o.absolute_tolerance = std::numeric_limits<double>::quiet_NaN(); }, "absolute_tolerance");
    rejects([](auto& o) { o.relative_tolerance = o.absolute_tolerance = 0; }, "both 0");
    rejects([](auto& o) { o.initial_step = -1; }, "initial_step");
    rejects([](auto& o) { o.min_step = -1; }, "min_step");
    rejects([](auto& o) { o.max_step = 0; }, "max_step");
    rejects(
        [](auto& o) {
            o.min_step = 2;
            o.max_step = 1;
        }, "max_step must be positive and at least min_step, got 1");
    rejects([](auto& o) { o.safety = 1.5; }, "safety must be in (0, 1], got 1.5");
    rejects([](auto& o) { o.min_factor = 0; }, "min_factor");
    rejects([](auto& o) { o.max_factor = 0.5; }, "max_factor");
    rejects([](auto& o) { o.max_steps = 0; }, "max_steps");
}

TEST_CASE("a derivative with another number of elements than the state is rejected")
{
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> y(etape::tensor<double>(etape::shape{3}, {1.0, 2.0, 3.0}));
    // a rank-0 tensor as a rank-0 tensor would broadcast over y without a word
    const auto scalar = [&](double, const etape::active_tensor<double>&) {
        return etape::active_tensor<double>(etape::tensor<double>(etape::shape{}, {0.5}));
    };
    const std::string message = message_of<sim::state_size_error>([&] { (void)sim::rk4_step(scalar, 0.0, y, 0.1); });
    CHECK(contains(message, "etape::sim::rk4_step: the derivative has 1 element for a state of 3"));
    CHECK_THROWS_AS((void)sim::integrate_dormand_prince(scalar, y, 0.0, 1.0), sim::state_size_error);
    const auto acceleration = [&](const etape::active_tensor<double>& q) {
        return etape::active_tensor<double>(etape::tensor<double>(etape::shape{2}, {-q.values()[0], 0.0}));
    };
    CHECK_THROWS_AS((void)sim::verlet_step(acceleration, sim::phase_point<etape::active_tensor<double>>{y, y}, 0.1),
                    sim::state_size_error);
}
