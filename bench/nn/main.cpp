// etape_bench_nn: one training step of four networks (forward, softmax
// cross-entropy, backward, optimizer update), etape's nn API against a
// hand-written step (OpenBLAS and fused loops) and, where libtorch was found
// at build, libtorch. Float, one thread everywhere.
//
// Benchmark names are  nn/<case>/<impl>  with
//   case  mlp_small, mlp_large, cnn, lstm (nn_cases.hpp says what each is);
//   impl  hand, etape, torch.
// Each etape and torch benchmark reports the counter vs_hand: its CPU time
// per step over hand's, hand's being the last one measured in the same
// process (a short timing at the check seeds it, so that the ratio exists
// whatever order the repetitions run in). scripts/bench_nn.sh prints the
// table of medians over every repetition, which is the number to quote.
//
// Before the first benchmark of a case is timed, every implementation takes
// one step from the case's starting parameters, and its loss and updated
// parameters are compared with hand's: a difference above 1e-4 (relative to
// the loss, and to the largest magnitude in each parameter tensor) aborts
// the program.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <cblas.h>

#include "nn_cases.hpp"

namespace etape_nn_bench {
namespace {

constexpr double tolerance = 1e-4;

struct implementation {
    const char* name;
    std::function<std::unique_ptr<training_step>(const case_data&)> make;
};

std::vector<implementation> implementations()
{
    std::vector<implementation> impls{{"hand", make_hand}, {"etape", make_etape}};
#if ETAPE_BENCH_HAVE_TORCH
    impls.push_back({"torch", make_torch});
#endif
    return impls;
}

[[noreturn]] void fail(const std::string& message)
{
    std::fprintf(stderr, "\netape_bench_nn: CHECK FAILED: %s\n", message.c_str());
    std::fprintf(stderr, "etape_bench_nn: refusing to time a wrong training step; aborting.\n");
    std::fflush(stderr);
    std::abort();
}

/// The CPU time of this thread, in seconds (what Google Benchmark's cpu_time
/// measures for a single-threaded benchmark).
double thread_seconds()
{
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

/// hand's latest CPU seconds per step, by case.
std::map<std::string, double>& hand_seconds()
{
    static std::map<std::string, double> seconds;
    return seconds;
}

/// One step of every implementation from the case's starting parameters,
/// compared with hand's; aborts on a mismatch. Then times hand for a
/// moment, so that the first vs_hand counter has a baseline.
void check_case(const case_data& c)
{
    std::vector<double> want;
    {
        const auto hand = make_hand(c);
        hand->run();
        want = hand->result();
    }
    if (want.size() != 1 + c.parameter_count())
        fail(c.name() + "/hand: " + std::to_string(want.size()) + " results, expected the loss and " +
             std::to_string(c.parameter_count()) + " parameters");
    for (const double w : want)
        if (!std::isfinite(w))
            fail(c.name() + "/hand: a non-finite loss or parameter");
    for (const implementation& impl : implementations()) {
        if (std::string(impl.name) == "hand")
            continue;
        std::vector<double> got;
        {
            const auto step = impl.make(c);
            step->run();
            got = step->result();
        }
        const std::string who = c.name() + "/" + impl.name;
        if (got.size() != want.size())
            fail(who + ": " + std::to_string(got.size()) + " results, hand gives " + std::to_string(want.size()));
        double worst = std::abs(got[0] - want[0]) / std::abs(want[0]);
        if (!(worst <= tolerance))
            fail(who + ": loss " + std::to_string(got[0]) + " but hand gives " + std::to_string(want[0]));
        std::size_t at = 1;
        for (const parameter& p : c.parameters) {
            const std::size_t n = p.values.size();
            double scale = 0;
            for (std::size_t k = at; k < at + n; ++k)
                scale = std::max(scale, std::abs(want[k]));
            for (std::size_t k = at; k < at + n; ++k) {
                const double d = std::abs(got[k] - want[k]) / scale;
                if (!(d <= tolerance)) {
                    char text[320];
                    std::snprintf(text, sizeof text, "%s: %s[%zu] = %.9g after one step, but hand gives %.9g",
                                  who.c_str(), p.name.c_str(), k - at, got[k], want[k]);
                    fail(text);
                }
                worst = std::max(worst, d);
            }
            at += n;
        }
        std::fprintf(stderr, "check %s against hand: loss %.6f, max difference %.1e (tolerance %.0e)\n", who.c_str(),
                     got[0], worst, tolerance);
    }
    const auto hand = make_hand(c);
    hand->run();
    std::size_t steps = 0;
    const double begin = thread_seconds();
    double now = begin;
    while (steps < 3 || now - begin < 0.2) {
        hand->run();
        ++steps;
        now = thread_seconds();
    }
    hand_seconds()[c.name()] = (now - begin) / static_cast<double>(steps);
}

void time_step(benchmark::State& state, const case_data& c, const implementation& impl)
{
    static std::set<std::string> checked;
    if (checked.insert(c.name()).second)
        check_case(c);
    const auto step = impl.make(c);
    step->run(); // the first step grows the buffers (etape's tape, torch's caches)
    const double begin = thread_seconds();
    for (auto _ : state) {
        step->run();
        benchmark::ClobberMemory();
    }
    const double per_step = (thread_seconds() - begin) / static_cast<double>(state.iterations());
    if (std::string(impl.name) == "hand")
        hand_seconds()[c.name()] = per_step;
    else
        state.counters["vs_hand"] = per_step / hand_seconds().at(c.name());
}

} // namespace
} // namespace etape_nn_bench

int main(int argc, char** argv)
{
    using namespace etape_nn_bench;
    // one thread: OpenBLAS read OPENBLAS_NUM_THREADS when it was loaded,
    // before main, so a setenv here would come too late
    openblas_set_num_threads(1);
#if ETAPE_BENCH_HAVE_TORCH
    torch_single_thread();
#endif
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    static const std::vector<implementation> impls = implementations();
    for (const case_data& c : all_cases())
        for (const implementation& impl : impls)
            benchmark::RegisterBenchmark(("nn/" + c.name() + "/" + impl.name).c_str(), [&c, &impl](
                                                                                           benchmark::State& state) {
                time_step(state, c, impl);
            })->Unit(benchmark::kMicrosecond);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
