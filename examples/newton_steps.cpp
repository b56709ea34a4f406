// Newton's method with exact Hessians from etape::sim::gradient_and_hessian
// (reverse over forward, sim/hessian.hpp): an L2-penalised logistic
// regression on ELU features of 2-D points, five weights, fitted from w = 0.
// The objective is written once as a template over its scalar; the Hessian
// is checked at every step against the analytic one,
//     H = sum_k p_k (1 - p_k) phi_k phi_k^T + lambda I,   p_k = sigmoid(w . phi_k),
// and the program exits with status 1 unless the gradient norm falls below
// the tolerance within the allowed steps and every Hessian matches.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include <etape/scalar.hpp>
#include <etape/sim/hessian.hpp>
#include <fmt/format.h>

namespace {

constexpr std::size_t points = 60, weights = 5, max_steps = 12;
constexpr double lambda = 0.1;
constexpr double tolerance = 1e-10; // on the gradient's norm; the objective is about 20

/// The data: 2-D points, their features phi = (1, elu(u), elu(v), elu(u - v),
/// elu(u v)) and labels drawn from a logistic model with known weights.
struct logistic_problem {
    std::vector<std::vector<double>> features;
    std::vector<double> labels;

    /// The penalised negative log-likelihood,
    /// sum_k softplus(z_k) - y_k z_k + lambda/2 |w|^2 with z_k = w . phi_k,
    /// for S = double, var<double> or dual<var<double>> alike.
    template <class S>
    S objective(std::span<const S> w) const
    {
        S total = 0;
        for (const S& wj : w)
            total += 0.5 * lambda * wj * wj;
        for (std::size_t k = 0; k < features.size(); ++k) {
            S z = w[0] * features[k][0];
            for (std::size_t j = 1; j < weights; ++j)
                z += w[j] * features[k][j];
            total += etape::softplus(z) - labels[k] * z;
        }
        return total;
    }

    /// The Hessian by hand, to check etape's against.
    [[nodiscard]] std::vector<double> analytic_hessian(std::span<const double> w) const
    {
        std::vector<double> h(weights * weights, 0.0);
        for (std::size_t i = 0; i < weights; ++i)
            h[i * weights + i] = lambda;
        for (const auto& phi : features) {
            double z = 0;
            for (std::size_t j = 0; j < weights; ++j)
                z += w[j] * phi[j];
            const double p = etape::sigmoid(z);
            for (std::size_t i = 0; i < weights; ++i)
                for (std::size_t j = 0; j < weights; ++j)
                    h[i * weights + j] += p * (1 - p) * phi[i] * phi[j];
        }
        return h;
    }
};

logistic_problem make_problem()
{
    // minstd_rand's raw outputs are fixed by the standard, so the data (and
    // the printed run) are the same everywhere
    std::minstd_rand random(2024);
    const auto uniform = [&] { return static_cast<double>(random() - 1) / 2147483646.0 * 2 - 1; };
    const std::vector<double> true_weights{0.3, 1.5, -2.0, 1.0, 0.5};
    logistic_problem problem;
    for (std::size_t k = 0; k < points; ++k) {
        const double u = 2 * uniform(), v = 2 * uniform();
        std::vector<double> phi{1, etape::elu(u), etape::elu(v), etape::elu(u - v), etape::elu(u * v)};
        double z = 0;
        for (std::size_t j = 0; j < weights; ++j)
            z += true_weights[j] * phi[j];
        // a label is 1 with probability sigmoid(z)
        problem.labels.push_back((uniform() + 1) / 2 < etape::sigmoid(z) ? 1.0 : 0.0);
        problem.features.push_back(std::move(phi));
    }
    return problem;
}

/// Solves H p = b by Cholesky, H = L L^T, reading H's lower triangle; false
/// when H is not positive definite.
bool solve_positive_definite(const etape::tensor<double>& h, std::span<const double> b, std::span<double> p)
{
    const std::size_t n = b.size();
    std::vector<double> l(n * n, 0.0);
    for (std::size_t j = 0; j < n; ++j) {
        double diagonal = h(j, j);
        for (std::size_t k = 0; k < j; ++k)
            diagonal -= l[j * n + k] * l[j * n + k];
        if (!(diagonal > 0))
            return false;
        l[j * n + j] = std::sqrt(diagonal);
        for (std::size_t i = j + 1; i < n; ++i) {
            double s = h(i, j);
            for (std::size_t k = 0; k < j; ++k)
                s -= l[i * n + k] * l[j * n + k];
            l[i * n + j] = s / l[j * n + j];
        }
    }
    for (std::size_t i = 0; i < n; ++i) { // L y = b
        double s = b[i];
        for (std::size_t k = 0; k < i; ++k)
            s -= l[i * n + k] * p[k];
        p[i] = s / l[i * n + i];
    }
    for (std::size_t i = n; i-- > 0;) { // L^T p = y
        double s = p[i];
        for (std::size_t k = i + 1; k < n; ++k)
            s -= l[k * n + i] * p[k];
        p[i] = s / l[i * n + i];
    }
    return true;
}

double norm(std::span<const double> x)
{
    double s = 0;
    for (const double xi : x)
        s += xi * xi;
    return std::sqrt(s);
}

} // namespace

int main()
{
    const logistic_problem problem = make_problem();
    const auto objective = [&](auto w) { return problem.objective(w); };

    fmt::print("Fitting a logistic regression with {} weights (a bias and four ELU features) to {} points,\n"
               "penalised by {}/2 |w|^2, by Newton steps from w = 0. Each step solves H p = -g with the exact\n"
               "Hessian H from etape::sim::gradient_and_hessian ({} Hessian-vector products).\n\n",
               weights, points, lambda, weights);
    fmt::print("step   objective             |gradient|   |gradient| / (previous |gradient|)^2\n");

    std::vector<double> w(weights, 0.0), step(weights), minus_gradient(weights);
    double previous_norm = 0, worst_hessian_error = 0, last_ratio = 0;
    std::size_t steps = 0;
    bool converged = false;
    for (;; ++steps) {
        const auto r = etape::sim::gradient_and_hessian(objective, w);
        const double gradient_norm = norm(r.gradient);

        const std::vector<double> want = problem.analytic_hessian(w);
        const double scale = std::ranges::max(want, {}, [](double x) { return std::fabs(x); });
        for (std::size_t i = 0; i < weights; ++i)
            for (std::size_t j = 0; j < weights; ++j)
                worst_hessian_error =
                    std::max(worst_hessian_error, std::fabs(r.hessian(i, j) - want[i * weights + j]) / scale);

        if (steps == 0) {
            fmt::print("{:4}   {:.15f}   {:.3e}\n", steps, r.value, gradient_norm);
        } else {
            last_ratio = gradient_norm / (previous_norm * previous_norm);
            fmt::print("{:4}   {:.15f}   {:.3e}    {:.3f}\n", steps, r.value, gradient_norm, last_ratio);
        }
        previous_norm = gradient_norm;
        if (gradient_norm < tolerance) {
            converged = true;
            break;
        }
        if (steps == max_steps)
            break;
        for (std::size_t i = 0; i < weights; ++i)
            minus_gradient[i] = -r.gradient[i];
        if (!solve_positive_definite(r.hessian, minus_gradient, step)) {
            fmt::print("\nThe Hessian is not positive definite at step {}; Newton's method stops.\n", steps);
            return 1;
        }
        for (std::size_t i = 0; i < weights; ++i)
            w[i] += step[i];
    }

    fmt::print("\nFitted weights: {:.6f}, {:.6f}, {:.6f}, {:.6f}, {:.6f}.\n", w[0], w[1], w[2], w[3], w[4]);
    fmt::print("At every step etape's Hessian matched the analytic one to {:.1e} of its largest entry.\n",
               worst_hessian_error);
    const bool hessians_match = worst_hessian_error < 1e-13;
    if (!hessians_match)
        fmt::print("That is more than the 1e-13 allowed: the Hessians disagree.\n");
    if (!converged) {
        fmt::print("Newton's method did not bring the gradient norm below {:.0e} in {} steps.\n", tolerance,
                   max_steps);
        return 1;
    }
    fmt::print("The gradient norm fell below {:.0e} after {} Newton steps. Near the minimum each gradient norm\n"
               "is a bounded multiple (last: {:.3f}) of the square of the one before, so the number of correct\n"
               "digits doubles with every step: the quadratic convergence that needs the exact Hessian.\n",
               tolerance, steps, last_ratio);
    return hessians_match ? 0 : 1;
}
