// Sensitivity of a 2-D heat model to its spatially varying conductivity:
// d(loss)/d(k_ij) at every grid point in one reverse sweep, where the loss
// measures the temperature at the end against a target. The explicit
// five-point update is one fused node per step over the whole grid
// (neighbours read as periodic shifts; a mask holds the border at its fixed
// temperature). The gradient is checked against central finite differences
// of a plain double version of the same model at a few points.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include <etape/etape.hpp>
#include <fmt/format.h>

namespace {

constexpr std::size_t rows = 32, columns = 32, steps = 200;

using etape::active_tensor;

/// The model on plain numbers, for the finite differences: the loss for
/// conductivity `k` (0 outside the interior) from the initial state `u0`.
double loss_of(const std::vector<double>& k, std::vector<double> u, const std::vector<double>& target)
{
    std::vector<double> next = u;
    for (std::size_t s = 0; s < steps; ++s) {
        for (std::size_t i = 1; i + 1 < rows; ++i)
            for (std::size_t j = 1; j + 1 < columns; ++j) {
                const std::size_t p = i * columns + j;
                next[p] = u[p] + k[p] * (u[p - columns] + u[p + columns] + u[p - 1] + u[p + 1] - 4 * u[p]);
            }
        std::swap(u, next);
    }
    double loss = 0;
    for (std::size_t p = 0; p < u.size(); ++p)
        loss += 0.5 * (u[p] - target[p]) * (u[p] - target[p]);
    return loss;
}

} // namespace

int main()
{
    // A hot spot in a cold plate whose border stays at 0; the conductivity
    // varies from 0.05 to 0.2 (the explicit scheme is stable below 0.25).
    std::vector<double> u0(rows * columns), k(rows * columns), target(rows * columns), interior(rows * columns);
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < columns; ++j) {
            const std::size_t p = i * columns + j;
            const double x = static_cast<double>(i) / rows - 0.4, y = static_cast<double>(j) / columns - 0.5;
            u0[p] = std::exp(-60 * (x * x + y * y));
            interior[p] = (i == 0 || j == 0 || i + 1 == rows || j + 1 == columns) ? 0.0 : 1.0;
            k[p] = interior[p] * (0.125 + 0.075 * std::sin(0.3 * static_cast<double>(i + 2 * j)));
            target[p] = 0.1 * interior[p];
        }

    etape::tape_scope<double> scope;
    const etape::tensor<double> mask({rows, columns}, interior), goal({rows, columns}, target);
    const active_tensor<double> conductivity(etape::tensor<double>({rows, columns}, k));
    active_tensor<double> u(etape::tensor<double>({rows, columns}, u0));
    for (std::size_t s = 0; s < steps; ++s) // rolls along axis 0 read the rows above and below, along axis 1 the sides
        u = u + conductivity * mask *
                    (etape::roll(u, 1, 0) + etape::roll(u, -1, 0) + etape::roll(u, 1, 1) + etape::roll(u, -1, 1) -
                     4.0 * u);
    const etape::var<double> loss = 0.5 * etape::sum((u - goal) * (u - goal));
    const auto [gradient] = etape::gradient(loss, conductivity);
    fmt::print("A {}x{} plate, {} explicit steps: loss {:.6f}, recorded as {} nodes ({:.1f} MiB).\n", rows, columns,
               steps, loss.value(), scope.get().stats().nodes,
               static_cast<double>(scope.get().stats().bytes) / (1024.0 * 1024.0));

    // Differences are measured against the gradient's largest component: a
    // central difference's rounding error (about 1e-16 * loss / h) is an
    // absolute error, large beside the small components near the border.
    double largest = 0;
    for (const double g : gradient.values())
        largest = std::max(largest, std::abs(g));
    fmt::print("{:>10} {:>20} {:>20} {:>12}\n", "point", "d loss / d k (tape)", "finite differences", "difference");
    double worst = 0;
    using point = std::pair<std::size_t, std::size_t>;
    for (const auto& [i, j] : {point{12, 16}, point{13, 14}, point{8, 20}, point{20, 9}, point{1, 1}, point{30, 5}}) {
        const std::size_t p = i * columns + j;
        const double h = 1e-5;
        std::vector<double> up = k, down = k;
        up[p] += h;
        down[p] -= h;
        const double fd = (loss_of(up, u0, target) - loss_of(down, u0, target)) / (2 * h);
        const double taped = gradient.values()[p];
        const double difference = std::abs(taped - fd) / largest;
        worst = std::max(worst, difference);
        fmt::print("{:>10} {:>20.10e} {:>20.10e} {:>12.2e}\n", fmt::format("({}, {})", i, j), taped, fd, difference);
    }
    const double bound = 1e-6;
    if (!(worst <= bound)) {
        fmt::print("The gradient does NOT match finite differences: {:.2e} of its largest component > {}.\n", worst,
                   bound);
        return 1;
    }
    fmt::print("The gradient matches central finite differences (h = 1e-5) within {:.1e} of its largest component "
               "(bound {}).\n", worst, bound);
    return 0;
}
