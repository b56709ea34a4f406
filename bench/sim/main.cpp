// etape_bench_sim: gradients through time loops (sim_cases.hpp), etape's
// scalar code and its tensor stencils against a hand-written adjoint and,
// where installed, Sacado Rad, on the same cases.
//
// Benchmark names are  sim/<case>/<impl>  with
//   case  advection_100x100, advection_1000x1000 (points x steps),
//         heat2d_128x128x100 (rows x columns x steps), advection_100x10000;
//   impl  hand, etape, etape_stencil, sacado, and on advection_100x10000
//         etape_checkpointed (etape_stencil's steps under binomial
//         checkpointing with a byte budget of 5 % of etape_stencil's tape).
// The counter stored_bytes is what a run held for its gradient: the tape's
// recording (etape_stencil) or the snapshots and the largest recording
// (etape_checkpointed).
//
// Before a case's first benchmark is timed, each implementation of it runs
// once and its value and gradient are compared with hand's: a relative
// difference above 1e-10 aborts the program (a benchmark of a wrong
// gradient is worthless). scripts/bench_sim.sh runs it and prints the
// ratios to hand.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "sim_harness.hpp"

namespace etape_bench_sim {
namespace {

constexpr double tolerance = 1e-10;

double relative_difference(double got, double want)
{
    const double scale = std::max(std::abs(got), std::abs(want));
    return scale == 0 ? 0 : std::abs(got - want) / scale;
}

/// Compares every implementation of `case_name` with hand; aborts on the
/// first value or gradient element that differs by more than the tolerance.
void check_case(const entry_table& table, const std::string& case_name)
{
    const auto hand = std::find_if(table.begin(), table.end(),
                                   [&](const entry& e) { return e.case_name == case_name && e.impl == "hand"; });
    const std::vector<double>& in = *hand->inputs;
    std::vector<double> want(in.size());
    const double want_value = hand->make()->run(in, want);
    for (const entry& e : table) {
        if (e.case_name != case_name || e.impl == "hand")
            continue;
        std::vector<double> got(in.size(), std::nan(""));
        const double value = e.make()->run(in, got);
        double worst = relative_difference(value, want_value);
        for (std::size_t i = 0; i < in.size(); ++i)
            worst = std::max(worst, relative_difference(got[i], want[i]));
        std::fprintf(stderr, "check %s/%s against hand: %.1e (largest relative difference)\n", case_name.c_str(),
                     e.impl.c_str(), worst);
        if (!(worst <= tolerance)) {
            std::fprintf(stderr, "etape_bench_sim: %s/%s differs from hand; refusing to time it\n",
                         case_name.c_str(), e.impl.c_str());
            std::abort();
        }
    }
}

void time_entry(benchmark::State& state, const entry_table& table, const entry& e)
{
    static std::set<std::string> checked;
    if (checked.insert(e.case_name).second)
        check_case(table, e.case_name);
    const auto impl = e.make();
    const std::vector<double>& in = *e.inputs;
    std::vector<double> grad(in.size());
    for (auto _ : state) {
        double value = impl->run(in, grad);
        benchmark::DoNotOptimize(value);
        benchmark::DoNotOptimize(grad.data());
        benchmark::ClobberMemory();
    }
    if (impl->stored_bytes() > 0)
        state.counters["stored_bytes"] = static_cast<double>(impl->stored_bytes());
}

} // namespace
} // namespace etape_bench_sim

int main(int argc, char** argv)
{
    using namespace etape_bench_sim;
    const suite cases;
    entry_table table;
    add_hand_impl(cases, table);
    add_etape_impls(cases, table);
#if ETAPE_BENCH_HAVE_SACADO
    add_sacado_impl(cases, table);
#endif
    std::vector<std::string> order; // by case, in the suite's order
    cases.for_each([&](const auto& c) { order.push_back(c.name); });
    std::stable_sort(table.begin(), table.end(), [&](const entry& a, const entry& b) {
        return std::find(order.begin(), order.end(), a.case_name) < std::find(order.begin(), order.end(), b.case_name);
    });
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    for (const entry& e : table)
        benchmark::RegisterBenchmark(("sim/" + e.case_name + "/" + e.impl).c_str(),
                                     [&table, &e](benchmark::State& state) { time_entry(state, table, e); });
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
