// An implicit heat-equation step whose linear solve has a hand-written
// adjoint. Backward Euler for u_t = u_xx on n interior points (zero at both
// ends) solves (I + r T) u_next = u each step, T = tridiag(-1, 2, -1) and r
// the diffusion number. The solve runs as plain code (the Thomas algorithm)
// and is recorded as one external node; its reverse is the transposed solve:
//     u_bar += A^-T next_bar                      (A = I + r T is symmetric)
//     r_bar -= (A^-T next_bar) . (T u_next)        (d/dr of A^-1 u)
// The same steps taped statement by statement give the reference gradient.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <span>
#include <vector>

#include <etape/etape.hpp>
#include <etape/sim/external_function.hpp>
#include <fmt/format.h>

namespace {

constexpr std::size_t points = 64, steps = 50;

/// Solves (I + r T) x = b by the Thomas algorithm, on any scalar (double,
/// or var for the taped reference).
template <class S, class R>
std::vector<S> solve(const R& r, std::span<const S> b)
{
    const std::size_t n = b.size();
    std::vector<S> upper(n), x(n);
    const R diagonal = 1.0 + 2.0 * r;
    S pivot = diagonal;
    upper[0] = -r / pivot;
    x[0] = b[0] / pivot;
    for (std::size_t i = 1; i < n; ++i) {
        pivot = diagonal + r * upper[i - 1];
        upper[i] = -r / pivot;
        x[i] = (b[i] + r * x[i - 1]) / pivot;
    }
    for (std::size_t i = n - 1; i-- > 0;)
        x[i] = x[i] - upper[i] * x[i + 1];
    return x;
}

/// One implicit step as an external function of u and r.
etape::active_tensor<double> implicit_step(const etape::active_tensor<double>& u, const etape::var<double>& r)
{
    const double rv = r.value();
    const std::vector<double> next = solve(rv, u.values());
    return etape::sim::external<double>(
        "implicit heat step", {u, r}, etape::tensor<double>({points}, next),
        [rv, next](const etape::sim::external_adjoints<double>& a) {
            const std::vector<double> lambda = solve(rv, a.output()); // A^T lambda = next_bar, A symmetric
            double r_bar = 0;
            for (std::size_t i = 0; i < points; ++i) {
                a.input(0)[i] += lambda[i];
                const double left = i > 0 ? next[i - 1] : 0.0, right = i + 1 < points ? next[i + 1] : 0.0;
                r_bar -= lambda[i] * (2 * next[i] - left - right); // (T next)_i
            }
            a.input(1)[0] += r_bar;
        });
}

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

int main()
{
    std::vector<double> u0(points);
    for (std::size_t i = 0; i < points; ++i)
        u0[i] = std::sin(3.14159265358979 * static_cast<double>(i + 1) / (points + 1)) +
                0.3 * std::sin(5 * 3.14159265358979 * static_cast<double>(i + 1) / (points + 1));
    const double r0 = 2.5; // implicit: stable for any r

    etape::tape_scope<double> scope;
    const auto external_start = std::chrono::steady_clock::now();
    const etape::var<double> r = r0;
    const etape::active_tensor<double> initial(etape::tensor<double>({points}, u0));
    etape::active_tensor<double> u = initial;
    for (std::size_t s = 0; s < steps; ++s)
        u = implicit_step(u, r);
    const etape::var<double> loss = etape::sum(u * u);
    const auto [du0, dr] = etape::gradient(loss, initial, r);
    const double external_seconds = seconds_since(external_start);
    const std::size_t external_nodes = scope.get().stats().nodes;

    etape::tape_scope<double> taped_scope;
    const auto taped_start = std::chrono::steady_clock::now();
    const etape::var<double> rt = r0;
    std::vector<etape::var<double>> ut(u0.begin(), u0.end());
    const std::vector<etape::var<double>> initial_t = ut;
    for (std::size_t s = 0; s < steps; ++s)
        ut = solve(rt, std::span<const etape::var<double>>(ut));
    etape::var<double> loss_t = 0.0;
    for (const auto& v : ut)
        loss_t += v * v;
    std::vector<etape::var<double>> wrt = initial_t;
    wrt.push_back(rt);
    std::vector<double> reference(points + 1);
    etape::gradient_into(loss_t, std::span<const etape::var<double>>(wrt), std::span<double>(reference));
    const double taped_seconds = seconds_since(taped_start);
    const std::size_t taped_statements = taped_scope.get().stats().statements;

    double worst = std::abs(dr - reference[points]) / std::abs(reference[points]);
    double largest = 0;
    for (std::size_t i = 0; i < points; ++i)
        largest = std::max(largest, std::abs(reference[i]));
    for (std::size_t i = 0; i < points; ++i)
        worst = std::max(worst, std::abs(du0.values()[i] - reference[i]) / largest);
    fmt::print("{} backward-Euler steps of {} points, diffusion number r = {}: loss {:.10f} (taped {:.10f}).\n", steps,
               points, r0, loss.value(), loss_t.value());
    fmt::print("d loss / d r: {:.12e} with the hand-written adjoint, {:.12e} taped.\n", dr, reference[points]);
    fmt::print("d loss / d u0[10]: {:.12e} and {:.12e}.\n", du0.values()[10], reference[10]);
    fmt::print("External solve: {} nodes, {:.2f} ms; taped solve: {} statements, {:.2f} ms.\n", external_nodes,
               1e3 * external_seconds, taped_statements, 1e3 * taped_seconds);
    const double bound = 1e-10;
    if (!(worst <= bound)) {
        fmt::print("The hand-written adjoint does NOT match the taped solve: {:.2e} > {}.\n", worst, bound);
        return 1;
    }
    fmt::print("The hand-written adjoint matches the taped solve within {:.1e} (bound {}).\n", worst, bound);
    return 0;
}
