// etape, two ways:
//   etape          each case's scalar code (sim_cases.hpp) on var<double>:
//                  one statement per point and step, as etape_bench_scalar;
//   etape_stencil  the same update on active tensors, one fused node per
//                  step over the whole grid, neighbours read as periodic
//                  shifts (etape::roll): the idiom docs/simulation.md gives;
//   etape_checkpointed  etape_stencil's steps under binomial checkpointing
//                  (etape::sim::checkpointed_gradient), on the long case,
//                  with a byte budget of 5 % of etape_stencil's recording.
// Each iteration records on the thread's active tape, reads the gradient
// and rewinds to the position saved before the inputs, reusing the memory.
#include <algorithm>
#include <vector>

#include <etape/etape.hpp>
#include <etape/sim/checkpointed.hpp>

#include "../common/etape_scalar_runner.hpp"
#include "sim_harness.hpp"

namespace etape_bench::sim {
namespace {

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
        recorded_ = tape_.stats().bytes;
        tape_.rewind(start_);
        return value;
    }

    [[nodiscard]] std::size_t stored_bytes() const override { return recorded_; }

private:
    std::size_t recorded_ = 0;
    const Case& case_;
    etape::tape<double>& tape_;
    etape::tape_position start_;
    etape::tensor<double> initial_;
    etape::tensor<double> coefficient_;
};

/// The stencil's steps under checkpointing. The budget is 5 % of what
/// stencil_runner records, less room for the few steps' recording that the
/// reversal holds at once, so that all it stores stays within the 5 %.
class checkpointed_runner final : public gradient_impl {
public:
    explicit checkpointed_runner(const advection& c) : case_(c), initial_(shape_of(c))
    {
        stencil_runner<advection> whole(c);
        std::vector<double> g(c.inputs.size());
        (void)whole.run(c.inputs, g);
        const std::size_t per_step = whole.stored_bytes() / c.steps;
        budget_ = whole.stored_bytes() / 20 - 4 * per_step;
    }

    double run(std::span<const double> in, std::span<double> grad) override
    {
        std::copy(in.begin(), in.end(), initial_.data());
        const auto r = etape::sim::checkpointed_gradient(
            initial_, case_.steps, [this](const active_tensor<double>& u, std::size_t) { return step(case_, u); },
            [](const active_tensor<double>& u) { return etape::sum(u * u); }, etape::sim::snapshot_memory{budget_});
        std::copy(r.gradient.values().begin(), r.gradient.values().end(), grad.begin());
        stored_ = r.stats.snapshot_bytes + r.stats.tape_bytes;
        return r.loss;
    }

    [[nodiscard]] std::size_t stored_bytes() const override { return stored_; }

private:
    const advection& case_;
    etape::tensor<double> initial_;
    std::size_t budget_ = 0;
    std::size_t stored_ = 0;
};

} // namespace

void add_etape_impls(const suite& cases, entry_table& table)
{
    add_engine<etape_scalar_runner>(cases, "etape", table);
    add_engine<stencil_runner>(cases, "etape_stencil", table);
    table.push_back(entry{.case_name = cases.long_run.name,
                          .impl = "etape_checkpointed",
                          .inputs = &cases.long_run.inputs,
                          .make = [&c = cases.long_run] { return std::make_unique<checkpointed_runner>(c); }});
}

} // namespace etape_bench::sim
