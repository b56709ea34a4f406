// The same gradient written in several ways: how the way scalar code is
// written moves what the tape records and what its sweep waits for
// (docs/performance.md, "Writing code that records fast"). The function is
// the scalar benchmark's normal_lpdf, sum_i -(1/2)((y_i - mu)/sigma)^2 -
// log sigma over its 1,000 observations, differentiated with respect to mu
// and sigma; its hand-written adjoint is the baseline. Each style's gradient
// is compared with the hand-written one first (the program stops on a
// relative difference above 1e-10), then timed: seven rounds over all the
// styles, each the median of 301 gradients, and a style's time is the
// median of its rounds. A gradient registers the inputs, records, sweeps
// and rewinds the tape, as the benchmark's etape runner does. Standalone (no Google
// Benchmark):
//
//   g++ -std=c++20 -O3 -march=native -DNDEBUG -DETAPE_HAS_XSIMD=1 -Iinclude
//       bench/tape/writing_styles.cpp -o writing_styles -lfmt && ./writing_styles
//
// (one line).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <span>
#include <vector>

#include <etape/etape.hpp>
#include <etape/tensor.hpp>

#include "../scalar/cases.hpp"
#include "../standalone_timing.hpp"

namespace {

using var = etape::var<double>;
using observations = std::vector<double>;

/// As the benchmark writes it: a var z per term, log(sigma) in every term.
var as_the_benchmark(const var& mu, const var& sigma, const observations& y)
{
    var lp = 0.0;
    for (const double yi : y) {
        const var z = (yi - mu) / sigma;
        lp += -0.5 * z * z - log(sigma);
    }
    return lp;
}

/// log(sigma) recorded once, before the loop.
var log_once(const var& mu, const var& sigma, const observations& y)
{
    const var log_sigma = log(sigma);
    var lp = 0.0;
    for (const double yi : y) {
        const var z = (yi - mu) / sigma;
        lp += -0.5 * z * z - log_sigma;
    }
    return lp;
}

/// The loop sums squares; n log(sigma) once, after it.
var log_after_the_loop(const var& mu, const var& sigma, const observations& y)
{
    var squares = 0.0;
    for (const double yi : y) {
        const var z = (yi - mu) / sigma;
        squares += z * z;
    }
    return -0.5 * squares - static_cast<double>(y.size()) * log(sigma);
}

/// As above, with z an expression instead of a var: each `squares += z * z`
/// then extends the statement of `squares` (docs/tape.md, "Compound
/// assignment extends the last statement"), so the loop is one statement.
var one_statement(const var& mu, const var& sigma, const observations& y)
{
    var squares = 0.0;
    for (const double yi : y) {
        const auto z = (yi - mu) / sigma;
        squares += z * z;
    }
    return -0.5 * squares - static_cast<double>(y.size()) * log(sigma);
}

/// The observations as a value tensor: one fused node.
class as_a_tensor {
public:
    explicit as_a_tensor(const observations& y) : y_(etape::shape{y.size()}, y) {}

    var operator()(const var& mu, const var& sigma) const
    {
        const auto z = (y_ - mu) / sigma;
        return etape::sum(-0.5 * z * z - log(sigma));
    }

private:
    etape::tensor<double> y_;
};

/// The value and gradient of `lpdf(mu, sigma)` at `at`, recorded on the
/// active tape, which is rewound to where it was.
template <class F>
std::array<double, 3> value_and_gradient(F lpdf, std::span<const double> at)
{
    etape::tape<double>& t = etape::active_tape<double>();
    const etape::tape_position start = t.position();
    std::array<var, 2> x;
    etape::register_inputs(std::span<var>(x), at);
    const var lp = lpdf(x[0], x[1]);
    std::array<double, 2> g{};
    etape::gradient_into(lp, std::span<const var>(x), std::span<double>(g));
    t.rewind(start);
    return {lp.value(), g[0], g[1]};
}

/// Stops the program unless got and want agree to 1e-10 relative.
void require_agreement(const char* style, const std::array<double, 3>& got, const std::array<double, 3>& want)
{
    for (std::size_t i = 0; i < got.size(); ++i) {
        const double scale = std::max(std::abs(got[i]), std::abs(want[i]));
        if (scale > 0 && std::abs(got[i] - want[i]) / scale > 1e-10) {
            std::printf("%s: component %zu is %.17g, the hand-written adjoint gives %.17g\n", style, i, got[i],
                        want[i]);
            std::exit(1);
        }
    }
}

/// A way of computing the gradient, timed by the rounds of main.
struct style {
    const char* name;
    std::function<void()> run;
};

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

} // namespace

int main()
{
    const etape_bench::normal_lpdf c(1000);
    const std::span<const double> at(c.inputs);
    std::array<double, 2> hand_gradient{};
    const auto hand = [&] {
        asm volatile("" : : : "memory"); // the inputs may have changed: compute anew every time
        const double value = c.hand(at, hand_gradient);
        asm volatile("" : : "x"(value) : "memory"); // and the results are used
        return value;
    };
    const double hand_value = hand();
    const std::array<double, 3> want{hand_value, hand_gradient[0], hand_gradient[1]};

    etape::tape_scope<double> scope;
    const as_a_tensor tensor_form(c.y);
    std::vector<style> styles{{"hand-written adjoint", [&] { (void)hand(); }}};
    const auto add = [&](const char* name, auto lpdf) {
        require_agreement(name, value_and_gradient(lpdf, at), want);
        styles.push_back({name, [lpdf, at] { (void)value_and_gradient(lpdf, at); }});
    };
    const auto scalar = [&c](auto written) {
        return [&c, written](const var& mu, const var& sigma) { return written(mu, sigma, c.y); };
    };
    add("as the benchmark", scalar(as_the_benchmark));
    add("log once", scalar(log_once));
    add("log after the loop", scalar(log_after_the_loop));
    add("one statement", scalar(one_statement));
    add("a tensor expression", tensor_form);

    // Rounds over all styles, so that a burst of load on the machine falls
    // on every style alike; a style's time is the median of its rounds.
    constexpr int rounds = 7;
    constexpr int gradients_per_round = 301;
    std::vector<std::vector<double>> round_us(styles.size());
    for (int r = 0; r < rounds; ++r)
        for (std::size_t s = 0; s < styles.size(); ++s)
            round_us[s].push_back(etape_bench::median_ms(styles[s].run, gradients_per_round) * 1e3);
    const double hand_us = median(round_us[0]);
    std::printf("%-22s %8s %12s\n", "style", "us", "of the hand");
    for (std::size_t s = 0; s < styles.size(); ++s)
        std::printf("%-22s %8.2f %12.2f\n", styles[s].name, median(round_us[s]), median(round_us[s]) / hand_us);
}
