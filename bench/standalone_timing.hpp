// The timing of the standalone programs under bench/ (simd/, tape/): the
// median wall time of a few runs. Google Benchmark does this for the suites.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace etape_bench {

/// The median of `runs` calls of f, in milliseconds.
template <class F>
double median_ms(F f, int runs)
{
    std::vector<double> times;
    for (int r = 0; r < runs; ++r) {
        const auto start = std::chrono::steady_clock::now();
        f();
        times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

} // namespace etape_bench
