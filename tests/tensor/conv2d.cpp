// conv2d: one node, values and the gradients with respect to x, w and bias
// against a reference written from the definition, for strides, padding,
// non-square kernels, batches and channels; value and expression arguments,
// shape errors, an empty batch, NaN.
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "support/tensor_check.hpp"

using etape_test::check_tensor_gradients;
using etape_test::loss;
using etape_test::output_weights;
using etape_test::spread;

namespace {

struct conv_case {
    std::size_t n, c, h, w, f, kh, kw, stride, padding;

    [[nodiscard]] std::size_t oh() const { return (h + 2 * padding - kh) / stride + 1; }
    [[nodiscard]] std::size_t ow() const { return (w + 2 * padding - kw) / stride + 1; }
    [[nodiscard]] etape::shape x_shape() const { return {n, c, h, w}; }
    [[nodiscard]] etape::shape w_shape() const { return {f, c, kh, kw}; }
    [[nodiscard]] etape::shape y_shape() const { return {n, f, oh(), ow()}; }
    [[nodiscard]] etape::conv2d_options options() const { return {.stride = stride, .padding = padding}; }
};

/// y[n, f, i, j] = b[f] + sum_{c, p, q} w[f, c, p, q] x[n, c, i s + p - pad, j s + q - pad],
/// x zero outside the image; `bias` empty for none.
std::vector<long double> reference_conv2d(const conv_case& k, std::span<const long double> x,
                                          std::span<const long double> w, std::span<const long double> bias)
{
    std::vector<long double> y(k.y_shape().size());
    const auto inside = [](std::size_t at, std::size_t padding, std::size_t extent) {
        return at >= padding && at - padding < extent;
    };
    for (std::size_t n = 0; n < k.n; ++n)
        for (std::size_t f = 0; f < k.f; ++f)
            for (std::size_t i = 0; i < k.oh(); ++i)
                for (std::size_t j = 0; j < k.ow(); ++j) {
                    long double s = bias.empty() ? 0 : bias[f];
                    for (std::size_t c = 0; c < k.c; ++c)
                        for (std::size_t p = 0; p < k.kh; ++p)
                            for (std::size_t q = 0; q < k.kw; ++q) {
                                const std::size_t row = i * k.stride + p, col = j * k.stride + q; // padded coordinates
                                if (!inside(row, k.padding, k.h) || !inside(col, k.padding, k.w))
                                    continue;
                                s += x[((n * k.c + c) * k.h + row - k.padding) * k.w + col - k.padding] *
                                     w[((f * k.c + c) * k.kh + p) * k.kw + q];
                            }
                    y[((n * k.f + f) * k.oh() + i) * k.ow() + j] = s;
                }
    return y;
}

// clang-format off
const std::vector<conv_case> cases = {
    // n  c  h  w  f kh kw  s  pad
    {2, 3, 5, 6, 2, 3, 2, 1, 0},
    {2, 2, 6, 5, 3, 3, 3, 2, 1},
    {1, 2, 4, 7, 2, 2, 3, 2, 0},
    {3, 1, 5, 5, 2, 1, 3, 3, 2}, // rows entirely in the padding: their outputs are the bias
    {1, 2, 3, 3, 2, 5, 4, 1, 1}, // kernel larger than the image, not than the padded image
    {2, 2, 7, 4, 1, 2, 1, 3, 1},
};
// clang-format on

} // namespace

TEST_CASE_TEMPLATE("conv2d records one tape node and matches the definition", T, ETAPE_TEST_TYPES)
{
    for (const conv_case& k : cases) {
        CAPTURE(k.stride);
        CAPTURE(k.padding);
        CAPTURE(k.kh);
        etape::tape_scope<T> scope;
        const etape::active_tensor<T> x(spread<T>(k.x_shape(), 1.0));
        const etape::active_tensor<T> w(spread<T>(k.w_shape(), 0.5));
        const etape::active_tensor<T> b(spread<T>({k.f}, 0.3));
        const auto before = scope.get().stats();
        const etape::active_tensor<T> y = etape::conv2d(x, w, b, k.options());
        const auto after = scope.get().stats();
        CHECK(after.nodes - before.nodes == 1);
        CHECK(after.statements == before.statements);
        CHECK(after.slots - before.slots == y.size());
        REQUIRE(y.shape() == k.y_shape());

        const std::vector<long double> xv(x.values().begin(), x.values().end());
        const std::vector<long double> wv(w.values().begin(), w.values().end());
        const std::vector<long double> bv(b.values().begin(), b.values().end());
        const auto expected = reference_conv2d(k, xv, wv, bv);
        const auto unbiased = reference_conv2d(k, xv, wv, {});
        const etape::active_tensor<T> y0 = etape::conv2d(x, w, k.options());
        for (std::size_t i = 0; i < y.size(); ++i) {
            CHECK(y.values()[i] == doctest::Approx(static_cast<double>(expected[i])).epsilon(1e-5));
            CHECK(y0.values()[i] == doctest::Approx(static_cast<double>(unbiased[i])).epsilon(1e-5));
        }
    }
}

TEST_CASE_TEMPLATE("conv2d gradients with respect to x, w and bias against finite differences", T, ETAPE_TEST_TYPES)
{
    for (const conv_case& k : cases) {
        CAPTURE(k.n);
        CAPTURE(k.c);
        CAPTURE(k.f);
        CAPTURE(k.kh);
        CAPTURE(k.kw);
        CAPTURE(k.stride);
        CAPTURE(k.padding);
        const auto r = output_weights<T>(k.y_shape());
        const std::vector<etape::tensor<T>> at{spread<T>(k.x_shape(), 1.0), spread<T>(k.w_shape(), 0.5),
                                               spread<T>({k.f}, 0.3)};
        // with a bias: x, w, bias
        check_tensor_gradients<T>(
            [&](const std::vector<etape::active_tensor<T>>& a) {
                return loss<T>(etape::conv2d(a[0], a[1], a[2], k.options()), r);
            },
            [&](const std::vector<std::vector<long double>>& a) {
                return loss<T>(reference_conv2d(k, a[0], a[1], a[2]), r);
            },
            at);
        // without: x, w
        check_tensor_gradients<T>(
            [&](const std::vector<etape::active_tensor<T>>& a) {
                return loss<T>(etape::conv2d(a[0], a[1], k.options()), r);
            },
            [&](const std::vector<std::vector<long double>>& a) {
                return loss<T>(reference_conv2d(k, a[0], a[1], {}), r);
            },
            {at[0], at[1]});
    }
}

TEST_CASE_TEMPLATE("conv2d takes value tensors and expressions as arguments", T, ETAPE_TEST_TYPES)
{
    const conv_case k{2, 2, 5, 5, 3, 3, 2, 2, 1};
    const auto xv = spread<T>(k.x_shape(), 1.0);
    const auto wv = spread<T>(k.w_shape(), 0.5);
    const auto bv = spread<T>({k.f}, 0.3);
    const auto r = output_weights<T>(k.y_shape());

    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(xv), w(wv), b(bv);
    const auto [gx, gw, gb] = etape::gradient(loss<T>(etape::conv2d(x, w, b, k.options()), r), x, w, b);

    // x a value tensor (data), w and bias active (parameters)
    const auto [gw1, gb1] = etape::gradient(loss<T>(etape::conv2d(xv, w, b, k.options()), r), w, b);
    // w and bias value tensors, x active
    const auto [gx2] = etape::gradient(loss<T>(etape::conv2d(x, wv, bv, k.options()), r), x);
    // only the bias active
    const auto [gb3] = etape::gradient(loss<T>(etape::conv2d(xv, wv, b, k.options()), r), b);
    for (std::size_t i = 0; i < gw.size(); ++i)
        CHECK(gw1.values()[i] == gw.values()[i]);
    for (std::size_t i = 0; i < gb.size(); ++i) {
        CHECK(gb1.values()[i] == gb.values()[i]);
        CHECK(gb3.values()[i] == gb.values()[i]);
    }
    for (std::size_t i = 0; i < gx.size(); ++i)
        CHECK(gx2.values()[i] == gx.values()[i]);

    // an expression as x is recorded first: d/dx conv2d(2 x, w) = 2 d/d(2x)
    const auto before = scope.get().stats();
    const etape::active_tensor<T> y = etape::conv2d(x * T(2), w, k.options());
    CHECK(scope.get().stats().nodes - before.nodes == 2);
    const auto [gx4] = etape::gradient(etape::sum(y * r), x);
    const auto [gx5] = etape::gradient(etape::sum(etape::conv2d(x, w, k.options()) * r), x);
    for (std::size_t i = 0; i < gx.size(); ++i)
        CHECK(gx4.values()[i] == doctest::Approx(2 * gx5.values()[i]).epsilon(1e-6));
}

TEST_CASE_TEMPLATE("conv2d of a tensor with itself", T, ETAPE_TEST_TYPES)
{
    // x [1, 1, 2, 2] as both input and kernel: y = sum x^2, dy/dx = 2 x
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(etape::tensor<T>({1, 1, 2, 2}, {T(1), T(-2), T(3), T(0.5)}));
    const etape::active_tensor<T> y = etape::conv2d(x, x);
    REQUIRE(y.shape() == etape::shape{1, 1, 1, 1});
    CHECK(y.values()[0] == doctest::Approx(14.25));
    const auto [g] = etape::gradient(etape::sum(y), x);
    for (std::size_t i = 0; i < 4; ++i)
        CHECK(g.values()[i] == doctest::Approx(2 * x.values()[i]));
}

TEST_CASE("conv2d shape errors name the operation and both shapes")
{
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> x(etape::tensor<double>({2, 3, 5, 5}));
    const etape::active_tensor<double> w(etape::tensor<double>({4, 3, 3, 3}));
    CHECK_THROWS_WITH_AS((void)etape::conv2d(x, etape::tensor<double>({4, 2, 3, 3})),
                         "etape: shape mismatch in conv2d (channel counts of x and w differ): [2, 3, 5, 5] and "
                         "[4, 2, 3, 3]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::conv2d(x.reshape({6, 5, 5}), w),
                         "etape: shape mismatch in conv2d (needs x [N, C, H, W] and w [F, C, KH, KW]): [6, 5, 5] and "
                         "[4, 3, 3, 3]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS(
        (void)etape::conv2d(x, w.reshape({4, 27})),
        "etape: shape mismatch in conv2d (needs x [N, C, H, W] and w [F, C, KH, KW]): [2, 3, 5, 5] and "
        "[4, 27]",
        etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::conv2d(x, etape::tensor<double>({4, 3, 6, 3})),
                         "etape: shape mismatch in conv2d (kernel larger than the input with padding 0): [2, 3, 5, 5] "
                         "and [4, 3, 6, 3]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::conv2d(x, etape::tensor<double>({4, 3, 3, 8}), {.stride = 1, .padding = 1}),
                         "etape: shape mismatch in conv2d (kernel larger than the input with padding 1): [2, 3, 5, 5] "
                         "and [4, 3, 3, 8]",
                         etape::shape_error);
    CHECK_NOTHROW((void)etape::conv2d(x, etape::tensor<double>({4, 3, 7, 7}), {.stride = 1, .padding = 1}));
    CHECK_THROWS_WITH_AS((void)etape::conv2d(x, w, etape::tensor<double>({3})),
                         "etape: shape mismatch in conv2d (bias needs one value per filter of w): [4, 3, 3, 3] and [3]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::conv2d(x, w, etape::tensor<double>({1, 4})),
                         "etape: shape mismatch in conv2d (bias needs one value per filter of w): [4, 3, 3, 3] and "
                         "[1, 4]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)etape::conv2d(x, w, {.stride = 0}), "etape: conv2d needs a stride of at least 1, got 0",
                         std::invalid_argument);
    // nothing was recorded by the calls that threw
    CHECK(scope.get().stats().nodes == 1);
}

TEST_CASE_TEMPLATE("conv2d of an empty batch", T, ETAPE_TEST_TYPES)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(etape::tensor<T>({0, 2, 5, 5}));
    const etape::active_tensor<T> w(spread<T>({3, 2, 3, 3}));
    const etape::active_tensor<T> b(spread<T>({3}));
    const etape::active_tensor<T> y = etape::conv2d(x, w, b, {.stride = 2, .padding = 1});
    CHECK(y.shape() == etape::shape{0, 3, 3, 3});
    const etape::var<T> s = etape::sum(y * y);
    CHECK(s.value() == T(0));
    const auto [gx, gw, gb] = etape::gradient(s, x, w, b);
    CHECK(gx.size() == 0);
    for (const T g : gw.values())
        CHECK(g == T(0));
    for (const T g : gb.values())
        CHECK(g == T(0));
}

TEST_CASE_TEMPLATE("conv2d propagates NaN", T, ETAPE_TEST_TYPES)
{
    // x [1, 1, 4, 4] with one NaN at (0, 0); a 2 x 2 kernel, stride 2: only
    // output (0, 0) reads it
    auto xv = spread<T>({1, 1, 4, 4}, 1.0);
    xv(0, 0, 0, 0) = std::numeric_limits<T>::quiet_NaN();
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(xv);
    const etape::active_tensor<T> w(spread<T>({1, 1, 2, 2}, 0.5));
    const etape::active_tensor<T> y = etape::conv2d(x, w, {.stride = 2});
    REQUIRE(y.shape() == etape::shape{1, 1, 2, 2});
    CHECK(std::isnan(y.values()[0]));
    CHECK(std::isfinite(y.values()[1]));
    CHECK(std::isfinite(y.values()[2]));
    CHECK(std::isfinite(y.values()[3]));
    // the adjoints of y do not depend on y here, so dx stays finite and dw is NaN
    const auto [gx, gw] = etape::gradient(etape::sum(y * T(3)), x, w);
    for (const T g : gx.values())
        CHECK(std::isfinite(g));
    CHECK(gx(0, 0, 0, 0) == doctest::Approx(3 * w.values()[0]));
    CHECK(std::isnan(gw(0, 0, 0, 0)));
}
