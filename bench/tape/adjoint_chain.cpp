// What one adjoint update costs when the next update of the same adjoint
// waits for it: the floor under a reverse sweep that adds each operand's
// contribution into the adjoint vector in memory, statement by statement
// (docs/performance.md, "The floor under the two misses"). Three loops of the
// sweep's shape, adj[slot[k]] += partial[k] * seed, over one million
// operands whose slots are read from memory, so the compiler cannot keep an
// adjoint in a register:
//
//   one chain    every slot the same: each update loads what the last stored
//   two chains   slots alternate between two adjoints
//   no chain     every slot different (the same work, no waiting)
//
// each the median of 21 runs, in ns per update. Standalone (no Google Benchmark):
//
//   g++ -std=c++20 -O2 -DNDEBUG bench/tape/adjoint_chain.cpp -o adjoint_chain && ./adjoint_chain
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <vector>

#include "../standalone_timing.hpp"

namespace {

constexpr std::size_t operands = 1 << 20;

/// The sweep's inner loop: not inlined, so its slots stay unknown to it.
[[gnu::noinline]] void accumulate(double* adjoints, const std::uint32_t* slots, const double* partials,
                                  std::size_t count, double seed)
{
    for (std::size_t k = 0; k < count; ++k)
        adjoints[slots[k]] += partials[k] * seed;
}

/// ns per update of accumulate over `slots`.
double ns_per_update(const std::vector<std::uint32_t>& slots)
{
    std::vector<double> adjoints(operands, 0.0);
    const std::vector<double> partials(operands, 0.5);
    volatile double seed_source = 1.0; // not a constant the compiler could fold into the loop
    const double seed = seed_source;
    const double ms = etape_bench::median_ms(
        [&] { accumulate(adjoints.data(), slots.data(), partials.data(), slots.size(), seed); }, 21);
    return ms * 1e6 / static_cast<double>(slots.size());
}

} // namespace

int main()
{
    const std::vector<std::uint32_t> one_chain(operands, 0);
    std::vector<std::uint32_t> two_chains(operands);
    for (std::size_t k = 0; k < operands; ++k)
        two_chains[k] = static_cast<std::uint32_t>(k % 2);
    std::vector<std::uint32_t> no_chain(operands);
    std::iota(no_chain.begin(), no_chain.end(), 0U);
    std::printf("one chain  %.2f ns per update\n", ns_per_update(one_chain));
    std::printf("two chains %.2f ns per update\n", ns_per_update(two_chains));
    std::printf("no chain   %.2f ns per update\n", ns_per_update(no_chain));
}
