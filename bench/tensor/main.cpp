// etape_bench_tensor: fused tensor kernels, etape against a hand-written
// fused loop and (where libtorch was found at build) libtorch, with a copy
// kernel that measures the machine's bandwidth in the same run.
//
// Benchmark names are  tensor/<case>/<impl>  with
//   case  copy_<type>_<n>, copy_memcpy_<type>_<n>, elu_forward_<type>_<n>,
//         elu_backward_<type>_<n>, elu_<type>_<n> (forward then backward),
//         chain_float_4M, elu_sum_100000, logsumexp, normal_lpdf
//         (<n> in M = 2^20 elements);
//   impl  hand, etape, torch.
// Every benchmark reports bytes/s (the bytes the kernel must move at the
// least, case_spec::bytes, the same for every impl) where that means
// something, so ELU's bandwidth reads as a fraction of the copy's.
//
// Before the first benchmark of a case is timed, every implementation runs
// once and its result (output or gradient, and value) is compared with the
// hand kernel's; a difference above the tolerance (relative to the largest
// magnitude of the hand result) aborts the program. scripts/bench_tensor.sh
// runs the suite; scripts/bench_tensor_ratios.py prints the ratio table.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "tensor_cases.hpp"

namespace etape_tensor_bench {
namespace {

struct implementation {
    const char* name;
    std::function<std::unique_ptr<kernel>(const case_spec&)> make;
    std::function<bool(operation)> has; ///< whether it has a kernel for the case
};

bool is_copy(operation o) { return o == operation::copy || o == operation::copy_memcpy; }

std::vector<implementation> implementations()
{
    std::vector<implementation> impls{{"hand", make_hand, [](operation) { return true; }},
                                      {"etape", make_etape, [](operation o) { return !is_copy(o); }}};
#if ETAPE_BENCH_HAVE_TORCH
    impls.push_back({"torch", make_torch, [](operation o) {
                         return o == operation::elu_forward || o == operation::elu_backward || o == operation::elu ||
                                o == operation::chain;
                     }});
#endif
    return impls;
}

[[noreturn]] void fail(const std::string& message)
{
    std::fprintf(stderr, "\netape_bench_tensor: CHECK FAILED: %s\n", message.c_str());
    std::fprintf(stderr, "etape_bench_tensor: refusing to time a wrong result; aborting.\n");
    std::fflush(stderr);
    std::abort();
}

/// Float kernels differ in the last bits of expm1 (xsimd against libm) and
/// in summation order; double ones only in rounding.
double tolerance(const case_spec& c) { return c.type == precision::f32 ? 1e-5 : 1e-10; }

/// Runs every implementation of `c` once and compares its result with the
/// hand kernel's; aborts on a mismatch.
void check_case(const case_spec& c)
{
    std::vector<double> want;
    {
        const auto hand = make_hand(c);
        hand->run();
        want = hand->result();
    }
    if (want.empty())
        return; // nothing to compare (copy)
    double scale = 0;
    for (const double w : want) {
        if (!std::isfinite(w))
            fail(c.name() + "/hand: non-finite result");
        scale = std::max(scale, std::abs(w));
    }
    for (const implementation& impl : implementations()) {
        if (std::string(impl.name) == "hand" || !impl.has(c.what))
            continue;
        std::vector<double> got;
        {
            const auto k = impl.make(c);
            k->run();
            got = k->result();
        }
        if (got.size() != want.size())
            fail(c.name() + "/" + impl.name + ": " + std::to_string(got.size()) + " results, hand gives " +
                 std::to_string(want.size()));
        double worst = 0;
        for (std::size_t i = 0; i < want.size(); ++i) {
            // the value (last entry, where there is one) compares relative to itself
            const bool is_value = c.what != operation::elu_forward && c.what != operation::elu_backward &&
                                  c.what != operation::elu && i + 1 == want.size();
            const double d = std::abs(got[i] - want[i]) / (is_value ? std::max(std::abs(want[i]), 1e-300) : scale);
            if (!(d <= tolerance(c))) {
                char text[256];
                std::snprintf(text, sizeof text, "%s/%s: result[%zu] = %.17g but hand gives %.17g", c.name().c_str(),
                              impl.name, i, got[i], want[i]);
                fail(text);
            }
            worst = std::max(worst, d);
        }
        std::fprintf(stderr, "check %s/%s against hand: max difference %.1e (tolerance %.0e)\n", c.name().c_str(),
                     impl.name, worst, tolerance(c));
    }
}

void time_kernel(benchmark::State& state, const case_spec& c, const implementation& impl)
{
    static std::set<std::string> checked;
    if (checked.insert(c.name()).second)
        check_case(c);
    const auto k = impl.make(c);
    for (auto _ : state) {
        k->run();
        benchmark::ClobberMemory();
    }
    if (c.bytes() > 0) {
        state.SetBytesProcessed(static_cast<std::int64_t>(static_cast<double>(state.iterations()) * c.bytes()));
        state.counters["bytes"] = c.bytes(); // per iteration, for scripts/bench_tensor_ratios.py
    }
    state.counters["n"] = static_cast<double>(c.n);
}

} // namespace
} // namespace etape_tensor_bench

int main(int argc, char** argv)
{
    using namespace etape_tensor_bench;
#if ETAPE_BENCH_HAVE_TORCH
    torch_single_thread();
#endif
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    static const std::vector<case_spec> cases = all_cases();
    static const std::vector<implementation> impls = implementations();
    for (const case_spec& c : cases)
        for (const implementation& impl : impls) {
            if (!impl.has(c.what))
                continue;
            benchmark::RegisterBenchmark(("tensor/" + c.name() + "/" + impl.name).c_str(),
                                         [&c, &impl](benchmark::State& state) { time_kernel(state, c, impl); })
                ->Unit(benchmark::kMicrosecond);
        }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
