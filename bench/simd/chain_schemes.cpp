// Why the chain benchmark's fused sum stores its partials instead of
// recomputing them in the reverse (docs/tensors.md, "What puts etape at
// the hand loops' speed"): loss = sum(elu(a x + b) c + d) and dloss/dx at
// 2^22 floats, three ways, with xsimd:
//   one pass     value and dx in one loop (the hand-written baseline);
//   stored       a forward that sums the values and stores dz/dx, then a
//                reverse that scales them by the loss's adjoint (a tape);
//   recomputed   a forward of values only, then a reverse that computes
//                dz/dx again from x (a tape that keeps the expression).
// Standalone (no Google Benchmark); median of 31 runs:
//
//   g++ -std=c++20 -O3 -march=native -DNDEBUG bench/simd/chain_schemes.cpp -o chain_schemes && ./chain_schemes
#include <cmath>
#include <cstdio>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "../standalone_timing.hpp"

namespace {

using V = xsimd::batch<float>;

constexpr float a = 1.3f;
constexpr float b = -0.2f;
constexpr float c = 0.7f;
constexpr float d = 0.1f;

V elu(V t)
{
    return xsimd::select(t > V(0.0f), t, xsimd::expm1(t));
}

/// dz/dx from y = elu(a x + b): a c (y > 0 ? 1 : y + 1).
V partial_from_output(V y)
{
    return V(a * c) * xsimd::select(y > V(0.0f), V(1.0f), y + V(1.0f));
}

[[gnu::noinline]] float one_pass(const float* __restrict x, float* __restrict dx, std::size_t n)
{
    V sum(0.0f);
    for (std::size_t i = 0; i + V::size <= n; i += V::size) {
        const V y = elu(V(a) * V::load_unaligned(x + i) + V(b));
        sum += y * V(c) + V(d);
        partial_from_output(y).store_unaligned(dx + i);
    }
    return xsimd::hadd(sum);
}

[[gnu::noinline]] float forward_storing(const float* __restrict x, float* __restrict partials, std::size_t n)
{
    return one_pass(x, partials, n); // the same loop, into the tape's partials
}

[[gnu::noinline]] float forward_values(const float* __restrict x, std::size_t n)
{
    V sum(0.0f);
    for (std::size_t i = 0; i + V::size <= n; i += V::size)
        sum += elu(V(a) * V::load_unaligned(x + i) + V(b)) * V(c) + V(d);
    return xsimd::hadd(sum);
}

[[gnu::noinline]] void reverse_stored(const float* __restrict partials, float* __restrict dx, float seed,
                                      std::size_t n)
{
    for (std::size_t i = 0; i + V::size <= n; i += V::size)
        (V(seed) * V::load_unaligned(partials + i)).store_unaligned(dx + i);
}

[[gnu::noinline]] void reverse_recomputed(const float* __restrict x, float* __restrict dx, float seed, std::size_t n)
{
    for (std::size_t i = 0; i + V::size <= n; i += V::size)
        (V(seed) * partial_from_output(elu(V(a) * V::load_unaligned(x + i) + V(b)))).store_unaligned(dx + i);
}

} // namespace

int main()
{
    constexpr std::size_t n = std::size_t{1} << 22;
    constexpr int runs = 31;
    std::vector<float> x(n);
    std::vector<float> dx(n);
    std::vector<float> partials(n);
    for (std::size_t i = 0; i < n; ++i)
        x[i] = 3.0f * std::sin(0.37f * static_cast<float>(i)); // half the elements negative, as the benchmark's
    volatile float loss = 0;
    const double hand = etape_bench::median_ms([&] { loss = one_pass(x.data(), dx.data(), n); }, runs);
    const double stored = etape_bench::median_ms(
        [&] {
            loss = forward_storing(x.data(), partials.data(), n);
            reverse_stored(partials.data(), dx.data(), 1.0f, n);
        },
        runs);
    const double recomputed = etape_bench::median_ms(
        [&] {
            loss = forward_values(x.data(), n);
            reverse_recomputed(x.data(), dx.data(), 1.0f, n);
        },
        runs);
    std::printf("2^22 floats, median of %d: one pass %.3f ms, stored %.3f ms (%.2f), recomputed %.3f ms (%.2f)\n",
                runs, hand, stored, stored / hand, recomputed, recomputed / hand);
}
