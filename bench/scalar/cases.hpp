// The cases of the scalar benchmark, each written once:
//   f(in)            the function, a template on the scalar type S (double,
//                    etape::var<double>, Sacado::Rad::ADvar<double>, adouble),
//                    written as plain scalar code, the way double code reads;
//   hand(in, grad)   the value and the full gradient by hand-written reverse
//                    code (the adjoint of the same algorithm, on doubles);
//   inputs           the point the benchmark differentiates at (fixed data).
// `in` holds every input the gradient is taken with respect to.
//
// Unqualified calls (elu, exp, log) find each engine's overloads: etape's by
// argument-dependent lookup, the plain ones declared here, and the adapters
// that impl_sacado.cpp and impl_adolc.cpp declare next to their engines.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace etape_bench {

/// Deterministic numbers (SplitMix64): every engine and every run sees the
/// same inputs, independently of the standard library's distributions.
class input_stream {
public:
    explicit input_stream(std::uint64_t seed) : state_(seed) {}

    /// Uniform in [lo, hi).
    double uniform(double lo, double hi)
    {
        state_ += 0x9E3779B97F4A7C15ULL;
        std::uint64_t z = state_;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        const double unit = static_cast<double>(z >> 11) * 0x1.0p-53;
        return lo + (hi - lo) * unit;
    }

    std::vector<double> uniform(std::size_t n, double lo, double hi)
    {
        std::vector<double> v(n);
        for (double& x : v)
            x = uniform(lo, hi);
        return v;
    }

private:
    std::uint64_t state_;
};

/// ELU (alpha = 1) on plain doubles: x > 0 ? x : e^x - 1.
inline double elu(double x) { return x > 0 ? x : std::expm1(x); }

/// d elu / dx read from the output y = elu(x), as hand-written code does.
inline double elu_slope(double y) { return y > 0 ? 1.0 : y + 1.0; }

using std::exp;
using std::log;

// ---- (a) elu_mlp: 16-32-32-1 perceptron, ELU, squared error, one sample ----

struct elu_mlp {
    static constexpr std::size_t n_in = 16;
    static constexpr std::size_t n_h1 = 32;
    static constexpr std::size_t n_h2 = 32;
    // Parameter layout: W1 (n_h1 x n_in, row major), b1, W2 (n_h2 x n_h1), b2, w3 (n_h2), b3.
    static constexpr std::size_t w1 = 0;
    static constexpr std::size_t b1 = w1 + n_h1 * n_in;
    static constexpr std::size_t w2 = b1 + n_h1;
    static constexpr std::size_t b2 = w2 + n_h2 * n_h1;
    static constexpr std::size_t w3 = b2 + n_h2;
    static constexpr std::size_t b3 = w3 + n_h2;
    static constexpr std::size_t parameter_count = b3 + 1; // 1,633

    std::string name = "elu_mlp";
    std::vector<double> inputs;     // the parameters
    std::array<double, n_in> sample{};
    double target = 0.25;

    elu_mlp()
    {
        input_stream rng(1);
        inputs.resize(parameter_count);
        const auto init = [&](std::size_t first, std::size_t count, double fan_in) {
            const double bound = 1.0 / std::sqrt(fan_in);
            for (std::size_t k = first; k < first + count; ++k)
                inputs[k] = rng.uniform(-bound, bound);
        };
        init(w1, n_h1 * n_in, n_in);
        init(b1, n_h1, n_in);
        init(w2, n_h2 * n_h1, n_h1);
        init(b2, n_h2, n_h1);
        init(w3, n_h2, n_h2);
        init(b3, 1, n_h2);
        for (double& x : sample)
            x = rng.uniform(-1.0, 1.0);
    }

    template <class S>
    S f(std::span<const S> p) const
    {
        std::array<S, n_h1> h1;
        for (std::size_t j = 0; j < n_h1; ++j) {
            S z = p[b1 + j];
            for (std::size_t i = 0; i < n_in; ++i)
                z += p[w1 + j * n_in + i] * sample[i];
            h1[j] = elu(z);
        }
        std::array<S, n_h2> h2;
        for (std::size_t j = 0; j < n_h2; ++j) {
            S z = p[b2 + j];
            for (std::size_t k = 0; k < n_h1; ++k)
                z += p[w2 + j * n_h1 + k] * h1[k];
            h2[j] = elu(z);
        }
        S out = p[b3];
        for (std::size_t k = 0; k < n_h2; ++k)
            out += p[w3 + k] * h2[k];
        const S error = out - target;
        return error * error;
    }

    double hand(std::span<const double> p, std::span<double> g) const
    {
        std::array<double, n_h1> h1;
        for (std::size_t j = 0; j < n_h1; ++j) {
            double z = p[b1 + j];
            for (std::size_t i = 0; i < n_in; ++i)
                z += p[w1 + j * n_in + i] * sample[i];
            h1[j] = elu(z);
        }
        std::array<double, n_h2> h2;
        for (std::size_t j = 0; j < n_h2; ++j) {
            double z = p[b2 + j];
            for (std::size_t k = 0; k < n_h1; ++k)
                z += p[w2 + j * n_h1 + k] * h1[k];
            h2[j] = elu(z);
        }
        double out = p[b3];
        for (std::size_t k = 0; k < n_h2; ++k)
            out += p[w3 + k] * h2[k];
        const double error = out - target;

        // Reverse.
        const double out_bar = 2 * error;
        g[b3] = out_bar;
        std::array<double, n_h2> z2_bar;
        for (std::size_t k = 0; k < n_h2; ++k) {
            g[w3 + k] = out_bar * h2[k];
            z2_bar[k] = out_bar * p[w3 + k] * elu_slope(h2[k]);
        }
        std::array<double, n_h1> h1_bar{};
        for (std::size_t j = 0; j < n_h2; ++j) {
            g[b2 + j] = z2_bar[j];
            for (std::size_t k = 0; k < n_h1; ++k) {
                g[w2 + j * n_h1 + k] = z2_bar[j] * h1[k];
                h1_bar[k] += z2_bar[j] * p[w2 + j * n_h1 + k];
            }
        }
        for (std::size_t j = 0; j < n_h1; ++j) {
            const double z1_bar = h1_bar[j] * elu_slope(h1[j]);
            g[b1 + j] = z1_bar;
            for (std::size_t i = 0; i < n_in; ++i)
                g[w1 + j * n_in + i] = z1_bar * sample[i];
        }
        return error * error;
    }
};

// ---- (b) elu_sum: sum_i elu(a x_i + b), gradient w.r.t. x, a, b ----------

struct elu_sum {
    std::string name;
    std::vector<double> inputs; // x_0 .. x_{n-1}, a, b

    explicit elu_sum(std::size_t n) : name("elu_sum_" + std::to_string(n))
    {
        input_stream rng(2);
        inputs = rng.uniform(n, -2.0, 2.0);
        inputs.push_back(0.7);  // a
        inputs.push_back(-0.1); // b
    }

    template <class S>
    S f(std::span<const S> in) const
    {
        const std::size_t n = in.size() - 2;
        const S& a = in[n];
        const S& b = in[n + 1];
        S s = 0.0;
        for (std::size_t i = 0; i < n; ++i)
            s += elu(a * in[i] + b);
        return s;
    }

    double hand(std::span<const double> in, std::span<double> g) const
    {
        const std::size_t n = in.size() - 2;
        const double a = in[n];
        const double b = in[n + 1];
        double s = 0;
        double a_bar = 0;
        double b_bar = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const double y = elu(a * in[i] + b);
            s += y;
            const double z_bar = elu_slope(y);
            g[i] = a * z_bar;
            a_bar += in[i] * z_bar;
            b_bar += z_bar;
        }
        g[n] = a_bar;
        g[n + 1] = b_bar;
        return s;
    }
};

// ---- (c) logsumexp: log sum_i e^{x_i}, two passes, shifted by the max ----

struct logsumexp {
    std::string name;
    std::vector<double> inputs;

    explicit logsumexp(std::size_t n) : name("logsumexp")
    {
        input_stream rng(3);
        inputs = rng.uniform(n, -3.0, 3.0);
    }

    template <class S>
    S f(std::span<const S> x) const
    {
        const S m = *std::max_element(x.begin(), x.end());
        S s = 0.0;
        for (const S& xi : x)
            s += exp(xi - m);
        return m + log(s);
    }

    double hand(std::span<const double> x, std::span<double> g) const
    {
        const double m = *std::max_element(x.begin(), x.end());
        double s = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            g[i] = std::exp(x[i] - m);
            s += g[i];
        }
        const double inverse = 1 / s;
        for (double& gi : g)
            gi *= inverse;
        return m + std::log(s);
    }
};

// ---- (d) normal_lpdf: sum_i -(1/2)((y_i - mu)/sigma)^2 - log sigma ----------

struct normal_lpdf {
    std::string name = "normal_lpdf";
    std::vector<double> inputs{0.3, 1.7}; // mu, sigma
    std::vector<double> y;                // observations (data, passive)

    explicit normal_lpdf(std::size_t n)
    {
        input_stream rng(4);
        y = rng.uniform(n, -3.0, 4.0);
    }

    template <class S>
    S f(std::span<const S> p) const
    {
        const S& mu = p[0];
        const S& sigma = p[1];
        S lp = 0.0;
        for (const double yi : y) {
            const S z = (yi - mu) / sigma;
            lp += -0.5 * z * z - log(sigma);
        }
        return lp;
    }

    double hand(std::span<const double> p, std::span<double> g) const
    {
        const double mu = p[0];
        const double sigma = p[1];
        double lp = 0;
        double z_sum = 0;
        double z2_sum = 0;
        for (const double yi : y) {
            const double z = (yi - mu) / sigma;
            lp += -0.5 * z * z - std::log(sigma);
            z_sum += z;
            z2_sum += z * z;
        }
        // d/dmu: sum z/sigma; d/dsigma: sum (z^2 - 1)/sigma.
        g[0] = z_sum / sigma;
        g[1] = (z2_sum - static_cast<double>(y.size())) / sigma;
        return lp;
    }
};

// ---- (e) matmul: sum of the entries of A B, A and B n x n scalars ---------

struct matmul {
    std::string name = "matmul";
    std::size_t n;
    std::vector<double> inputs; // A (row major), then B (row major)

    explicit matmul(std::size_t size) : n(size)
    {
        input_stream rng(5);
        inputs = rng.uniform(2 * n * n, -1.0, 1.0);
    }

    template <class S>
    S f(std::span<const S> in) const
    {
        const std::span<const S> A = in.first(n * n);
        const std::span<const S> B = in.subspan(n * n, n * n);
        S total = 0.0;
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < n; ++j) {
                S c = 0.0;
                for (std::size_t k = 0; k < n; ++k)
                    c += A[i * n + k] * B[k * n + j];
                total += c;
            }
        return total;
    }

    double hand(std::span<const double> in, std::span<double> g) const
    {
        const std::span<const double> A = in.first(n * n);
        const std::span<const double> B = in.subspan(n * n, n * n);
        const std::span<double> A_bar = g.first(n * n);
        const std::span<double> B_bar = g.subspan(n * n, n * n);
        double total = 0;
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < n; ++j) {
                double c = 0;
                for (std::size_t k = 0; k < n; ++k)
                    c += A[i * n + k] * B[k * n + j];
                total += c;
            }
        // Reverse: c_bar = total_bar = 1 for every entry of A B.
        std::fill(g.begin(), g.end(), 0.0);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < n; ++j)
                for (std::size_t k = 0; k < n; ++k) {
                    A_bar[i * n + k] += B[k * n + j];
                    B_bar[k * n + j] += A[i * n + k];
                }
        return total;
    }
};

// ---- (f) advection: u_t + c u_x = 0, Lax-Wendroff, periodic ---------------
// u_i <- u_i - (C/2)(u_{i+1} - u_{i-1}) + (C^2/2)(u_{i+1} - 2 u_i + u_{i-1})
// with Courant number C; the output is sum_i u_i^2 after the last step.

struct advection {
    static constexpr std::size_t points = 100;
    static constexpr std::size_t steps = 100;
    static constexpr double courant = 0.5;

    std::string name = "advection";
    std::vector<double> inputs; // the initial state

    advection()
    {
        input_stream rng(6);
        inputs.resize(points);
        for (std::size_t i = 0; i < points; ++i) {
            const double s = static_cast<double>(i) / static_cast<double>(points) - 0.5;
            inputs[i] = std::exp(-50 * s * s) + 0.1 * rng.uniform(-1.0, 1.0);
        }
    }

    template <class S>
    S f(std::span<const S> u0) const
    {
        const double c = courant;
        std::vector<S> u(u0.begin(), u0.end());
        std::vector<S> next(points);
        for (std::size_t step = 0; step < steps; ++step) {
            for (std::size_t i = 0; i < points; ++i) {
                const S& left = u[i == 0 ? points - 1 : i - 1];
                const S& right = u[i + 1 == points ? 0 : i + 1];
                next[i] = u[i] - 0.5 * c * (right - left) + 0.5 * c * c * (right - 2.0 * u[i] + left);
            }
            std::swap(u, next);
        }
        S sum = 0.0;
        for (const S& ui : u)
            sum += ui * ui;
        return sum;
    }

    double hand(std::span<const double> u0, std::span<double> g) const
    {
        const double c = courant;
        std::array<double, points> u;
        std::array<double, points> next;
        std::copy(u0.begin(), u0.end(), u.begin());
        for (std::size_t step = 0; step < steps; ++step) {
            for (std::size_t i = 0; i < points; ++i) {
                const double left = u[i == 0 ? points - 1 : i - 1];
                const double right = u[i + 1 == points ? 0 : i + 1];
                next[i] = u[i] - 0.5 * c * (right - left) + 0.5 * c * c * (right - 2.0 * u[i] + left);
            }
            u = next;
        }
        double sum = 0;
        for (std::size_t i = 0; i < points; ++i) {
            sum += u[i] * u[i];
            next[i] = 2 * u[i]; // u_bar
        }
        // Reverse of the linear step: u_new_i = l u_{i-1} + m u_i + r u_{i+1}.
        const double l = 0.5 * c + 0.5 * c * c;
        const double m = 1 - c * c;
        const double r = -0.5 * c + 0.5 * c * c;
        for (std::size_t step = 0; step < steps; ++step) {
            for (std::size_t i = 0; i < points; ++i) {
                const double bar_left = next[i == 0 ? points - 1 : i - 1];   // u_new_{i-1} reads u_i as its right
                const double bar_right = next[i + 1 == points ? 0 : i + 1]; // u_new_{i+1} reads u_i as its left
                u[i] = m * next[i] + r * bar_left + l * bar_right;
            }
            next = u;
        }
        std::copy(next.begin(), next.end(), g.begin());
        return sum;
    }
};

/// Every case object of the benchmark, built once.
struct suite {
    elu_mlp mlp{};
    elu_sum sum_small{1000};
    elu_sum sum_large{100000};
    logsumexp lse{1000};
    normal_lpdf lpdf{1000};
    matmul mm{32};
    advection adv{};

    /// Calls `visit(c)` on each case, in the order the benchmarks run. The
    /// largest case comes last: ADOL-C's store of locations grows to the
    /// largest recording and never shrinks, and every later ADOL-C tape pays
    /// for its size (zos_forward and fos_reverse sweep arrays as large as
    /// the store), which would penalise ADOL-C on the small cases.
    template <class F>
    void for_each(F&& visit) const
    {
        visit(mlp);
        visit(sum_small);
        visit(lse);
        visit(lpdf);
        visit(mm);
        visit(adv);
        visit(sum_large);
    }
};

} // namespace etape_bench
