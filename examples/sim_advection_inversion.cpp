// Initial-state inversion for 1-D advection: where was the tracer at the
// start, given a noisy snapshot 2,000 steps later? The model is the
// Lax-Wendroff scheme on a periodic domain, written as a stencil of
// periodic shifts (one tape node per step); the gradient of the misfit
// with respect to the initial state comes from binomial checkpointing,
// which keeps 30 states instead of the 2,000 steps' recording. Gradient
// descent on misfit + smoothness recovers the initial state; the program
// says how close it came and fails if it is not within the stated bound.
#include <cmath>
#include <cstdio>
#include <vector>

#include <etape/etape.hpp>
#include <etape/sim/checkpointed.hpp>
#include <fmt/format.h>

namespace {

constexpr std::size_t points = 200;
constexpr std::size_t steps = 2000;
constexpr double courant = 0.5;
constexpr double noise = 0.01;       // of the observations
// The scheme damps short waves, so the noise's short waves in the data
// would be fitted by large short waves in u0: the regulariser keeps them out.
constexpr double smoothness = 0.3;   // weight of the regulariser 0.5 |D u0|^2
constexpr double tolerance = 0.01;   // the RMS error the inversion must reach

using etape::active_tensor;

/// One Lax-Wendroff step; roll(u, -1) reads u[i+1] and roll(u, 1) u[i-1].
active_tensor<double> step(const active_tensor<double>& u)
{
    const auto right = etape::roll(u, -1), left = etape::roll(u, 1);
    return u - 0.5 * courant * (right - left) + 0.5 * courant * courant * (right - 2.0 * u + left);
}

double rms(const std::vector<double>& a, const std::vector<double>& b)
{
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        s += (a[i] - b[i]) * (a[i] - b[i]);
    return std::sqrt(s / static_cast<double>(a.size()));
}

} // namespace

int main()
{
    etape::tape_scope<double> scope;

    // The truth: two bumps. The observation: the state after `steps` steps, plus noise.
    std::vector<double> truth(points);
    for (std::size_t i = 0; i < points; ++i) {
        const double x = static_cast<double>(i) / points;
        truth[i] = std::exp(-200 * (x - 0.3) * (x - 0.3)) + 0.5 * std::exp(-400 * (x - 0.7) * (x - 0.7));
    }
    etape::tensor<double> observed({points});
    std::size_t full_recording = 0;
    {
        const auto start = scope.get().position();
        active_tensor<double> u(etape::tensor<double>({points}, truth));
        for (std::size_t k = 0; k < steps; ++k)
            u = step(u);
        full_recording = scope.get().stats().bytes; // what taping every step would hold
        unsigned seed = 12345;
        for (std::size_t i = 0; i < points; ++i) {
            seed = seed * 1103515245U + 12345U; // a fixed, portable noise: uniform, scaled to std `noise`
            const double uniform = static_cast<double>((seed >> 8) & 0xffffU) / 65536.0 - 0.5;
            observed.data()[i] = u.values()[i] + noise * std::sqrt(12.0) * uniform;
        }
        scope.get().rewind(start);
    }

    // Gradient descent on 0.5 |u_N(u0) - observed|^2 + 0.5 smoothness |D u0|^2, from u0 = 0.
    const auto misfit = [&](const active_tensor<double>& u) {
        return 0.5 * etape::sum((u - observed) * (u - observed));
    };
    etape::tensor<double> u0({points});
    const double rate = 1.0 / (1.0 + 4 * smoothness); // the Hessian's largest eigenvalue is at most 1 + 4 smoothness
    etape::sim::checkpoint_stats stats;
    std::vector<double> estimate(points);
    fmt::print("Inverting {} Lax-Wendroff steps of {} points for the initial state (noise {}).\n", steps, points,
               noise);
    fmt::print("{:>9} {:>14} {:>22}\n", "iteration", "misfit", "RMS error of u0");
    for (int iteration = 0; iteration <= 40; ++iteration) {
        const auto r = etape::sim::checkpointed_gradient(
            u0, steps, [](const active_tensor<double>& u, std::size_t) { return step(u); }, misfit,
            etape::sim::snapshot_count{30});
        stats = r.stats;
        estimate.assign(u0.values().begin(), u0.values().end());
        if (iteration % 10 == 0)
            fmt::print("{:>9} {:>14.6e} {:>22.6f}\n", iteration, r.loss, rms(estimate, truth));
        for (std::size_t i = 0; i < points; ++i) {
            const double left = estimate[(i + points - 1) % points], right = estimate[(i + 1) % points];
            const double regulariser = smoothness * (2 * estimate[i] - left - right); // D^T D u0
            u0.data()[i] -= rate * (r.gradient.values()[i] + regulariser);
        }
    }
    const double error = rms(estimate, truth);
    fmt::print("Checkpointing held {} snapshots ({:.1f} KiB) and at most {:.1f} KiB of recording; taping all {} steps "
               "holds {:.1f} KiB. It ran {} steps untaped per gradient besides the {} taped ones.\n",
               stats.snapshots, static_cast<double>(stats.snapshot_bytes) / 1024,
               static_cast<double>(stats.tape_bytes) / 1024, steps, static_cast<double>(full_recording) / 1024,
               stats.forward_steps, stats.reverse_steps);
    if (!(error <= tolerance)) {
        fmt::print("The initial state was NOT recovered: RMS error {:.4f} > {}.\n", error, tolerance);
        return 1;
    }
    fmt::print("The initial state was recovered within RMS error {:.4f} (bound {}; the bumps are 1 and 0.5 high).\n",
               error, tolerance);
    return 0;
}
