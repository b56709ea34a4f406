// What clear_and_sweep's plan costs on a long tape of small nodes
// (docs/tape.md, "First writers"): 20,000 steps of h = tanh(h * q + 0.01)
// over 8 elements, with a statement between nodes, then the gradient with
// respect to the first h, by etape::gradient (planned) and by the plain
// clear_adjoints + seed + sweep, each the median of 21 after a warm-up.
// Standalone (no Google Benchmark):
//
//   g++ -std=c++20 -O2 -DNDEBUG -Iinclude bench/tape/plan_cost.cpp -o plan_cost -lfmt && ./plan_cost
#include <cstdio>
#include <vector>

#include <etape/etape.hpp>

#include "../standalone_timing.hpp"

namespace {

/// The median of 21 gradients after one that allocates and touches the adjoints.
template <class F>
double warm_median_ms(F f)
{
    f();
    return etape_bench::median_ms(f, 21);
}

} // namespace

int main()
{
    etape::tape_scope<double> scope;
    etape::tape<double>& t = scope.get();
    const etape::active_tensor<double> x(etape::tensor<double>(etape::shape{8}, std::vector<double>(8, 0.1)));
    const etape::var<double> p = 0.5;
    etape::active_tensor<double> h = x;
    constexpr int steps = 20000;
    for (int s = 0; s < steps; ++s) {
        const etape::var<double> q = p * 1.0001; // a statement between two nodes
        h = etape::tanh(h * q + 0.01);
    }
    const etape::var<double> loss = etape::sum(h);
    const double planned = warm_median_ms([&] { (void)etape::gradient(loss, x); });
    const double plain = warm_median_ms([&] {
        t.clear_adjoints();
        t.adjoint(loss.slot()) = 1;
        t.sweep(loss.slot() + 1, x.first_slot());
    });
    std::printf("%d nodes: etape::gradient %.3f ms, plain clear and sweep %.3f ms\n", steps + 1, planned, plain);
}
