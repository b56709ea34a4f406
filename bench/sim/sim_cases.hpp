// The cases of etape_bench_sim: time loops whose gradient with respect to
// the initial state is taken, each written three ways here: on any scalar
// S (`f`, for double, etape's var and Sacado's ADvar), and as a
// hand-written adjoint (`hand`). The stencil version on etape's tensors
// lives in impl_etape.cpp. Every case's loss is sum_i u_i^2 at the end.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace etape_bench::sim {

/// Deterministic inputs in [lo, hi) (a small LCG: the same on every machine).
inline std::vector<double> uniform_inputs(std::size_t n, unsigned seed, double lo, double hi)
{
    std::vector<double> v(n);
    unsigned long long state = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    for (double& x : v) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        x = lo + (hi - lo) * static_cast<double>(state >> 11) / 9007199254740992.0;
    }
    return v;
}

// ---- 1-D advection u_t + c u_x = 0: Lax-Wendroff, periodic ------------------
// u_i <- u_i - (C/2)(u_{i+1} - u_{i-1}) + (C^2/2)(u_{i+1} - 2 u_i + u_{i-1}),
// Courant number C, the case of etape_bench_scalar at other sizes.

struct advection {
    std::size_t points;
    std::size_t steps;
    double courant = 0.5;
    std::string name;
    std::vector<double> inputs; // the initial state: a bump and noise

    advection(std::size_t n, std::size_t s)
        : points(n), steps(s), name("advection_" + std::to_string(n) + "x" + std::to_string(s))
    {
        inputs = uniform_inputs(n, 6, -0.1, 0.1);
        for (std::size_t i = 0; i < n; ++i) {
            const double x = static_cast<double>(i) / static_cast<double>(n) - 0.5;
            inputs[i] += std::exp(-50 * x * x);
        }
    }

    /// The half Courant numbers of the update, as the stencil version uses them.
    [[nodiscard]] double transport() const { return 0.5 * courant; }
    [[nodiscard]] double diffusion() const { return 0.5 * courant * courant; }

    template <class S>
    S f(std::span<const S> u0) const
    {
        const double a = transport(), b = diffusion();
        std::vector<S> u(u0.begin(), u0.end());
        std::vector<S> next(points);
        for (std::size_t step = 0; step < steps; ++step) {
            for (std::size_t i = 0; i < points; ++i) {
                const S& left = u[i == 0 ? points - 1 : i - 1];
                const S& right = u[i + 1 == points ? 0 : i + 1];
                next[i] = u[i] - a * (right - left) + b * (right - 2.0 * u[i] + left);
            }
            std::swap(u, next);
        }
        S sum = 0.0;
        for (const S& ui : u)
            sum += ui * ui;
        return sum;
    }

    /// The step is linear, u_new_i = l u_{i-1} + m u_i + r u_{i+1}: its
    /// adjoint is the transposed stencil, and needs no stored state.
    double hand(std::span<const double> u0, std::span<double> g) const
    {
        const double a = transport(), b = diffusion();
        std::vector<double> u(u0.begin(), u0.end());
        std::vector<double> next(points);
        for (std::size_t step = 0; step < steps; ++step) {
            for (std::size_t i = 0; i < points; ++i) {
                const double left = u[i == 0 ? points - 1 : i - 1];
                const double right = u[i + 1 == points ? 0 : i + 1];
                next[i] = u[i] - a * (right - left) + b * (right - 2.0 * u[i] + left);
            }
            std::swap(u, next);
        }
        double sum = 0;
        for (std::size_t i = 0; i < points; ++i) {
            sum += u[i] * u[i];
            next[i] = 2 * u[i]; // the adjoint of the last state
        }
        const double l = a + b, m = 1 - 2 * b, r = b - a;
        for (std::size_t step = 0; step < steps; ++step) {
            for (std::size_t i = 0; i < points; ++i) {
                const double bar_left = next[i == 0 ? points - 1 : i - 1];   // u_new_{i-1} reads u_i as its right
                const double bar_right = next[i + 1 == points ? 0 : i + 1]; // u_new_{i+1} reads u_i as its left
                u[i] = m * next[i] + r * bar_left + l * bar_right;
            }
            std::swap(u, next);
        }
        std::copy(next.begin(), next.end(), g.begin());
        return sum;
    }
};

// ---- 2-D heat equation, explicit, fixed boundary ------------------------------
// u_ij <- u_ij + k_ij (u_{i-1,j} + u_{i+1,j} + u_{i,j-1} + u_{i,j+1} - 4 u_ij)
// on the interior, with a spatially varying coefficient k (0.05 .. 0.2,
// stable); the border keeps its values. k is stored as 0 on the border, so
// the update written on the whole grid (the stencil version) is the same.

struct heat2d {
    std::size_t rows;
    std::size_t columns;
    std::size_t steps;
    std::string name;
    std::vector<double> inputs;      // the initial temperature
    std::vector<double> coefficient; // k, 0 on the border

    heat2d(std::size_t r, std::size_t c, std::size_t s)
        : rows(r), columns(c), steps(s),
          name("heat2d_" + std::to_string(r) + "x" + std::to_string(c) + "x" + std::to_string(s)),
          inputs(uniform_inputs(r * c, 7, 0.0, 1.0)), coefficient(uniform_inputs(r * c, 8, 0.05, 0.2))
    {
        for (std::size_t i = 0; i < r; ++i)
            for (std::size_t j = 0; j < c; ++j)
                if (on_border(i, j))
                    coefficient[i * c + j] = 0;
    }

    [[nodiscard]] bool on_border(std::size_t i, std::size_t j) const
    {
        return i == 0 || j == 0 || i + 1 == rows || j + 1 == columns;
    }

    template <class S>
    S f(std::span<const S> u0) const
    {
        std::vector<S> u(u0.begin(), u0.end());
        std::vector<S> next(u);
        for (std::size_t step = 0; step < steps; ++step) {
            for (std::size_t i = 1; i + 1 < rows; ++i)
                for (std::size_t j = 1; j + 1 < columns; ++j) {
                    const std::size_t p = i * columns + j;
                    next[p] = u[p] + coefficient[p] * (u[p - columns] + u[p + columns] + u[p - 1] + u[p + 1] -
                                                       4.0 * u[p]);
                }
            std::swap(u, next); // the borders of both hold the initial values
        }
        S sum = 0.0;
        for (const S& v : u)
            sum += v * v;
        return sum;
    }

    /// Linear too: the adjoint of a point gathers its own term and the
    /// neighbours' k-weighted ones.
    double hand(std::span<const double> u0, std::span<double> g) const
    {
        std::vector<double> u(u0.begin(), u0.end());
        std::vector<double> next(u);
        for (std::size_t step = 0; step < steps; ++step) {
            for (std::size_t i = 1; i + 1 < rows; ++i)
                for (std::size_t j = 1; j + 1 < columns; ++j) {
                    const std::size_t p = i * columns + j;
                    next[p] = u[p] + coefficient[p] * (u[p - columns] + u[p + columns] + u[p - 1] + u[p + 1] -
                                                       4.0 * u[p]);
                }
            std::swap(u, next);
        }
        double sum = 0;
        std::vector<double> bar(u.size());
        for (std::size_t p = 0; p < u.size(); ++p) {
            sum += u[p] * u[p];
            bar[p] = 2 * u[p];
        }
        const auto k = [&](std::size_t i, std::size_t j) { return coefficient[i * columns + j]; };
        std::vector<double> before(u.size());
        for (std::size_t step = 0; step < steps; ++step) {
            for (std::size_t i = 0; i < rows; ++i)
                for (std::size_t j = 0; j < columns; ++j) {
                    const std::size_t p = i * columns + j;
                    double s = bar[p] * (1 - 4 * k(i, j)); // k is 0 on the border
                    if (i > 0)
                        s += k(i - 1, j) * bar[p - columns];
                    if (i + 1 < rows)
                        s += k(i + 1, j) * bar[p + columns];
                    if (j > 0)
                        s += k(i, j - 1) * bar[p - 1];
                    if (j + 1 < columns)
                        s += k(i, j + 1) * bar[p + 1];
                    before[p] = s;
                }
            std::swap(bar, before);
        }
        std::copy(bar.begin(), bar.end(), g.begin());
        return sum;
    }
};

/// Every case, built once, in the order the benchmarks run.
struct suite {
    advection small{100, 100};
    advection large{1000, 1000};
    heat2d heat{128, 128, 100};
    advection long_run{100, 10000}; // the case of checkpointing

    template <class F>
    void for_each(F&& visit) const
    {
        visit(small);
        visit(large);
        visit(heat);
        visit(long_run);
    }
};

} // namespace etape_bench::sim
