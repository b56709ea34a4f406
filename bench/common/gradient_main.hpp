// main() of a gradient benchmark (etape_bench_scalar, etape_bench_sim):
// registers every entry of the table as  <prefix>/<case>/<impl>, grouped by
// case in the suite's order, and runs them.
//
// Before the first benchmark of a case is timed, every implementation of the
// case is run once and its value and gradient compared with the hand-written
// adjoint's; a difference above 1e-10 relative aborts the program: a
// benchmark of a wrong gradient is worthless. The check runs case by case,
// just before the case's benchmarks rather than all at startup, so that a
// large case cannot grow ADOL-C's global location store before the small
// ones run.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include "gradient_harness.hpp"

namespace etape_bench {

/// Which program runs, for its messages, and the first part of its
/// benchmarks' names.
struct gradient_program {
    std::string name;   ///< etape_bench_scalar
    std::string prefix; ///< scalar
};

namespace detail {

constexpr double tolerance = 1e-10;

/// |got - want| relative to the larger magnitude (0 when both are 0).
inline double relative_difference(double got, double want)
{
    const double scale = std::max(std::abs(got), std::abs(want));
    return scale == 0 ? 0 : std::abs(got - want) / scale;
}

[[noreturn]] inline void fail(const gradient_program& program, const std::string& message)
{
    std::fprintf(stderr, "\n%s: GRADIENT CHECK FAILED: %s\n", program.name.c_str(), message.c_str());
    std::fprintf(stderr, "%s: refusing to time a wrong result; aborting.\n", program.name.c_str());
    std::fflush(stderr);
    std::abort();
}

/// Runs every implementation of `case_name` once and compares it with
/// "hand"; aborts on the first mismatch. Prints the largest relative
/// difference of each.
inline void check_case(const gradient_program& program, const entry_table& table, const std::string& case_name)
{
    const auto hand = std::find_if(table.begin(), table.end(),
                                   [&](const entry& e) { return e.case_name == case_name && e.impl == "hand"; });
    if (hand == table.end())
        fail(program, case_name + ": no hand-written adjoint to check against");
    const std::vector<double>& in = *hand->inputs;
    std::vector<double> want(in.size());
    const double want_value = hand->make()->run(in, want);
    for (const double g : want)
        if (!std::isfinite(g))
            fail(program, case_name + "/hand: non-finite gradient");
    for (const entry& e : table) {
        if (e.case_name != case_name || e.impl == "hand")
            continue;
        std::vector<double> got(in.size(), std::nan(""));
        const double value = e.make()->run(in, got);
        const double value_difference = relative_difference(value, want_value);
        if (!(value_difference <= tolerance))
            fail(program, case_name + "/" + e.impl + ": value " + std::to_string(value) + " but hand gives " +
                              std::to_string(want_value));
        if (!e.computes_gradient) {
            std::fprintf(stderr, "check %s/%s against hand: value %.1e\n", case_name.c_str(), e.impl.c_str(),
                         value_difference);
            continue;
        }
        double worst = 0;
        for (std::size_t i = 0; i < in.size(); ++i) {
            const double d = relative_difference(got[i], want[i]);
            if (!(d <= tolerance)) {
                char text[256];
                std::snprintf(text, sizeof text, "%s/%s: d f / d in[%zu] = %.17g but hand gives %.17g",
                              case_name.c_str(), e.impl.c_str(), i, got[i], want[i]);
                fail(program, text);
            }
            worst = std::max(worst, d);
        }
        std::fprintf(stderr, "check %s/%s against hand: value %.1e, gradient %.1e (max relative difference)\n",
                     case_name.c_str(), e.impl.c_str(), value_difference, worst);
    }
}

inline void time_entry(benchmark::State& state, const gradient_program& program, const entry_table& table,
                       const entry& e)
{
    static std::set<std::string> checked;
    if (checked.insert(e.case_name).second)
        check_case(program, table, e.case_name);
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

} // namespace detail

/// Registers the table's entries, grouped by case in the suite's order
/// (within a case, in the table's order), and runs the benchmarks that
/// Google Benchmark's arguments select. Returns main's exit status.
template <class Suite>
int run_gradient_benchmarks(int argc, char** argv, const gradient_program& program, const Suite& cases,
                            entry_table& table)
{
    std::vector<std::string> order;
    cases.for_each([&](const auto& c) { order.push_back(c.name); });
    std::stable_sort(table.begin(), table.end(), [&](const entry& a, const entry& b) {
        return std::find(order.begin(), order.end(), a.case_name) < std::find(order.begin(), order.end(), b.case_name);
    });

    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    for (const entry& e : table)
        benchmark::RegisterBenchmark(
            (program.prefix + "/" + e.case_name + "/" + e.impl).c_str(),
            [&program, &table, &e](benchmark::State& state) { detail::time_entry(state, program, table, e); });
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

} // namespace etape_bench
