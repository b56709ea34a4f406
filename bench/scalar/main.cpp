// etape_bench_scalar: scalar reverse-mode gradients, etape against a
// hand-written adjoint, Sacado Rad and ADOL-C, on the same cases.
//
// Benchmark names are  scalar/<case>/<impl>  with
//   case  elu_mlp, elu_sum_1000, elu_sum_100000, logsumexp, normal_lpdf,
//         matmul, advection (a size, where a case has several, is part of
//         the case's name);
//   impl  plain (the value only, on double), hand (hand-written adjoint),
//         etape, sacado, adolc (the last two where they were found at build).
//
// Before the first benchmark of a case is timed, every implementation of the
// case is run once and its value and gradient compared with the hand-written
// adjoint; a difference above 1e-10 relative aborts the program: a benchmark
// of a wrong gradient is worthless. (The check runs case by case, just before
// the case's benchmarks rather than all at startup, so that the large case
// cannot grow ADOL-C's global location store before the small ones run.) scripts/bench_ratios.py turns the JSON output into
// the table of ratios to Sacado.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "harness.hpp"

namespace etape_bench {
namespace {

constexpr double tolerance = 1e-10;

/// |got - want| relative to the larger magnitude (0 when both are 0).
double relative_difference(double got, double want)
{
    const double scale = std::max(std::abs(got), std::abs(want));
    if (scale == 0)
        return 0;
    return std::abs(got - want) / scale;
}

[[noreturn]] void fail(const std::string& message)
{
    std::fprintf(stderr, "\netape_bench_scalar: GRADIENT CHECK FAILED: %s\n", message.c_str());
    std::fprintf(stderr, "etape_bench_scalar: refusing to time a wrong result; aborting.\n");
    std::fflush(stderr);
    std::abort();
}

/// Runs every implementation of `case_name` once and compares it with
/// "hand"; aborts on the first mismatch. Prints the largest relative
/// difference of each.
void check_case(const entry_table& table, const std::string& case_name)
{
    for (const entry& reference : table) {
        if (reference.impl != "hand" || reference.case_name != case_name)
            continue;
        const std::vector<double>& in = *reference.inputs;
        std::vector<double> want(in.size());
        const double want_value = reference.make()->run(in, want);
        for (const double g : want)
            if (!std::isfinite(g))
                fail(reference.case_name + "/hand: non-finite gradient");
        for (const entry& e : table) {
            if (e.case_name != reference.case_name || e.impl == "hand")
                continue;
            std::vector<double> got(in.size(), std::nan(""));
            const double value = e.make()->run(in, got);
            const double value_difference = relative_difference(value, want_value);
            if (!(value_difference <= tolerance))
                fail(e.case_name + "/" + e.impl + ": value " + std::to_string(value) + " but hand gives " +
                     std::to_string(want_value));
            double worst = 0;
            if (e.computes_gradient) {
                for (std::size_t i = 0; i < in.size(); ++i) {
                    const double d = relative_difference(got[i], want[i]);
                    if (!(d <= tolerance)) {
                        char text[256];
                        std::snprintf(text, sizeof text, "%s/%s: d f / d in[%zu] = %.17g but hand gives %.17g",
                                      e.case_name.c_str(), e.impl.c_str(), i, got[i], want[i]);
                        fail(text);
                    }
                    worst = std::max(worst, d);
                }
            }
            if (e.computes_gradient)
                std::fprintf(stderr, "check %s/%s against hand: value %.1e, gradient %.1e (max relative difference)\n",
                             e.case_name.c_str(), e.impl.c_str(), value_difference, worst);
            else
                std::fprintf(stderr, "check %s/%s against hand: value %.1e\n", e.case_name.c_str(), e.impl.c_str(),
                             value_difference);
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
}

} // namespace
} // namespace etape_bench

int main(int argc, char** argv)
{
    using namespace etape_bench;
    const suite cases;
    entry_table table;
    add_reference_impls(cases, table);
    add_etape_impl(cases, table);
#if ETAPE_BENCH_HAVE_SACADO
    add_sacado_impl(cases, table);
#endif
#if ETAPE_BENCH_HAVE_ADOLC
    add_adolc_impl(cases, table);
#endif
    // Group by case, in the suite's order; within a case, the order above.
    std::vector<std::string> order;
    cases.for_each([&](const auto& c) { order.push_back(c.name); });
    std::stable_sort(table.begin(), table.end(), [&](const entry& a, const entry& b) {
        return std::find(order.begin(), order.end(), a.case_name) < std::find(order.begin(), order.end(), b.case_name);
    });

    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    for (const entry& e : table)
        benchmark::RegisterBenchmark(("scalar/" + e.case_name + "/" + e.impl).c_str(),
                                     [&table, &e](benchmark::State& state) { time_entry(state, table, e); });
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
