// Why the tape leaves a gap before a large block of slots (docs/tape.md,
// "Growth and reuse"): ELU's reverse from the output, dx = dy * elu'(y), at
// 2^25 doubles, over three separate arrays and over one array that holds
// dx and then dy, with the two streams 2^25 + pad elements apart, as a
// tape's adjoints of an input tensor and of the node recorded after it are
// (pad 0: no gap). Standalone (no Google Benchmark); median of 15 runs:
//
//   g++ -std=c++20 -O3 -march=native -DNDEBUG bench/simd/stream_distance.cpp -o stream_distance && ./stream_distance
#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "../standalone_timing.hpp"

namespace {

using V = xsimd::batch<double>;

[[gnu::noinline]] void elu_backward(const double* __restrict y, const double* __restrict dy,
                                    double* __restrict dx, std::size_t n)
{
    for (std::size_t i = 0; i + V::size <= n; i += V::size) {
        const V v = V::load_unaligned(y + i);
        const V slope = xsimd::select(v > V(0.0), V(1.0), v + V(1.0));
        (V::load_unaligned(dy + i) * slope).store_unaligned(dx + i);
    }
}

} // namespace

int main()
{
    const std::size_t n = std::size_t{1} << 25;
    std::vector<double> y(n, -0.5), dy(n, 0.3), dx(n);
    std::printf("separate arrays: %.2f ms\n", etape_bench::median_ms([&] { elu_backward(y.data(), dy.data(), dx.data(), n); }, 15));
    for (const std::size_t pad : {0, 8, 64, 512, 4096}) {
        const auto adjoints = std::make_unique<double[]>(2 * n + pad + 1);
        std::fill_n(adjoints.get(), 2 * n + pad + 1, 0.1);
        double* const adj_x = adjoints.get() + 1;
        double* const adj_y = adj_x + n + pad;
        std::printf("one array, streams 2^25 + %4zu elements apart: %.2f ms\n", pad,
                    etape_bench::median_ms([&] { elu_backward(y.data(), adj_y, adj_x, n); }, 15));
    }
}
