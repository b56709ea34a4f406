// etape, two ways:
//   etape          each case's scalar code (sim_cases.hpp) on var<double>:
//                  one statement per point and step, as etape_bench_scalar;
//   etape_stencil  the same update on active tensors, one fused node per
//                  step over the whole grid, neighbours read as periodic
//                  shifts (etape::roll): the idiom docs/simulation.md gives.
// Each iteration records on the thread's active tape, reads the gradient
// and rewinds to the position saved before the inputs, reusing the memory.
#include <algorithm>
#include <vector>

#include <etape/etape.hpp>

#include "sim_harness.hpp"

namespace etape_bench_sim {
namespace {

template <class Case>
class scalar_runner final : public gradient_impl {
public:
    using var = etape::var<double>;

    explicit scalar_runner(const Case& c)
        : case_(c), tape_(etape::active_tape<double>()), start_(tape_.position()), x_(c.inputs.size())
    {
    }

    double run(std::span<const double> in, std::span<double> grad) override
    {
        etape::register_inputs(std::span<var>(x_), in);
        const std::span<const var> x(x_);
        const var y = case_.f(x);
        etape::gradient_into(y, x, grad);
        tape_.rewind(start_);
        return y.value();
    }

private:
    const Case& case_;
    etape::tape<double>& tape_;
    etape::tape_position start_;
    std::vector<var> x_;
};

using etape::active_tensor;
using etape::roll;

/// One Lax-Wendroff step: u[i+1] is roll(u, -1), u[i-1] is roll(u, 1).
active_tensor<double> step(const advection& c, const active_tensor<double>& u)
{
    const auto right = roll(u, -1), left = roll(u, 1);
    return u - c.transport() * (right - left) + c.diffusion() * (right - 2.0 * u + left);
}

/// One step of the heat equation on the whole grid: `k` is 0 on the
/// border, so the border keeps its values.
active_tensor<double> step(const etape::tensor<double>& k, const active_tensor<double>& u)
{
    return u + k * (roll(u, 1, 0) + roll(u, -1, 0) + roll(u, 1, 1) + roll(u, -1, 1) - 4.0 * u);
}

etape::shape shape_of(const advection& c) { return {c.points}; }
etape::shape shape_of(const heat2d& c) { return {c.rows, c.columns}; }

template <class Case>
class stencil_runner final : public gradient_impl {
public:
    explicit stencil_runner(const Case& c)
        : case_(c), tape_(etape::active_tape<double>()), start_(tape_.position()), initial_(shape_of(c))
    {
        if constexpr (std::same_as<Case, heat2d>)
            coefficient_ = etape::tensor<double>(shape_of(c), c.coefficient);
    }

    double run(std::span<const double> in, std::span<double> grad) override
    {
        std::copy(in.begin(), in.end(), initial_.data());
        const active_tensor<double> u0(initial_);
        active_tensor<double> u = u0;
        for (std::size_t s = 0; s < case_.steps; ++s) {
            if constexpr (std::same_as<Case, heat2d>)
                u = step(coefficient_, u);
            else
                u = step(case_, u);
        }
        const etape::var<double> y = etape::sum(u * u);
        const std::span<const double> g = etape::gradient_view(y, u0);
        std::copy(g.begin(), g.end(), grad.begin());
        const double value = y.value();
        tape_.rewind(start_);
        return value;
    }

private:
    const Case& case_;
    etape::tape<double>& tape_;
    etape::tape_position start_;
    etape::tensor<double> initial_;
    etape::tensor<double> coefficient_;
};

} // namespace

void add_etape_impls(const suite& cases, entry_table& table)
{
    add_engine<scalar_runner>(cases, "etape", table);
    add_engine<stencil_runner>(cases, "etape_stencil", table);
}

} // namespace etape_bench_sim
