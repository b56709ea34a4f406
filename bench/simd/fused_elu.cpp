// Times etape's fused ELU kernels against hand-written xsimd loops at
// n = 2^20 .. 2^25 (float): y = elu(x) forward and its reverse, and the
// forward of elu(a * x + b) * c + d. Standalone (no Google Benchmark): a
// quick check of the vectorized path; docs/tensors.md, "Standalone
// programs", gives the command. The tape is rewound between repetitions, so
// its arena is reused as in a training loop.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include <etape/etape.hpp>
#include <xsimd/xsimd.hpp>

namespace {

using T = float;
using V = xsimd::batch<T>;

template <class Run>
double best_ms(Run&& run, int reps)
{
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        run();
        const auto t1 = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    return best;
}

void hand_elu_forward(const T* x, T* y, std::size_t n)
{
    std::size_t i = 0;
    for (; i + V::size <= n; i += V::size) {
        const V v = V::load_unaligned(x + i);
        xsimd::select(v > V(0), v, xsimd::expm1(v)).store_unaligned(y + i);
    }
    for (; i < n; ++i)
        y[i] = x[i] > 0 ? x[i] : std::expm1(x[i]);
}

void hand_elu_reverse(const T* y, const T* dy, T* dx, std::size_t n)
{
    std::size_t i = 0;
    for (; i + V::size <= n; i += V::size) {
        const V v = V::load_unaligned(y + i);
        const V d = V::load_unaligned(dy + i) * xsimd::select(v > V(0), V(1), v + V(1));
        (V::load_unaligned(dx + i) + d).store_unaligned(dx + i);
    }
    for (; i < n; ++i)
        dx[i] += dy[i] * (y[i] > 0 ? T(1) : y[i] + T(1));
}

/// elu(a x + b) c + d and its partials with respect to x, a, b, c (d's is 1):
/// what the fused node stores, written by hand.
void hand_expression_forward(const T* x, T a, T b, T c, T d, T* y, T* jx, T* ja, T* jb, T* jc, std::size_t n)
{
    std::size_t i = 0;
    for (; i + V::size <= n; i += V::size) {
        const V xv = V::load_unaligned(x + i);
        const V u = V(a) * xv + V(b);
        const V e = xsimd::select(u > V(0), u, xsimd::expm1(u));
        const V de = xsimd::select(e > V(0), V(1), e + V(1)) * V(c);
        (e * V(c) + V(d)).store_unaligned(y + i);
        (de * V(a)).store_unaligned(jx + i);
        (de * xv).store_unaligned(ja + i);
        de.store_unaligned(jb + i);
        e.store_unaligned(jc + i);
    }
    for (; i < n; ++i) {
        const T u = a * x[i] + b;
        const T e = u > 0 ? u : std::expm1(u);
        const T de = (e > 0 ? T(1) : e + T(1)) * c;
        y[i] = e * c + d;
        jx[i] = de * a;
        ja[i] = de * x[i];
        jb[i] = de;
        jc[i] = e;
    }
}

} // namespace

int main()
{
    std::printf("float, xsimd batch of %zu lanes; best of N repetitions, ms; ratio = etape / hand-written\n", V::size);
    std::printf("%10s | %-28s | %-28s | %-28s\n", "n", "elu(x) forward", "elu(x) reverse", "elu(a*x+b)*c+d forward");
    for (int log2n = 20; log2n <= 25; ++log2n) {
        const std::size_t n = std::size_t(1) << log2n;
        const int reps = log2n <= 22 ? 30 : 8;
        std::vector<T> xs(n), y(n), dy(n, T(0.5)), dx(n, T(0)), j1(n), j2(n), j3(n), j4(n);
        for (std::size_t i = 0; i < n; ++i)
            xs[i] = T(std::sin(0.001 * double(i)) * 4.0);

        etape::tape_scope<T> scope;
        const etape::active_tensor<T> x(etape::tensor<T>({n}, xs));
        etape::var<T> a = T(0.5), b = T(-0.25), c = T(2), d = T(1);
        const auto mark = scope.get().position();

        const double hand_f = best_ms([&] { hand_elu_forward(xs.data(), y.data(), n); }, reps);
        const double etape_f = best_ms([&] {
            scope.get().rewind(mark);
            const etape::active_tensor<T> z = etape::elu(x);
            (void)z;
        }, reps);

        hand_elu_forward(xs.data(), y.data(), n);
        const double hand_r = best_ms([&] { hand_elu_reverse(y.data(), dy.data(), dx.data(), n); }, reps);
        scope.get().rewind(mark);
        const etape::active_tensor<T> z = etape::elu(x);
        scope.get().clear_adjoints();
        for (std::size_t i = 0; i < n; ++i)
            scope.get().adjoint(static_cast<etape::slot_index>(z.first_slot() + i)) = T(0.5);
        const double etape_r = best_ms([&] { scope.get().sweep_to(mark); }, reps); // the elu node alone

        const double hand_e = best_ms([&] {
            hand_expression_forward(xs.data(), T(0.5), T(-0.25), T(2), T(1), y.data(), dx.data(), j1.data(), j2.data(),
                                    j3.data(), n);
        }, reps);
        const double etape_e = best_ms([&] {
            scope.get().rewind(mark);
            const etape::active_tensor<T> w = etape::elu(a * x + b) * c + d;
            (void)w;
        }, reps);
        (void)j4;
        std::printf("%10zu | %7.3f vs %7.3f  x%5.2f | %7.3f vs %7.3f  x%5.2f | %7.3f vs %7.3f  x%5.2f\n", n, etape_f,
                    hand_f, etape_f / hand_f, etape_r, hand_r, etape_r / hand_r, etape_e, hand_e, etape_e / hand_e);
    }
}
