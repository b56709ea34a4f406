// Parameter estimation: the stiffness k and damping c of a damped oscillator
//     x'' + c x' + k x = 0,   x(0) = 1, x'(0) = 0
// from 50 noisy observations of x over 10 seconds. The model is integrated
// by RK4 on a state of two vars, std::array<var<double>, 2> = {x, v}; the
// same stepper code runs on doubles to make the synthetic data. Each
// iteration records the whole trajectory, takes the gradient of the mean
// squared misfit with respect to k and c, and moves them (Adam); the
// program fails if the estimates are not within the stated tolerance.
#include <array>
#include <cmath>
#include <cstdio>
#include <vector>

#include <etape/scalar.hpp>
#include <etape/sim/steppers.hpp>
#include <fmt/format.h>

namespace {

constexpr double true_k = 4.0, true_c = 0.3;
constexpr std::size_t observations = 50, substeps = 20; // RK4 steps between observations
constexpr double duration = 10.0, noise = 0.01;
constexpr double tolerance = 0.02; // relative error of each estimate

/// x(t_j), j = 1..observations, for stiffness k and damping c (numbers or vars).
template <class S>
std::vector<S> trajectory(const S& k, const S& c)
{
    using state = std::array<S, 2>;
    const auto rhs = [&](double, const state& y) { return state{y[1], -(k * y[0]) - c * y[1]}; };
    state y{S(1.0), S(0.0)};
    std::vector<S> xs;
    const double dt = duration / observations;
    for (std::size_t j = 0; j < observations; ++j) {
        y = etape::sim::integrate_rk4(rhs, y, static_cast<double>(j) * dt, static_cast<double>(j + 1) * dt, substeps);
        xs.push_back(y[0]);
    }
    return xs;
}

} // namespace

int main()
{
    // Synthetic data: the true trajectory plus fixed, portable noise.
    std::vector<double> data = trajectory(true_k, true_c);
    unsigned seed = 2024;
    for (double& x : data) {
        seed = seed * 1103515245U + 12345U;
        x += noise * std::sqrt(12.0) * (static_cast<double>((seed >> 8) & 0xffffU) / 65536.0 - 0.5);
    }

    etape::tape_scope<double> scope;
    std::array<double, 2> theta{3.0, 0.1}; // the first guesses of k and c
    std::array<double, 2> mean{}, square{};
    const double rate = 0.05, beta1 = 0.9, beta2 = 0.999;
    fmt::print("Fitting k and c of x'' + c x' + k x = 0 to {} noisy observations (true k = {}, c = {}).\n",
               observations, true_k, true_c);
    fmt::print("{:>9} {:>12} {:>10} {:>10}\n", "iteration", "misfit", "k", "c");
    const auto start = scope.get().position();
    for (int iteration = 1; iteration <= 400; ++iteration) {
        const etape::var<double> k = theta[0], c = theta[1];
        const std::vector<etape::var<double>> xs = trajectory(k, c);
        etape::var<double> misfit = 0.0;
        for (std::size_t j = 0; j < observations; ++j)
            misfit += (xs[j] - data[j]) * (xs[j] - data[j]);
        misfit = misfit / static_cast<double>(observations);
        const auto [dk, dc] = etape::gradient(misfit, k, c);
        const std::array<double, 2> g{dk, dc};
        for (std::size_t p = 0; p < 2; ++p) { // Adam
            mean[p] = beta1 * mean[p] + (1 - beta1) * g[p];
            square[p] = beta2 * square[p] + (1 - beta2) * g[p] * g[p];
            const double m = mean[p] / (1 - std::pow(beta1, iteration));
            const double s = square[p] / (1 - std::pow(beta2, iteration));
            theta[p] -= rate * m / (std::sqrt(s) + 1e-12);
        }
        if (iteration % 50 == 0 || iteration == 1)
            fmt::print("{:>9} {:>12.4e} {:>10.5f} {:>10.5f}\n", iteration, misfit.value(), theta[0], theta[1]);
        scope.get().rewind(start);
    }
    const double k_error = std::abs(theta[0] - true_k) / true_k, c_error = std::abs(theta[1] - true_c) / true_c;
    if (!(k_error <= tolerance && c_error <= tolerance)) {
        fmt::print("NOT recovered: k = {:.5f} ({:.2f} % off), c = {:.5f} ({:.2f} % off), tolerance {} %.\n", theta[0],
                   100 * k_error, theta[1], 100 * c_error, 100 * tolerance);
        return 1;
    }
    fmt::print("Recovered k = {:.5f} ({:.2f} % off) and c = {:.5f} ({:.2f} % off), within {} % of the truth.\n",
               theta[0],
               100 * k_error, theta[1], 100 * c_error, 100 * tolerance);
    return 0;
}
