// tape/first_recording: the cost of a tape's first long recording, when
// its memory is obtained and touched for the first time, against recording
// the same statements again on the memory a rewind kept, and against the
// same loop on plain doubles. One iteration: a fresh tape records
// `statements` statements (first), rewinds, records them again
// (re-recording); the loop on doubles runs in the same iteration, and so
// does a memset of as many bytes of memory obtained fresh from the system
// as the tape holds (what first touching that memory costs the machine
// alone). The reported time is the first recording's; the counters give
// each figure in nanoseconds per statement, and first / again.
//
//   ./bench/etape_bench_scalar --benchmark_filter='^tape/first_recording'
#include <chrono>
#include <cstddef>
#include <cstring>
#include <memory>

#include <benchmark/benchmark.h>

#include <etape/etape.hpp>

namespace {

constexpr std::size_t statements = 50'000'000;

/// y <- elu(a y + b), one statement of three operands per step (40 bytes
/// of tape in double).
template <class S>
S recurrence(S y, const S& a, const S& b, std::size_t steps)
{
    for (std::size_t i = 0; i < steps; ++i)
        y = etape::elu(a * y + b);
    return y;
}

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void first_recording(benchmark::State& state)
{
    double first = 0, again = 0, plain = 0, touch = 0;
    for (auto _ : state) {
        etape::tape_scope<double> scope; // a fresh tape: nothing obtained yet
        etape::tape<double>& tape = scope.get();
        const etape::var<double> a = 0.5, b = -0.25, y0 = 0.75;
        const etape::tape_position start = tape.position();

        auto clock = std::chrono::steady_clock::now();
        etape::var<double> y = recurrence(y0, a, b, statements);
        const double first_seconds = seconds_since(clock);
        benchmark::DoNotOptimize(y.value());

        tape.rewind(start);
        clock = std::chrono::steady_clock::now();
        y = recurrence(y0, a, b, statements);
        const double again_seconds = seconds_since(clock);
        benchmark::DoNotOptimize(y.value());

        clock = std::chrono::steady_clock::now();
        double p = 0.75;
        p = recurrence(p, 0.5, -0.25, statements);
        benchmark::DoNotOptimize(p);
        const double plain_seconds = seconds_since(clock);

        const std::size_t bytes = tape.stats().capacity_bytes;
        clock = std::chrono::steady_clock::now();
        const std::unique_ptr<char[]> fresh(new char[bytes]);
        std::memset(fresh.get(), 1, bytes);
        benchmark::DoNotOptimize(fresh.get());
        const double touch_seconds = seconds_since(clock);

        state.SetIterationTime(first_seconds);
        first += first_seconds;
        again += again_seconds;
        plain += plain_seconds;
        touch += touch_seconds;
    }
    const double per_statement = 1e9 / static_cast<double>(statements) / static_cast<double>(state.iterations());
    state.counters["first_ns"] = first * per_statement;
    state.counters["again_ns"] = again * per_statement;
    state.counters["plain_ns"] = plain * per_statement;
    state.counters["fresh_memory_ns"] = touch * per_statement;
    state.counters["first_vs_again"] = first / again;
}

} // namespace

BENCHMARK(first_recording)->Name("tape/first_recording")->UseManualTime()->Iterations(1)->Repetitions(3)
    ->Unit(benchmark::kMillisecond);
