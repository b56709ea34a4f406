// hand: each network's training step written out by hand, the baseline a
// performance engineer would write: matrix products with cblas_sgemm
// (OpenBLAS), everything else in fused loops over raw arrays, buffers
// allocated once, adjoints derived by hand. Transcendentals (ELU's expm1,
// the LSTM's sigmoid and tanh) and Adam's square root run on xsimd batches
// (GCC vectorizes none of them without -ffast-math); the other loops are
// plain and vectorized by the compiler.
//
// Per case:
//   mlp   per layer: Z = X W^T (sgemm), then A = elu(Z + b) in place (one
//         pass); the loss turns the logits into dlogits in place; backward:
//         dW = dZ^T A_prev and dA_prev = dZ W (sgemm), then dZ = dA elu'(A)
//         (from the output: 1 for A > 0, A + 1 otherwise) fused with db's
//         column sums; SGD over every parameter.
//   cnn   convolutions as im2col + one sgemm over the whole batch (columns
//         [C KH KW, N OH OW]); bias and ELU in place; 2x2 max pooling keeps
//         each window's argmax, and its backward writes dy = d_out elu'(y) at
//         the argmax only (the rest of dy zeroed), with db summed there; the
//         second convolution's input gradient is W^T dY (sgemm) and col2im;
//         Adam, with the square root on batches.
//   lstm  every step's x W_ih^T in one sgemm; per step h W_hh^T added by
//         sgemm, the gates' activations and the cell update in one pass per
//         row; backward through time one pass per step and dh = dA W_hh
//         (sgemm); dW_ih, dW_hh and the biases' gradient once, over all
//         steps (two sgemm and one column sum); SGD.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include <cblas.h>
#include <etape/core/simd.hpp> // first: it brings in xsimd past g++ 12's false AVX-512 warnings (see there)
#include <xsimd/xsimd.hpp>

#include "nn_cases.hpp"

namespace etape_nn_bench {
namespace {

using batch = xsimd::batch<float>;
constexpr std::size_t lanes = batch::size;

// ---- building blocks --------------------------------------------------------

/// C (m x n) = alpha op(A) op(B) + beta C, row-major.
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda,
          const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc)
{
    const auto i = [](std::size_t v) { return static_cast<int>(v); };
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, i(m), i(n), i(k), alpha,
                a, i(lda), b, i(ldb), beta, c, i(ldc));
}

float elu(float z) { return z > 0.0f ? z : std::expm1(z); }
float elu_slope(float a) { return a > 0.0f ? 1.0f : a + 1.0f; } ///< d elu / dz from the output a
batch elu(batch z) { return xsimd::select(z > batch(0.0f), z, xsimd::expm1(z)); }
batch elu_slope(batch a) { return xsimd::select(a > batch(0.0f), batch(1.0f), a + batch(1.0f)); }

/// z = elu(z + bias) in place, for z [rows, n] and bias [n].
void bias_elu(float* __restrict z, const float* __restrict bias, std::size_t rows, std::size_t n)
{
    for (std::size_t r = 0; r < rows; ++r) {
        float* __restrict zr = z + r * n;
        std::size_t j = 0;
        for (; j + lanes <= n; j += lanes)
            elu(xsimd::load_unaligned(zr + j) + xsimd::load_unaligned(bias + j)).store_unaligned(zr + j);
        for (; j < n; ++j)
            zr[j] = elu(zr[j] + bias[j]);
    }
}

/// z = elu(z + bias[row]) in place, for z [rows, n]: a convolution's output
/// [filters, N OH OW], one bias per filter.
void row_bias_elu(float* __restrict z, const float* __restrict bias, std::size_t rows, std::size_t n)
{
    for (std::size_t r = 0; r < rows; ++r) {
        float* __restrict zr = z + r * n;
        const batch b(bias[r]);
        std::size_t j = 0;
        for (; j + lanes <= n; j += lanes)
            elu(xsimd::load_unaligned(zr + j) + b).store_unaligned(zr + j);
        for (; j < n; ++j)
            zr[j] = elu(zr[j] + bias[r]);
    }
}

/// z += bias on every row of z [rows, n].
void add_bias(float* __restrict z, const float* __restrict bias, std::size_t rows, std::size_t n)
{
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < n; ++j)
            z[r * n + j] += bias[j];
}

/// db = the column sums of d [rows, n].
void column_sums(const float* __restrict d, std::size_t rows, std::size_t n, float* __restrict db)
{
    std::fill(db, db + n, 0.0f);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < n; ++j)
            db[j] += d[r * n + j];
}

/// d = d elu'(a) in place (the adjoint of Z from that of A = elu(Z)), and
/// db = its column sums, for d and a [rows, n].
void elu_backward_bias(float* __restrict d, const float* __restrict a, std::size_t rows, std::size_t n,
                       float* __restrict db)
{
    std::fill(db, db + n, 0.0f);
    for (std::size_t r = 0; r < rows; ++r) {
        float* __restrict dr = d + r * n;
        const float* __restrict ar = a + r * n;
        std::size_t j = 0;
        for (; j + lanes <= n; j += lanes) {
            const batch v = xsimd::load_unaligned(dr + j) * elu_slope(xsimd::load_unaligned(ar + j));
            v.store_unaligned(dr + j);
            (xsimd::load_unaligned(db + j) + v).store_unaligned(db + j);
        }
        for (; j < n; ++j) {
            dr[j] *= elu_slope(ar[j]);
            db[j] += dr[j];
        }
    }
}

/// The mean over rows of -log softmax(z)[row, label[row]] for logits z
/// [rows, classes]; z becomes its gradient (softmax - onehot) / rows.
float softmax_cross_entropy(float* __restrict z, const std::size_t* labels, std::size_t rows, std::size_t classes)
{
    double loss = 0;
    const float scale = 1.0f / static_cast<float>(rows);
    for (std::size_t r = 0; r < rows; ++r) {
        float* __restrict zr = z + r * classes;
        const float m = *std::max_element(zr, zr + classes), target = zr[labels[r]];
        double sum = 0;
        for (std::size_t c = 0; c < classes; ++c) {
            zr[c] = std::exp(zr[c] - m);
            sum += zr[c];
        }
        loss += static_cast<double>(m) + std::log(sum) - static_cast<double>(target);
        const float inverse = static_cast<float>(1 / sum) * scale;
        for (std::size_t c = 0; c < classes; ++c)
            zr[c] *= inverse;
        zr[labels[r]] -= scale;
    }
    return static_cast<float>(loss / static_cast<double>(rows));
}

/// w -= rate g.
void sgd(float* __restrict w, const float* __restrict g, std::size_t n, float rate)
{
    for (std::size_t k = 0; k < n; ++k)
        w[k] -= rate * g[k];
}

/// torch.optim.Adam's update at step t (from 1), on batches:
///   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
///   w -= rate / (1 - b1^t) m / (sqrt(v) / sqrt(1 - b2^t) + epsilon)
struct adam_state {
    std::vector<float> m, v;

    void update(float* __restrict w, const float* __restrict g, std::size_t n, float rate, std::size_t t)
    {
        using k = adam_constants;
        const auto steps = static_cast<double>(t);
        const float step_size = rate / static_cast<float>(1 - std::pow(static_cast<double>(k::beta1), steps));
        const float inverse_root =
            1.0f / static_cast<float>(std::sqrt(1 - std::pow(static_cast<double>(k::beta2), steps)));
        float* __restrict mp = m.data();
        float* __restrict vp = v.data();
        const batch b1(k::beta1), c1(1.0f - k::beta1), b2(k::beta2), c2(1.0f - k::beta2), eps(k::epsilon);
        std::size_t i = 0;
        for (; i + lanes <= n; i += lanes) {
            const batch gi = xsimd::load_unaligned(g + i);
            const batch mi = b1 * xsimd::load_unaligned(mp + i) + c1 * gi;
            const batch vi = b2 * xsimd::load_unaligned(vp + i) + c2 * gi * gi;
            mi.store_unaligned(mp + i);
            vi.store_unaligned(vp + i);
            const batch wi = xsimd::load_unaligned(w + i);
            (wi - batch(step_size) * mi / (xsimd::sqrt(vi) * batch(inverse_root) + eps)).store_unaligned(w + i);
        }
        for (; i < n; ++i) {
            mp[i] = k::beta1 * mp[i] + (1.0f - k::beta1) * g[i];
            vp[i] = k::beta2 * vp[i] + (1.0f - k::beta2) * g[i] * g[i];
            w[i] -= step_size * mp[i] / (std::sqrt(vp[i]) * inverse_root + k::epsilon);
        }
    }
};

/// The parameters (copied from the case) and their gradients, in the
/// case's order, and the update of all of them.
class parameters {
public:
    explicit parameters(const case_data& c) : update_(c.update), rate_(c.learning_rate)
    {
        for (const parameter& p : c.parameters) {
            values_.push_back(p.values);
            gradients_.emplace_back(p.values.size(), 0.0f);
            if (update_ == optimizer::adam)
                adam_.push_back({std::vector<float>(p.values.size(), 0.0f), std::vector<float>(p.values.size(), 0.0f)});
        }
    }

    [[nodiscard]] float* value(std::size_t i) { return values_[i].data(); }
    [[nodiscard]] float* gradient(std::size_t i) { return gradients_[i].data(); }

    void update()
    {
        ++steps_;
        for (std::size_t i = 0; i < values_.size(); ++i) {
            if (update_ == optimizer::sgd)
                sgd(values_[i].data(), gradients_[i].data(), values_[i].size(), rate_);
            else
                adam_[i].update(values_[i].data(), gradients_[i].data(), values_[i].size(), rate_, steps_);
        }
    }

    [[nodiscard]] std::vector<double> flattened(float loss) const
    {
        std::vector<double> r{loss};
        for (const std::vector<float>& v : values_)
            r.insert(r.end(), v.begin(), v.end());
        return r;
    }

private:
    optimizer update_;
    float rate_;
    std::size_t steps_ = 0;
    std::vector<std::vector<float>> values_, gradients_;
    std::vector<adam_state> adam_;
};

// ---- mlp ----------------------------------------------------------------------

class mlp_step final : public training_step {
public:
    explicit mlp_step(const case_data& c)
        : c_(c), p_(c), n_(c.batch), a1_(n_ * c.widths[1]), a2_(n_ * c.widths[2]), z3_(n_ * c.widths[3]),
          d1_(a1_.size()), d2_(a2_.size())
    {}

    void run() override
    {
        const std::size_t d0 = c_.widths[0], d1 = c_.widths[1], d2 = c_.widths[2], d3 = c_.widths[3];
        float *w1 = p_.value(0), *b1 = p_.value(1), *w2 = p_.value(2), *b2 = p_.value(3), *w3 = p_.value(4),
              *b3 = p_.value(5);
        // forward
        gemm(false, true, n_, d1, d0, 1, c_.x.data(), d0, w1, d0, 0, a1_.data(), d1);
        bias_elu(a1_.data(), b1, n_, d1);
        gemm(false, true, n_, d2, d1, 1, a1_.data(), d1, w2, d1, 0, a2_.data(), d2);
        bias_elu(a2_.data(), b2, n_, d2);
        gemm(false, true, n_, d3, d2, 1, a2_.data(), d2, w3, d2, 0, z3_.data(), d3);
        add_bias(z3_.data(), b3, n_, d3);
        loss_ = softmax_cross_entropy(z3_.data(), c_.labels.data(), n_, d3); // z3_ is now dlogits
        // backward
        gemm(true, false, d3, d2, n_, 1, z3_.data(), d3, a2_.data(), d2, 0, p_.gradient(4), d2);
        column_sums(z3_.data(), n_, d3, p_.gradient(5));
        gemm(false, false, n_, d2, d3, 1, z3_.data(), d3, w3, d2, 0, d2_.data(), d2);
        elu_backward_bias(d2_.data(), a2_.data(), n_, d2, p_.gradient(3));
        gemm(true, false, d2, d1, n_, 1, d2_.data(), d2, a1_.data(), d1, 0, p_.gradient(2), d1);
        gemm(false, false, n_, d1, d2, 1, d2_.data(), d2, w2, d1, 0, d1_.data(), d1);
        elu_backward_bias(d1_.data(), a1_.data(), n_, d1, p_.gradient(1));
        gemm(true, false, d1, d0, n_, 1, d1_.data(), d1, c_.x.data(), d0, 0, p_.gradient(0), d0);
        p_.update();
    }

    std::vector<double> result() override { return p_.flattened(loss_); }

private:
    const case_data& c_;
    parameters p_;
    std::size_t n_;
    std::vector<float> a1_, a2_, z3_; ///< the layers' outputs (z3_: logits, then their gradient)
    std::vector<float> d1_, d2_;      ///< gradients of a1_ and a2_, then of their pre-activations
    float loss_ = 0;
};

// ---- cnn ----------------------------------------------------------------------

/// col[(c KH + p) KW + q][n OH OW + i OW + j] = in[c][n][i + p][j + q] for an
/// input [C, N, H, W], a K x K kernel, stride 1, no padding.
void im2col(const float* __restrict in, std::size_t channels, std::size_t n, std::size_t h, std::size_t w,
            std::size_t k, float* __restrict col)
{
    const std::size_t oh = h - k + 1, ow = w - k + 1, columns = n * oh * ow;
    for (std::size_t c = 0; c < channels; ++c)
        for (std::size_t p = 0; p < k; ++p)
            for (std::size_t q = 0; q < k; ++q) {
                float* __restrict row = col + ((c * k + p) * k + q) * columns;
                for (std::size_t s = 0; s < n; ++s)
                    for (std::size_t i = 0; i < oh; ++i)
                        std::memcpy(row + (s * oh + i) * ow, in + ((c * n + s) * h + i + p) * w + q,
                                    ow * sizeof(float));
            }
}

/// The adjoint of im2col: d_in[c][n][i + p][j + q] += dcol[...], d_in zeroed first.
void col2im(const float* __restrict dcol, std::size_t channels, std::size_t n, std::size_t h, std::size_t w,
            std::size_t k, float* __restrict d_in)
{
    const std::size_t oh = h - k + 1, ow = w - k + 1, columns = n * oh * ow;
    std::fill(d_in, d_in + channels * n * h * w, 0.0f);
    for (std::size_t c = 0; c < channels; ++c)
        for (std::size_t p = 0; p < k; ++p)
            for (std::size_t q = 0; q < k; ++q) {
                const float* __restrict row = dcol + ((c * k + p) * k + q) * columns;
                for (std::size_t s = 0; s < n; ++s)
                    for (std::size_t i = 0; i < oh; ++i) {
                        const float* __restrict from = row + (s * oh + i) * ow;
                        float* __restrict to = d_in + ((c * n + s) * h + i + p) * w + q;
                        for (std::size_t j = 0; j < ow; ++j)
                            to[j] += from[j];
                    }
            }
}

/// 2x2 max pooling, stride 2, of y [F][N][H][W] (extents H / 2, W / 2,
/// flooring): out[f fs + s ns + i OW + j] is the window's first maximum,
/// where[...] its index in y.
void max_pool(const float* __restrict y, std::size_t filters, std::size_t n, std::size_t h, std::size_t w,
              std::size_t fs, std::size_t ns, float* __restrict out, std::uint32_t* __restrict where)
{
    const std::size_t oh = h / 2, ow = w / 2;
    for (std::size_t f = 0; f < filters; ++f)
        for (std::size_t s = 0; s < n; ++s) {
            const std::size_t plane = (f * n + s) * h * w;
            for (std::size_t i = 0; i < oh; ++i)
                for (std::size_t j = 0; j < ow; ++j) {
                    std::size_t best = plane + 2 * i * w + 2 * j;
                    for (const std::size_t at : {best + 1, best + w, best + w + 1})
                        if (y[at] > y[best])
                            best = at;
                    const std::size_t o = f * fs + s * ns + i * ow + j;
                    out[o] = y[best];
                    where[o] = static_cast<std::uint32_t>(best);
                }
        }
}

/// The backward of max_pool and of the ELU (with bias) before it: dy
/// [F][N][H][W] is d_out elu'(y) at each window's argmax, 0 elsewhere; db[f]
/// sums it over filter f's outputs.
void max_pool_elu_backward(const float* __restrict d_out, const std::uint32_t* __restrict where,
                           const float* __restrict y, std::size_t filters, std::size_t n, std::size_t h, std::size_t w,
                           std::size_t fs, std::size_t ns, float* __restrict dy, float* __restrict db)
{
    const std::size_t oh = h / 2, ow = w / 2;
    std::fill(dy, dy + filters * n * h * w, 0.0f);
    for (std::size_t f = 0; f < filters; ++f) {
        float sum = 0;
        for (std::size_t s = 0; s < n; ++s)
            for (std::size_t i = 0; i < oh * ow; ++i) {
                const std::size_t o = f * fs + s * ns + i, at = where[o];
                dy[at] = d_out[o] * elu_slope(y[at]);
                sum += dy[at];
            }
        db[f] = sum;
    }
}

class cnn_step final : public training_step {
public:
    explicit cnn_step(const case_data& c)
        : c_(c), p_(c), n_(c.batch), col1_(9 * n_ * plane1), y1_(32 * n_ * plane1), p1_(32 * n_ * pooled1),
          where1_(p1_.size()), col2_(32 * 9 * n_ * plane2), y2_(64 * n_ * plane2), h0_(n_ * flat), where2_(h0_.size()),
          a3_(n_ * 128), z4_(n_ * 10), d3_(a3_.size()), dh0_(h0_.size()), dy2_(y2_.size()), dcol2_(col2_.size()),
          dp1_(p1_.size()), dy1_(y1_.size())
    {}

    void run() override
    {
        const std::size_t n = n_, columns1 = n * plane1, columns2 = n * plane2;
        float *w1 = p_.value(0), *b1 = p_.value(1), *w2 = p_.value(2), *b2 = p_.value(3), *w3 = p_.value(4),
              *b3 = p_.value(5), *w4 = p_.value(6), *b4 = p_.value(7);
        // forward: x [N, 1, 28, 28] is [C = 1, N, H, W] as im2col reads it
        im2col(c_.x.data(), 1, n, 28, 28, 3, col1_.data());
        gemm(false, false, 32, columns1, 9, 1, w1, 9, col1_.data(), columns1, 0, y1_.data(), columns1);
        row_bias_elu(y1_.data(), b1, 32, columns1);
        max_pool(y1_.data(), 32, n, 26, 26, n * pooled1, pooled1, p1_.data(), where1_.data()); // [32, N, 13, 13]
        im2col(p1_.data(), 32, n, 13, 13, 3, col2_.data());
        gemm(false, false, 64, columns2, 288, 1, w2, 288, col2_.data(), columns2, 0, y2_.data(), columns2);
        row_bias_elu(y2_.data(), b2, 64, columns2);
        max_pool(y2_.data(), 64, n, 11, 11, 25, flat, h0_.data(), where2_.data()); // [N, 64 * 5 * 5], NCHW order
        gemm(false, true, n, 128, flat, 1, h0_.data(), flat, w3, flat, 0, a3_.data(), 128);
        bias_elu(a3_.data(), b3, n, 128);
        gemm(false, true, n, 10, 128, 1, a3_.data(), 128, w4, 128, 0, z4_.data(), 10);
        add_bias(z4_.data(), b4, n, 10);
        loss_ = softmax_cross_entropy(z4_.data(), c_.labels.data(), n, 10);
        // backward
        gemm(true, false, 10, 128, n, 1, z4_.data(), 10, a3_.data(), 128, 0, p_.gradient(6), 128);
        column_sums(z4_.data(), n, 10, p_.gradient(7));
        gemm(false, false, n, 128, 10, 1, z4_.data(), 10, w4, 128, 0, d3_.data(), 128);
        elu_backward_bias(d3_.data(), a3_.data(), n, 128, p_.gradient(5));
        gemm(true, false, 128, flat, n, 1, d3_.data(), 128, h0_.data(), flat, 0, p_.gradient(4), flat);
        gemm(false, false, n, flat, 128, 1, d3_.data(), 128, w3, flat, 0, dh0_.data(), flat);
        max_pool_elu_backward(dh0_.data(), where2_.data(), y2_.data(), 64, n, 11, 11, 25, flat, dy2_.data(),
                              p_.gradient(3));
        gemm(false, true, 64, 288, columns2, 1, dy2_.data(), columns2, col2_.data(), columns2, 0, p_.gradient(2), 288);
        gemm(true, false, 288, columns2, 64, 1, w2, 288, dy2_.data(), columns2, 0, dcol2_.data(), columns2);
        col2im(dcol2_.data(), 32, n, 13, 13, 3, dp1_.data());
        max_pool_elu_backward(dp1_.data(), where1_.data(), y1_.data(), 32, n, 26, 26, n * pooled1, pooled1, dy1_.data(),
                              p_.gradient(1));
        gemm(false, true, 32, 9, columns1, 1, dy1_.data(), columns1, col1_.data(), columns1, 0, p_.gradient(0), 9);
        p_.update();
    }

    std::vector<double> result() override { return p_.flattened(loss_); }

private:
    static constexpr std::size_t plane1 = 26 * 26, pooled1 = 13 * 13, plane2 = 11 * 11, flat = 64 * 5 * 5;

    const case_data& c_;
    parameters p_;
    std::size_t n_;
    std::vector<float> col1_, y1_, p1_;
    std::vector<std::uint32_t> where1_;
    std::vector<float> col2_, y2_, h0_;
    std::vector<std::uint32_t> where2_;
    std::vector<float> a3_, z4_;
    std::vector<float> d3_, dh0_, dy2_, dcol2_, dp1_, dy1_;
    float loss_ = 0;
};

// ---- lstm ---------------------------------------------------------------------

batch sigmoid(batch v) { return batch(1.0f) / (batch(1.0f) + xsimd::exp(-v)); }
float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }
batch tanh_of(batch v) { return xsimd::tanh(v); }
float tanh_of(float v) { return std::tanh(v); }

/// a = f(a + bias) over [0, n), on batches.
template <class F> void bias_activate(float* __restrict a, const float* __restrict bias, std::size_t n, F f)
{
    std::size_t j = 0;
    for (; j + lanes <= n; j += lanes)
        f(xsimd::load_unaligned(a + j) + xsimd::load_unaligned(bias + j)).store_unaligned(a + j);
    for (; j < n; ++j)
        a[j] = f(a[j] + bias[j]);
}

class lstm_step final : public training_step {
public:
    explicit lstm_step(const case_data& c)
        : c_(c), p_(c), t_(c.steps), n_(c.batch), h_(c.hidden), g_(4 * c.hidden), bias_(g_), gates_(t_ * n_ * g_),
          cells_((t_ + 1) * n_ * h_), hiddens_((t_ + 1) * n_ * h_), tanh_c_(t_ * n_ * h_), logits_(n_ * c.classes),
          dh_(n_ * h_), dc_(n_ * h_)
    {}

    void run() override
    {
        const std::size_t t_max = t_, n = n_, h = h_, g = g_, inputs = c_.inputs, classes = c_.classes;
        float *w_ih = p_.value(0), *w_hh = p_.value(1), *b_ih = p_.value(2), *b_hh = p_.value(3), *w_out = p_.value(4),
              *b_out = p_.value(5);
        for (std::size_t j = 0; j < g; ++j)
            bias_[j] = b_ih[j] + b_hh[j];
        // forward: every step's x W_ih^T at once; h_0 = c_0 = 0
        gemm(false, true, t_max * n, g, inputs, 1, c_.x.data(), inputs, w_ih, inputs, 0, gates_.data(), g);
        std::fill_n(cells_.data(), n * h, 0.0f);
        std::fill_n(hiddens_.data(), n * h, 0.0f);
        for (std::size_t t = 0; t < t_max; ++t) {
            float* gates = gates_.data() + t * n * g;
            if (t > 0)
                gemm(false, true, n, g, h, 1, hiddens_.data() + t * n * h, h, w_hh, h, 1, gates, g);
            for (std::size_t r = 0; r < n; ++r) {
                float* __restrict a = gates + r * g;
                bias_activate(a, bias_.data(), 2 * h, [](auto v) { return sigmoid(v); }); // i, f
                bias_activate(a + 2 * h, bias_.data() + 2 * h, h, [](auto v) { return tanh_of(v); });
                bias_activate(a + 3 * h, bias_.data() + 3 * h, h, [](auto v) { return sigmoid(v); });
                const float* __restrict c_prev = cells_.data() + (t * n + r) * h;
                float* __restrict c_next = cells_.data() + ((t + 1) * n + r) * h;
                float* __restrict h_next = hiddens_.data() + ((t + 1) * n + r) * h;
                float* __restrict tc = tanh_c_.data() + (t * n + r) * h;
                for (std::size_t j = 0; j < h; ++j)
                    c_next[j] = a[h + j] * c_prev[j] + a[j] * a[2 * h + j];
                std::size_t j = 0;
                for (; j + lanes <= h; j += lanes) {
                    const batch v = xsimd::tanh(xsimd::load_unaligned(c_next + j));
                    v.store_unaligned(tc + j);
                    (xsimd::load_unaligned(a + 3 * h + j) * v).store_unaligned(h_next + j);
                }
                for (; j < h; ++j) {
                    tc[j] = std::tanh(c_next[j]);
                    h_next[j] = a[3 * h + j] * tc[j];
                }
            }
        }
        const float* h_last = hiddens_.data() + t_max * n * h;
        gemm(false, true, n, classes, h, 1, h_last, h, w_out, h, 0, logits_.data(), classes);
        add_bias(logits_.data(), b_out, n, classes);
        loss_ = softmax_cross_entropy(logits_.data(), c_.labels.data(), n, classes);
        // backward
        gemm(true, false, classes, h, n, 1, logits_.data(), classes, h_last, h, 0, p_.gradient(4), h);
        column_sums(logits_.data(), n, classes, p_.gradient(5));
        gemm(false, false, n, h, classes, 1, logits_.data(), classes, w_out, h, 0, dh_.data(), h);
        std::fill(dc_.begin(), dc_.end(), 0.0f);
        for (std::size_t t = t_max; t-- > 0;) {
            float* gates = gates_.data() + t * n * g; // becomes the step's dA
            for (std::size_t r = 0; r < n; ++r) {
                float* __restrict a = gates + r * g;
                const float* __restrict c_prev = cells_.data() + (t * n + r) * h;
                const float* __restrict tc = tanh_c_.data() + (t * n + r) * h;
                const float* __restrict dh = dh_.data() + r * h;
                float* __restrict dc = dc_.data() + r * h;
                for (std::size_t j = 0; j < h; ++j) {
                    const float i = a[j], f = a[h + j], gg = a[2 * h + j], o = a[3 * h + j];
                    const float total = dc[j] + dh[j] * o * (1.0f - tc[j] * tc[j]); // dc~
                    a[j] = total * gg * i * (1.0f - i);
                    a[h + j] = total * c_prev[j] * f * (1.0f - f);
                    a[2 * h + j] = total * i * (1.0f - gg * gg);
                    a[3 * h + j] = dh[j] * tc[j] * o * (1.0f - o);
                    dc[j] = total * f;
                }
            }
            if (t > 0)
                gemm(false, false, n, h, g, 1, gates, g, w_hh, h, 0, dh_.data(), h);
        }
        // dW_hh = sum over steps t >= 1 of dA_t^T h_t (h_0 = 0); dW_ih = dA^T X; both biases sum dA
        gemm(true, false, g, h, (t_max - 1) * n, 1, gates_.data() + n * g, g, hiddens_.data() + n * h, h, 0,
             p_.gradient(1), h);
        gemm(true, false, g, inputs, t_max * n, 1, gates_.data(), g, c_.x.data(), inputs, 0, p_.gradient(0), inputs);
        column_sums(gates_.data(), t_max * n, g, p_.gradient(2));
        std::copy_n(p_.gradient(2), g, p_.gradient(3));
        p_.update();
    }

    std::vector<double> result() override { return p_.flattened(loss_); }

private:
    const case_data& c_;
    parameters p_;
    std::size_t t_, n_, h_, g_;
    std::vector<float> bias_;    ///< b_ih + b_hh
    std::vector<float> gates_;   ///< [steps, batch, 4 hidden]: x W_ih^T, then the activated gates, then dA
    std::vector<float> cells_;   ///< c_0 .. c_T, [batch, hidden] each
    std::vector<float> hiddens_; ///< h_0 .. h_T
    std::vector<float> tanh_c_;  ///< tanh(c_1) .. tanh(c_T)
    std::vector<float> logits_;  ///< then their gradient
    std::vector<float> dh_, dc_;
    float loss_ = 0;
};

} // namespace

std::unique_ptr<training_step> make_hand(const case_data& c)
{
    switch (c.what) {
    case network::mlp_small:
    case network::mlp_large:
        return std::make_unique<mlp_step>(c);
    case network::cnn:
        return std::make_unique<cnn_step>(c);
    case network::lstm:
        return std::make_unique<lstm_step>(c);
    }
    return nullptr;
}

} // namespace etape_nn_bench
