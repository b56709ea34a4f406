// Measures the two SIMD libraries Debian packages for vectorized math, xsimd
// and Highway, on the functions the fused tensor kernels call: speed at
// n = 2^20 against scalar libm, and the largest ulp distance to libm.
// Standalone (no etape, no Google Benchmark); docs/tensors.md, "Vectorized
// math", gives the command and the numbers it printed.
#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>
#include <xsimd/xsimd.hpp>

namespace hn = hwy::HWY_NAMESPACE;

namespace {

template <class T>
std::int64_t ordered(T x)
{
    if constexpr (sizeof(T) == 4) {
        const auto i = std::bit_cast<std::int32_t>(x);
        return i < 0 ? std::int64_t(std::numeric_limits<std::int32_t>::min()) - i : i;
    } else {
        const auto i = std::bit_cast<std::int64_t>(x);
        return i < 0 ? std::numeric_limits<std::int64_t>::min() - i : i;
    }
}

template <class T>
double ulp_distance(T a, T b)
{
    if (std::isnan(a) && std::isnan(b))
        return 0;
    if (std::isnan(a) || std::isnan(b))
        return 1e30;
    const std::int64_t oa = ordered(a), ob = ordered(b); // unsigned difference: exact, no overflow
    return double(oa > ob ? std::uint64_t(oa) - std::uint64_t(ob) : std::uint64_t(ob) - std::uint64_t(oa));
}

enum class fn { exp, expm1, log, tanh, erf };
const char* name(fn f)
{
    switch (f) {
    case fn::exp: return "exp";
    case fn::expm1: return "expm1";
    case fn::log: return "log";
    case fn::tanh: return "tanh";
    default: return "erf";
    }
}

template <class T>
T scalar(fn f, T x)
{
    switch (f) {
    case fn::exp: return std::exp(x);
    case fn::expm1: return std::expm1(x);
    case fn::log: return std::log(x);
    case fn::tanh: return std::tanh(x);
    default: return std::erf(x);
    }
}

template <class T>
void run_scalar(fn f, const T* x, T* y, std::size_t n)
{
    switch (f) {
    case fn::exp: for (std::size_t i = 0; i < n; ++i) y[i] = std::exp(x[i]); break;
    case fn::expm1: for (std::size_t i = 0; i < n; ++i) y[i] = std::expm1(x[i]); break;
    case fn::log: for (std::size_t i = 0; i < n; ++i) y[i] = std::log(x[i]); break;
    case fn::tanh: for (std::size_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]); break;
    default: for (std::size_t i = 0; i < n; ++i) y[i] = std::erf(x[i]); break;
    }
}

template <class T>
void run_xsimd(fn f, const T* x, T* y, std::size_t n)
{
    using b = xsimd::batch<T>;
    std::size_t i = 0;
    switch (f) {
    case fn::exp: for (; i < n; i += b::size) xsimd::exp(b::load_unaligned(x + i)).store_unaligned(y + i); break;
    case fn::expm1: for (; i < n; i += b::size) xsimd::expm1(b::load_unaligned(x + i)).store_unaligned(y + i); break;
    case fn::log: for (; i < n; i += b::size) xsimd::log(b::load_unaligned(x + i)).store_unaligned(y + i); break;
    case fn::tanh: for (; i < n; i += b::size) xsimd::tanh(b::load_unaligned(x + i)).store_unaligned(y + i); break;
    default: for (; i < n; i += b::size) xsimd::erf(b::load_unaligned(x + i)).store_unaligned(y + i); break;
    }
}

template <class T>
void run_hwy(fn f, const T* x, T* y, std::size_t n)
{
    const hn::ScalableTag<T> d;
    const std::size_t w = hn::Lanes(d);
    std::size_t i = 0;
    switch (f) {
    case fn::exp: for (; i < n; i += w) hn::StoreU(hn::Exp(d, hn::LoadU(d, x + i)), d, y + i); break;
    case fn::expm1: for (; i < n; i += w) hn::StoreU(hn::Expm1(d, hn::LoadU(d, x + i)), d, y + i); break;
    case fn::log: for (; i < n; i += w) hn::StoreU(hn::Log(d, hn::LoadU(d, x + i)), d, y + i); break;
    case fn::tanh: for (; i < n; i += w) hn::StoreU(hn::Tanh(d, hn::LoadU(d, x + i)), d, y + i); break;
    default: break; // Highway 1.0.3 has no Erf
    }
}

template <class Run>
double ns_per_element(Run&& run, std::size_t n)
{
    double best = 1e30;
    for (int rep = 0; rep < 15; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        run();
        const auto t1 = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count() / double(n));
    }
    return best;
}

template <class T>
void measure(const char* type)
{
    const std::size_t n = std::size_t(1) << 20;
    std::mt19937_64 gen(42);
    for (fn f : {fn::exp, fn::expm1, fn::log, fn::tanh, fn::erf}) {
        // inputs spread over the range where the function is neither 0 nor inf
        const T lo = f == fn::log ? T(1e-30) : (f == fn::tanh || f == fn::erf ? T(-6) : T(-80));
        const T hi = f == fn::log ? T(1e30) : (f == fn::tanh || f == fn::erf ? T(6) : T(80));
        std::vector<T> x(n), ys(n), yx(n), yh(n);
        if (f == fn::log) {
            std::uniform_real_distribution<double> e{std::log(double(lo)), std::log(double(hi))};
            for (auto& v : x) v = T(std::exp(e(gen)));
        } else {
            std::uniform_real_distribution<double> u{double(lo), double(hi)};
            for (auto& v : x) v = T(u(gen));
            for (std::size_t i = 0; i < n / 4; ++i) x[i] = T(u(gen) * 1e-3); // and a quarter near 0
        }
        const double ts = ns_per_element([&] { run_scalar<T>(f, x.data(), ys.data(), n); }, n);
        const double tx = ns_per_element([&] { run_xsimd<T>(f, x.data(), yx.data(), n); }, n);
        const double th = ns_per_element([&] { run_hwy<T>(f, x.data(), yh.data(), n); }, n);
        double ux = 0, uh = 0;
        for (std::size_t i = 0; i < n; ++i) {
            ux = std::max(ux, ulp_distance(yx[i], ys[i]));
            uh = std::max(uh, ulp_distance(yh[i], ys[i]));
        }
        if (f == fn::erf)
            std::printf("%-6s %-5s  libm %6.3f ns  xsimd %6.3f ns (x%5.2f, max %3.0f ulp)  highway: no erf in 1.0.3\n",
                        type, name(f), ts, tx, ts / tx, ux);
        else
            std::printf("%-6s %-5s  libm %6.3f ns  xsimd %6.3f ns (x%5.2f, max %3.0f ulp)  highway %6.3f ns (x%5.2f, max %3.0f ulp)\n",
                        type, name(f), ts, tx, ts / tx, ux, th, ts / th, uh);
    }
}

} // namespace

int main()
{
    std::printf("n = 2^20, best of 15; ulp distances to glibc's scalar result\n");
    measure<float>("float");
    measure<double>("double");
}
