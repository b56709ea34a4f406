// The layers besides dense: conv2d, max and average pooling, flatten,
// dropout, layer and batch normalisation, embedding. Each forward against a
// hand computation, the gradients of every input and parameter against
// central differences, the node counts, the modes, and the errors that name
// the layer.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <boost/hana/define_struct.hpp>
#include <doctest/doctest.h>

#include <etape/etape.hpp>
#include <etape/nn/conv2d.hpp>
#include <etape/nn/dense.hpp>
#include <etape/nn/dropout.hpp>
#include <etape/nn/embedding.hpp>
#include <etape/nn/flatten.hpp>
#include <etape/nn/normalization.hpp>
#include <etape/nn/parameters.hpp>
#include <etape/nn/pooling.hpp>
#include <etape/nn/sequential.hpp>

#include "support/tensor_check.hpp"

namespace nn = etape::nn;

namespace {

using numbers = std::vector<std::vector<long double>>;

template <class T>
std::vector<long double> as_numbers(std::span<const T> values)
{
    return {values.begin(), values.end()};
}

/// The sample mean and standard deviation of `values`.
template <class T>
std::pair<double, double> moments(std::span<const T> values)
{
    double mean = 0, squares = 0;
    for (const T v : values)
        mean += static_cast<double>(v) / static_cast<double>(values.size());
    for (const T v : values)
        squares += (static_cast<double>(v) - mean) * (static_cast<double>(v) - mean);
    return {mean, std::sqrt(squares / static_cast<double>(values.size()))};
}

} // namespace

// ---- conv2d -----------------------------------------------------------------

namespace {

/// conv2d written out: y[n, f, i, j] = b[f] + sum w[f, c, p, q] x[n, c, i s + p - pad, j s + q - pad].
std::vector<long double> conv2d_reference(const std::vector<long double>& x, const std::vector<long double>& w,
                                          const std::vector<long double>& b, const etape::shape& xs,
                                          const etape::shape& ws, std::size_t stride, std::size_t padding)
{
    const std::size_t n = xs[0], c = xs[1], h = xs[2], wd = xs[3], f = ws[0], kh = ws[2], kw = ws[3];
    const std::size_t oh = (h + 2 * padding - kh) / stride + 1, ow = (wd + 2 * padding - kw) / stride + 1;
    std::vector<long double> y(n * f * oh * ow);
    for (std::size_t in = 0; in < n; ++in)
        for (std::size_t fi = 0; fi < f; ++fi)
            for (std::size_t i = 0; i < oh; ++i)
                for (std::size_t j = 0; j < ow; ++j) {
                    long double s = b[fi];
                    for (std::size_t ci = 0; ci < c; ++ci)
                        for (std::size_t p = 0; p < kh; ++p)
                            for (std::size_t q = 0; q < kw; ++q) {
                                const long long r =
                                    static_cast<long long>(i * stride + p) - static_cast<long long>(padding);
                                const long long col =
                                    static_cast<long long>(j * stride + q) - static_cast<long long>(padding);
                                if (r < 0 || col < 0 || r >= static_cast<long long>(h) ||
                                    col >= static_cast<long long>(wd))
                                    continue;
                                s += w[((fi * c + ci) * kh + p) * kw + q] *
                                     x[((in * c + ci) * h + static_cast<std::size_t>(r)) * wd +
                                       static_cast<std::size_t>(col)];
                            }
                    y[((in * f + fi) * oh + i) * ow + j] = s;
                }
    return y;
}

} // namespace

TEST_CASE_TEMPLATE("conv2d layer: a 2x2 kernel of ones sums each window, plus the bias, by hand", T, float, double)
{
    etape::tape_scope<T> scope;
    nn::conv2d<T, nn::activation::relu> layer(1, 1, 2);
    std::ranges::fill(layer.weight.values(), T(1));
    layer.bias.values()[0] = T(-20);
    const etape::tensor<T> x({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
    const etape::active_tensor<T> y = layer(x);
    REQUIRE(y.shape() == etape::shape{1, 1, 2, 2});
    // windows 1+2+4+5 = 12, 16, 24, 28, minus 20, then relu
    CHECK(y.values()[0] == T(0));
    CHECK(y.values()[1] == T(0));
    CHECK(y.values()[2] == T(4));
    CHECK(y.values()[3] == T(8));
}

TEST_CASE_TEMPLATE("conv2d layer: stride, padding and ELU against the convolution written out", T, float, double)
{
    etape::tape_scope<T> scope;
    const etape::conv2d_options options{2, 1};
    nn::conv2d<T, nn::activation::elu> layer(2, 3, 3, 2, options);
    CHECK(layer.weight.shape() == etape::shape{3, 2, 3, 2});
    CHECK(layer.bias.shape() == etape::shape{3});
    const auto w = etape_test::spread<T>(layer.weight.shape(), 0.5);
    const auto b = etape_test::spread<T>(layer.bias.shape(), 0.5);
    std::ranges::copy(w.values(), layer.weight.values().begin());
    std::ranges::copy(b.values(), layer.bias.values().begin());
    const auto x = etape_test::spread<T>({2, 2, 5, 4}, 2.0);
    const etape::active_tensor<T> y = layer(x);
    REQUIRE(y.shape() == etape::shape{2, 3, 3, 3});
    const auto z = conv2d_reference(as_numbers(x.values()), as_numbers(w.values()), as_numbers(b.values()), x.shape(),
                                    w.shape(), 2, 1);
    for (std::size_t k = 0; k < z.size(); ++k) {
        CAPTURE(k);
        const long double want = z[k] > 0 ? z[k] : std::expm1(z[k]);
        CHECK(static_cast<double>(y.values()[k]) == doctest::Approx(static_cast<double>(want)).epsilon(1e-5));
    }
}

TEST_CASE("conv2d layer: the convolution is one node, the activation one fused node after it")
{
    etape::tape_scope<double> scope;
    nn::conv2d<double, nn::activation::tanh> activated(1, 2, 3);
    nn::conv2d<double> linear(1, 2, 3);
    const etape::tensor<double> x({2, 1, 5, 5}, 0.5);
    auto before = scope.get().stats();
    (void)activated(x);
    CHECK(scope.get().stats().nodes - before.nodes == 2);
    before = scope.get().stats();
    (void)linear(x);
    CHECK(scope.get().stats().nodes - before.nodes == 1);
    CHECK(scope.get().stats().statements == before.statements);
}

TEST_CASE_TEMPLATE("conv2d layer: gradients of input, weight and bias against central differences", T, float, double)
{
    const etape::shape xs{2, 2, 4, 3}, ws{2, 2, 2, 2};
    const etape::conv2d_options options{1, 1};
    const auto r = etape_test::output_weights<T>({2, 2, 5, 4});
    etape_test::check_tensor_gradients<T>(
        [&](const std::vector<etape::active_tensor<T>>& a) {
            nn::conv2d<T, nn::activation::selu> layer(2, 2, 2, options);
            layer.weight = a[1];
            layer.bias = a[2];
            return etape_test::loss(layer(a[0]), r);
        },
        [&](const numbers& v) {
            auto z = conv2d_reference(v[0], v[1], v[2], xs, ws, 1, 1);
            constexpr long double alpha = 1.6732632423543772848170429916717L;
            constexpr long double scale = 1.0507009873554804934193349852946L;
            for (auto& e : z)
                e = scale * (e > 0 ? e : alpha * std::expm1(e));
            return etape_test::loss<T>(z, r);
        },
        {etape_test::spread<T>(xs, 1.0), etape_test::spread<T>(ws, 0.7), etape_test::spread<T>({2}, 0.3)});
}

TEST_CASE("conv2d layer: initialisation with fans C KH KW in and F KH KW out")
{
    etape::tape_scope<double> scope;
    // He normal for ReLU: standard deviation sqrt(2 / (8 * 3 * 3)) = 1/6
    nn::conv2d<double, nn::activation::relu> he(8, 16, 3);
    // Glorot uniform for a linear layer: limit sqrt(6 / (72 + 144)) = 1/6
    nn::conv2d<double> glorot(8, 16, 3);
    nn::random_generator random(5);
    he.initialize(random);
    glorot.initialize(random);
    const auto [mean, deviation] = moments<double>(he.weight.values());
    CHECK(std::abs(mean) < 0.02);
    CHECK(deviation == doctest::Approx(1.0 / 6).epsilon(0.08));
    const auto largest = std::ranges::max(glorot.weight.values(), {}, [](double v) { return std::abs(v); });
    CHECK(std::abs(largest) <= 1.0 / 6);
    CHECK(std::abs(largest) > 0.95 / 6);
    CHECK(std::ranges::all_of(he.bias.values(), [](double v) { return v == 0; }));
}

TEST_CASE("conv2d layer: a wrong input names the layer, what it expects and the shape given")
{
    etape::tape_scope<float> scope;
    nn::conv2d<float> layer(3, 4, 5, {1, 1});
    layer.set_name("features.c1");
    CHECK_THROWS_WITH_AS((void)layer(etape::tensor<float>({2, 1, 8, 8})),
                         "etape::nn: features.c1 (conv2d) expects an input [N, 3, H, W] with H >= 3 and W >= 3, got "
                         "[2, 1, 8, 8]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)layer(etape::tensor<float>({2, 3, 2, 8})),
                         "etape::nn: features.c1 (conv2d) expects an input [N, 3, H, W] with H >= 3 and W >= 3, got "
                         "[2, 3, 2, 8]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)nn::conv2d<float>(1, 1, 3, 3, {1, 3})(etape::tensor<float>({1, 1, 8})),
                         "etape::nn: conv2d expects an input [N, 1, H, W], got [1, 1, 8]", etape::shape_error);
    CHECK_THROWS_WITH_AS((void)nn::conv2d<float>(1, 1, 3, {0, 0}),
                         "etape::nn: conv2d needs a kernel of at least 1 x 1 and a stride of at least 1, got 3 x 3 "
                         "and stride 0",
                         std::invalid_argument);
}

// ---- pooling ----------------------------------------------------------------

TEST_CASE_TEMPLATE("pooling layers: maxima and means of 2x2 windows by hand, and their gradients", T, float, double)
{
    etape::tape_scope<T> scope;
    const etape::active_tensor<T> x(
        etape::tensor<T>({1, 1, 4, 4}, {1, 5, 2, 0, 3, 4, 8, 7, -1, -2, 6, 6, -3, -4, 9, 5}));
    const nn::max_pool2d max_pool;
    const nn::avg_pool2d avg_pool;
    const etape::active_tensor<T> m = max_pool(x), a = avg_pool(x);
    REQUIRE(m.shape() == etape::shape{1, 1, 2, 2});
    REQUIRE(a.shape() == etape::shape{1, 1, 2, 2});
    CHECK(std::ranges::equal(m.values(), std::vector<T>{5, 8, -1, 9}));
    CHECK(std::ranges::equal(a.values(), std::vector<T>{T(13) / 4, T(17) / 4, T(-10) / 4, T(26) / 4}));
    const auto [g] = etape::gradient(etape::sum(m * etape::tensor<T>({1, 1, 2, 2}, {1, 2, 3, 4}) + a), x);
    // each element gets 1/4 from the mean; the maxima 5, 8, -1, 9 also get 1, 2, 3, 4
    const std::vector<T> want{0.25, 1.25, 0.25, 0.25, 0.25, 0.25, 2.25, 0.25,
                              3.25, 0.25, 0.25, 0.25, 0.25, 0.25, 4.25, 0.25};
    CHECK(std::ranges::equal(g.values(), want));
}

TEST_CASE("pooling layers: gradients against central differences, with overlapping windows")
{
    const etape::shape xs{2, 2, 5, 4};
    const etape::pool2d_options options{3, 1};
    const auto r = etape_test::output_weights<double>({2, 2, 3, 2});
    // window (i, j) of plane k: rows i .. i + 2, columns j .. j + 2
    const auto pooled = [](std::span<const long double> x, bool take_max) {
        std::vector<long double> y;
        for (std::size_t plane = 0; plane < 4; ++plane)
            for (std::size_t i = 0; i < 3; ++i)
                for (std::size_t j = 0; j < 2; ++j) {
                    long double best = x[plane * 20 + i * 4 + j], total = 0;
                    for (std::size_t p = 0; p < 3; ++p)
                        for (std::size_t q = 0; q < 3; ++q) {
                            best = std::max(best, x[plane * 20 + (i + p) * 4 + j + q]);
                            total += x[plane * 20 + (i + p) * 4 + j + q];
                        }
                    y.push_back(take_max ? best : total / 9);
                }
        return y;
    };
    for (const bool take_max : {true, false}) {
        CAPTURE(take_max);
        etape_test::check_tensor_gradient<double>(
            [&](const etape::active_tensor<double>& x) {
                return etape_test::loss(take_max ? nn::max_pool2d(options)(x) : nn::avg_pool2d(options)(x), r);
            },
            [&](std::span<const long double> x) { return etape_test::loss<double>(pooled(x, take_max), r); },
            etape_test::spread<double>(xs));
    }
}

TEST_CASE("pooling layers: overlapping windows, one node each, and a wrong input naming the layer")
{
    etape::tape_scope<double> scope;
    const etape::active_tensor<double> x(etape_test::spread<double>({2, 3, 5, 4}));
    const nn::max_pool2d overlapping(etape::pool2d_options{3, 1});
    CHECK(overlapping.options().size == 3);
    CHECK(nn::avg_pool2d(3).options().stride == 3);
    const auto before = scope.get().stats();
    CHECK(overlapping(x).shape() == etape::shape{2, 3, 3, 2});
    CHECK(nn::avg_pool2d(2)(x).shape() == etape::shape{2, 3, 2, 2});
    CHECK(scope.get().stats().nodes - before.nodes == 2);

    nn::max_pool2d pool(3);
    pool.set_name("trunk.pool");
    CHECK_THROWS_WITH_AS((void)pool(etape::active_tensor<double>(etape::tensor<double>({1, 2, 2, 8}))),
                         "etape::nn: trunk.pool (max_pool2d) expects an input [N, C, H, W] with H >= 3 and W >= 3, "
                         "got [1, 2, 2, 8]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)nn::avg_pool2d()(etape::active_tensor<double>(etape::tensor<double>({4, 4}))),
                         "etape::nn: avg_pool2d expects an input [N, C, H, W] with H >= 2 and W >= 2, got [4, 4]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS(nn::max_pool2d(0), "etape::nn: max_pool2d needs a window and a stride of at least 1, got "
                                            "window 0 and stride 0",
                         std::invalid_argument);
}

// ---- flatten ----------------------------------------------------------------

TEST_CASE("flatten: [N, C, H, W] to [N, C H W] as a view, with no node")
{
    etape::tape_scope<float> scope;
    const nn::flatten flat;
    const etape::active_tensor<float> x(etape_test::spread<float>({2, 3, 2, 2}));
    const auto before = scope.get().stats();
    const etape::active_tensor<float> y = flat(x);
    CHECK(scope.get().stats().nodes == before.nodes);
    CHECK(y.shape() == etape::shape{2, 12});
    CHECK(y.first_slot() == x.first_slot());
    CHECK(y.data() == x.data());
    // an expression is recorded first (one fused node), then viewed
    CHECK(flat(x * 2.0f).shape() == etape::shape{2, 12});
    CHECK(scope.get().stats().nodes - before.nodes == 1);
    // a value tensor stays one, sharing its storage
    const etape::tensor<float> data({4, 1, 3}, 1.0f);
    const etape::tensor<float> rows = flat(data);
    CHECK(rows.shape() == etape::shape{4, 3});
    CHECK(rows.data() == data.data());
    CHECK(flat(etape::tensor<float>({0, 5, 2})).shape() == etape::shape{0, 10});
    CHECK_THROWS_WITH_AS((void)flat(etape::tensor<float>({6})),
                         "etape::nn: flatten expects an input [N, ...] of rank 2 or more, got [6]", etape::shape_error);
}

// ---- dropout ----------------------------------------------------------------

TEST_CASE_TEMPLATE("dropout: in training, about p of the elements zeroed, the others scaled by 1 / (1 - p)", T, float,
                   double)
{
    etape::tape_scope<T> scope;
    nn::dropout<T> drop(0.25);
    CHECK(drop.training());
    nn::random_generator run(11);
    drop.initialize(run);
    const etape::active_tensor<T> x(etape::tensor<T>({100, 100}, T(1)));
    const auto before = scope.get().stats();
    const etape::active_tensor<T> y = drop(x);
    CHECK(scope.get().stats().nodes - before.nodes == 1);
    REQUIRE(y.shape() == x.shape());
    const T kept = static_cast<T>(1 / 0.75);
    const auto zeros = std::ranges::count(y.values(), T(0));
    CHECK(std::ranges::count(y.values(), kept) + zeros == 10000);
    // binomial(10000, 0.25): standard deviation 43
    CHECK(zeros > 2500 - 200);
    CHECK(zeros < 2500 + 200);
    // the mean is kept: 1 within a few standard deviations (0.006) of the sample mean
    CHECK(moments<T>(y.values()).first == doctest::Approx(1.0).epsilon(0.03));
    CHECK(std::ranges::equal(y.values(), drop.mask().values()));
}

TEST_CASE("dropout: the gradient is the mask, and the mask comes from the layer's seeded stream")
{
    etape::tape_scope<double> scope;
    nn::dropout<double> a(0.5), b(0.5), c(0.5);
    nn::random_generator run_a(3), run_b(3), run_c(4);
    a.initialize(run_a);
    b.initialize(run_b);
    c.initialize(run_c);
    const etape::active_tensor<double> x(etape_test::spread<double>({8, 16}));
    const etape::active_tensor<double> ya = a(x), yb = b(x), yc = c(x);
    CHECK(std::ranges::equal(ya.values(), yb.values())); // the same seed, the same mask
    CHECK(!std::ranges::equal(ya.values(), yc.values()));
    const etape::tensor<double> first_mask = a.mask();
    const double* buffer = a.mask().data();
    const etape::active_tensor<double> again = a(x);
    CHECK(!std::ranges::equal(again.values(), ya.values())); // the stream moves on
    CHECK(a.mask().data() == buffer);                        // into the same buffer
    const auto r = etape_test::output_weights<double>(x.shape());
    const auto [g] = etape::gradient(etape::sum(ya * r), x);
    for (std::size_t k = 0; k < g.size(); ++k) {
        CAPTURE(k);
        CHECK(g.values()[k] == first_mask.values()[k] * r.values()[k]);
        CHECK(ya.values()[k] == first_mask.values()[k] * x.values()[k]);
    }
}

TEST_CASE("dropout: the gradient against central differences, the mask held fixed")
{
    nn::dropout<double> drop(0.3);
    const auto r = etape_test::output_weights<double>({4, 6});
    etape_test::check_tensor_gradient<double>(
        [&](const etape::active_tensor<double>& x) { return etape_test::loss(drop(x), r); },
        [&](std::span<const long double> x) {
            std::vector<long double> y(x.size());
            for (std::size_t k = 0; k < x.size(); ++k)
                y[k] = drop.mask().values()[k] * x[k];
            return etape_test::loss<double>(y, r);
        },
        etape_test::spread<double>({4, 6}));
}

TEST_CASE("dropout: the identity in evaluation mode and for p = 0, zeros for p = 1, and p checked")
{
    etape::tape_scope<float> scope;
    nn::dropout<float> drop(0.9);
    drop.set_training(false);
    const etape::active_tensor<float> x(etape_test::spread<float>({3, 7}));
    const auto before = scope.get().stats();
    const etape::active_tensor<float> y = drop(x);
    CHECK(scope.get().stats().nodes == before.nodes);
    CHECK(y.first_slot() == x.first_slot());
    CHECK(std::ranges::equal(y.values(), x.values()));
    CHECK(nn::dropout<float>(0)(x).first_slot() == x.first_slot());
    const etape::active_tensor<float> none = nn::dropout<float>(1)(x);
    CHECK(std::ranges::all_of(none.values(), [](float v) { return v == 0; }));
    CHECK_THROWS_WITH_AS(nn::dropout<float>(1.5), "etape::nn: dropout needs a probability in [0, 1], got 1.5",
                         std::invalid_argument);
    CHECK_THROWS_AS(nn::dropout<float>(std::nan("")), std::invalid_argument);
}

// ---- embedding --------------------------------------------------------------

TEST_CASE_TEMPLATE("embedding: rows of the table by index, the gradients of repeated rows adding up", T, float, double)
{
    etape::tape_scope<T> scope;
    nn::embedding<T> embed(5, 3);
    CHECK(embed.weight.shape() == etape::shape{5, 3});
    const auto table = etape_test::spread<T>({5, 3});
    std::ranges::copy(table.values(), embed.weight.values().begin());
    const std::vector<std::size_t> tokens{4, 0, 4, 2};
    const etape::active_tensor<T> y = embed(tokens);
    REQUIRE(y.shape() == etape::shape{4, 3});
    for (std::size_t k = 0; k < tokens.size(); ++k)
        for (std::size_t j = 0; j < 3; ++j)
            CHECK(y(k, j).value() == table(tokens[k], j));
    const std::size_t pair[] = {1, 3};
    CHECK(embed(std::span<const std::size_t>(pair)).shape() == etape::shape{2, 3});

    const auto r = etape_test::output_weights<T>(y.shape());
    const auto [g] = etape::gradient(etape::sum(y * r), embed.weight);
    for (std::size_t j = 0; j < 3; ++j) {
        CHECK(g(4, j) == r(0, j) + r(2, j));
        CHECK(g(0, j) == r(1, j));
        CHECK(g(2, j) == r(3, j));
        CHECK(g(1, j) == 0);
        CHECK(g(3, j) == 0);
    }
}

TEST_CASE("embedding: the table's gradient against central differences")
{
    const std::vector<std::size_t> tokens{2, 0, 2, 3, 2};
    const auto r = etape_test::output_weights<double>({5, 4});
    etape_test::check_tensor_gradient<double>(
        [&](const etape::active_tensor<double>& table) {
            nn::embedding<double> embed(4, 4);
            embed.weight = table;
            return etape_test::loss(embed(tokens), r);
        },
        [&](std::span<const long double> table) {
            std::vector<long double> y;
            for (const std::size_t t : tokens)
                y.insert(y.end(), table.begin() + static_cast<std::ptrdiff_t>(t * 4),
                         table.begin() + static_cast<std::ptrdiff_t>(t * 4 + 4));
            return etape_test::loss<double>(y, r);
        },
        etape_test::spread<double>({4, 4}));
}

TEST_CASE("embedding: an index out of range names the layer, the index and the vocabulary, and the weights start N(0, 1)")
{
    etape::tape_scope<double> scope;
    nn::embedding<double> embed(10, 400);
    embed.set_name("tokens");
    CHECK_THROWS_WITH_AS((void)embed(std::vector<std::size_t>{1, 2, 10}),
                         "etape::nn: tokens (embedding) got index 10 at position 2, outside its vocabulary of 10",
                         std::out_of_range);
    nn::random_generator run(9);
    nn::initialize(embed, run);
    const auto [mean, deviation] = moments<double>(embed.weight.values());
    CHECK(std::abs(mean) < 0.05);
    CHECK(deviation == doctest::Approx(1.0).epsilon(0.05));
}

// ---- layer normalisation ----------------------------------------------------

namespace {

/// Layer normalisation of rows of `width`, written out.
std::vector<long double> layer_norm_reference(const std::vector<long double>& x, const std::vector<long double>& g,
                                              const std::vector<long double>& b, std::size_t width, long double eps)
{
    std::vector<long double> y(x.size());
    for (std::size_t r = 0; r < x.size() / width; ++r) {
        long double mean = 0, var = 0;
        for (std::size_t i = 0; i < width; ++i)
            mean += x[r * width + i] / static_cast<long double>(width);
        for (std::size_t i = 0; i < width; ++i)
            var += (x[r * width + i] - mean) * (x[r * width + i] - mean) / static_cast<long double>(width);
        for (std::size_t i = 0; i < width; ++i)
            y[r * width + i] = g[i] * (x[r * width + i] - mean) / std::sqrt(var + eps) + b[i];
    }
    return y;
}

} // namespace

TEST_CASE_TEMPLATE("layer_norm: each row by its mean and variance, then gain and bias, by hand", T, float, double)
{
    etape::tape_scope<T> scope;
    nn::layer_norm<T> norm(4);
    CHECK(std::ranges::all_of(norm.gain.values(), [](T v) { return v == 1; }));
    std::ranges::copy(std::vector<T>{1, 2, -1, 0.5}, norm.gain.values().begin());
    std::ranges::copy(std::vector<T>{0, 0.5, 0, -1}, norm.bias.values().begin());
    const etape::tensor<T> x({2, 4}, {1, 2, 3, 4, -2, 0, 0, 6});
    const etape::active_tensor<T> y = norm(x);
    REQUIRE(y.shape() == etape::shape{2, 4});
    // row 0: mean 2.5, variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25
    // row 1: mean 1, variance (9 + 1 + 1 + 25) / 4 = 9
    const double s0 = 1 / std::sqrt(1.25 + 1e-5), s1 = 1 / std::sqrt(9 + 1e-5);
    const std::vector<double> want{-1.5 * s0, 2 * -0.5 * s0 + 0.5, -1 * 0.5 * s0, 0.5 * 1.5 * s0 - 1,
                                   -3 * s1,   2 * -1 * s1 + 0.5,   -1 * -1 * s1,  0.5 * 5 * s1 - 1};
    for (std::size_t k = 0; k < want.size(); ++k) {
        CAPTURE(k);
        CHECK(static_cast<double>(y.values()[k]) == doctest::Approx(want[k]).epsilon(1e-6));
    }
}

TEST_CASE_TEMPLATE("layer_norm: gradients of input, gain and bias against central differences", T, float, double)
{
    const std::size_t width = 5;
    const etape::shape xs{2, 3, width};
    const auto r = etape_test::output_weights<T>(xs);
    etape_test::check_tensor_gradients<T>(
        [&](const std::vector<etape::active_tensor<T>>& a) {
            nn::layer_norm<T> norm(width);
            norm.gain = a[1];
            norm.bias = a[2];
            return etape_test::loss(norm(a[0]), r);
        },
        [&](const numbers& v) { return etape_test::loss<T>(layer_norm_reference(v[0], v[1], v[2], width, 1e-5L), r); },
        {etape_test::spread<T>(xs, 2.0), etape_test::spread<T>({width}, 1.5), etape_test::spread<T>({width}, 0.5)});
}

TEST_CASE("layer_norm: one node per call, for any rank, and a wrong width naming the layer")
{
    etape::tape_scope<double> scope;
    nn::layer_norm<double> norm(3);
    const etape::active_tensor<double> x(etape_test::spread<double>({2, 2, 3}));
    const auto before = scope.get().stats();
    CHECK(norm(x).shape() == etape::shape{2, 2, 3});
    CHECK(norm(etape::tensor<double>({3}, {1, 2, 4})).shape() == etape::shape{3});
    CHECK(scope.get().stats().nodes - before.nodes == 2);
    CHECK(scope.get().stats().statements == before.statements);
    norm.set_name("encoder.norm");
    CHECK_THROWS_WITH_AS((void)norm(etape::tensor<double>({2, 4})),
                         "etape::nn: encoder.norm (layer_norm) expects an input [..., 3], got [2, 4]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS(nn::layer_norm<double>(3, -1.0), "etape::nn: layer_norm needs an epsilon in [0, inf], got -1",
                         std::invalid_argument);
}

// ---- batch normalisation ----------------------------------------------------

namespace {

/// Batch normalisation of x [n, c, plane] per channel, written out: with
/// the batch's statistics, or with the given mean and variance.
std::vector<long double> batch_norm_reference(const std::vector<long double>& x, const std::vector<long double>& g,
                                              const std::vector<long double>& b, std::size_t n, std::size_t c,
                                              std::size_t plane, const std::vector<long double>* fixed_mean = nullptr,
                                              const std::vector<long double>* fixed_var = nullptr)
{
    std::vector<long double> y(x.size());
    const auto m = static_cast<long double>(n * plane);
    for (std::size_t ch = 0; ch < c; ++ch) {
        long double mean = 0, var = 0;
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t k = 0; k < plane; ++k)
                mean += x[(i * c + ch) * plane + k] / m;
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t k = 0; k < plane; ++k)
                var += (x[(i * c + ch) * plane + k] - mean) * (x[(i * c + ch) * plane + k] - mean) / m;
        if (fixed_mean) {
            mean = (*fixed_mean)[ch];
            var = (*fixed_var)[ch];
        }
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t k = 0; k < plane; ++k) {
                const std::size_t at = (i * c + ch) * plane + k;
                y[at] = g[ch] * (x[at] - mean) / std::sqrt(var + 1e-5L) + b[ch];
            }
    }
    return y;
}

} // namespace

TEST_CASE_TEMPLATE("batch_norm: training uses the batch's statistics and moves the running ones by the momentum", T,
                   float, double)
{
    etape::tape_scope<T> scope;
    nn::batch_norm<T> norm(2);
    CHECK(norm.training());
    std::ranges::copy(std::vector<T>{2, 0.5}, norm.gain.values().begin());
    std::ranges::copy(std::vector<T>{1, -1}, norm.bias.values().begin());
    // channel 0: 1, 2, 3, 6: mean 3, variance 14 / 4 (unbiased 14 / 3)
    // channel 1: 10, 20, 30, 40: mean 25, variance 500 / 4 (unbiased 500 / 3)
    const etape::tensor<T> x({4, 2}, {1, 10, 2, 20, 3, 30, 6, 40});
    const etape::active_tensor<T> y = norm(x);
    const double s0 = 1 / std::sqrt(3.5 + 1e-5), s1 = 1 / std::sqrt(125 + 1e-5);
    // rows of x: (1, 10), (2, 20), (3, 30), (6, 40)
    const std::vector<double> want{2 * -2 * s0 + 1, 0.5 * -15 * s1 - 1, //
                                   2 * -1 * s0 + 1, 0.5 * -5 * s1 - 1,  //
                                   2 * 0 * s0 + 1,  0.5 * 5 * s1 - 1,   //
                                   2 * 3 * s0 + 1,  0.5 * 15 * s1 - 1};
    for (std::size_t k = 0; k < want.size(); ++k) {
        CAPTURE(k);
        CHECK(static_cast<double>(y.values()[k]) == doctest::Approx(want[k]).epsilon(1e-6));
    }
    CHECK(static_cast<double>(norm.running_mean(0)) == doctest::Approx(0.3));
    CHECK(static_cast<double>(norm.running_mean(1)) == doctest::Approx(2.5));
    CHECK(static_cast<double>(norm.running_var(0)) == doctest::Approx(0.9 + 0.1 * 14 / 3.0));
    CHECK(static_cast<double>(norm.running_var(1)) == doctest::Approx(0.9 + 0.1 * 500 / 3.0));
    // a second batch moves them again: running = 0.9 running + 0.1 batch
    (void)norm(etape::tensor<T>({2, 2}, {0, 0, 2, 4}));
    CHECK(static_cast<double>(norm.running_mean(0)) == doctest::Approx(0.9 * 0.3 + 0.1 * 1));
    CHECK(static_cast<double>(norm.running_mean(1)) == doctest::Approx(0.9 * 2.5 + 0.1 * 2));
    CHECK(static_cast<double>(norm.running_var(0)) == doctest::Approx(0.9 * (0.9 + 0.1 * 14 / 3.0) + 0.1 * 2));
    CHECK(static_cast<double>(norm.running_var(1)) == doctest::Approx(0.9 * (0.9 + 0.1 * 500 / 3.0) + 0.1 * 8));
}

TEST_CASE_TEMPLATE("batch_norm: evaluation uses the running statistics and leaves them be", T, float, double)
{
    etape::tape_scope<T> scope;
    nn::batch_norm<T> norm(2, {0.5, 1e-5});
    norm.gain.values()[1] = T(3);
    norm.bias.values()[0] = T(0.5);
    norm.running_mean.values()[0] = T(1);
    norm.running_mean.values()[1] = T(-2);
    norm.running_var.values()[0] = T(4);
    norm.running_var.values()[1] = T(0.25);
    norm.set_training(false);
    const etape::tensor<T> x({1, 2, 1, 2}, {3, 5, 0, -1});
    const etape::active_tensor<T> y = norm(x); // one value per channel is fine in evaluation
    const double s0 = 1 / std::sqrt(4 + 1e-5), s1 = 1 / std::sqrt(0.25 + 1e-5);
    const std::vector<double> want{2 * s0 + 0.5, 4 * s0 + 0.5, 3 * 2 * s1, 3 * 1 * s1};
    for (std::size_t k = 0; k < want.size(); ++k)
        CHECK(static_cast<double>(y.values()[k]) == doctest::Approx(want[k]).epsilon(1e-6));
    CHECK(norm.running_mean(0) == T(1));
    CHECK(norm.running_var(1) == T(0.25));
}

TEST_CASE_TEMPLATE("batch_norm: gradients of input, gain and bias against central differences", T, float, double)
{
    for (const bool training : {true, false})
        for (const etape::shape xs : {etape::shape{5, 3}, etape::shape{2, 3, 2, 3}}) {
            CAPTURE(training);
            CAPTURE(xs.to_string());
            const std::size_t plane = xs.rank() == 4 ? xs[2] * xs[3] : 1;
            const std::vector<long double> mean{0.25L, -0.5L, 1}, var{0.5L, 2, 1.5L};
            const auto r = etape_test::output_weights<T>(xs);
            etape_test::check_tensor_gradients<T>(
                [&](const std::vector<etape::active_tensor<T>>& a) {
                    nn::batch_norm<T> norm(3);
                    norm.gain = a[1];
                    norm.bias = a[2];
                    for (std::size_t c = 0; c < 3; ++c) {
                        norm.running_mean.values()[c] = static_cast<T>(mean[c]);
                        norm.running_var.values()[c] = static_cast<T>(var[c]);
                    }
                    norm.set_training(training);
                    return etape_test::loss(norm(a[0]), r);
                },
                [&](const numbers& v) {
                    const auto y = training ? batch_norm_reference(v[0], v[1], v[2], xs[0], 3, plane)
                                            : batch_norm_reference(v[0], v[1], v[2], xs[0], 3, plane, &mean, &var);
                    return etape_test::loss<T>(y, r);
                },
                {etape_test::spread<T>(xs, 2.0), etape_test::spread<T>({3}, 1.5), etape_test::spread<T>({3}, 0.5)});
        }
}

TEST_CASE("batch_norm: one node per call, buffers in the walk, modes from set_training, errors naming the layer")
{
    struct block {
        BOOST_HANA_DEFINE_STRUCT(block, (nn::conv2d<double>, conv), (nn::batch_norm<double>, norm),
                                 (nn::dropout<double>, drop));
    };
    etape::tape_scope<double> scope;
    block model{{1, 2, 3}, nn::batch_norm<double>(2), nn::dropout<double>(0.5)};
    nn::random_generator run(1);
    nn::initialize(model, run);
    const auto saved = nn::buffers(model);
    REQUIRE(saved.size() == 2);
    CHECK(saved[0].name == "norm.running_mean");
    CHECK(saved[1].name == "norm.running_var");
    CHECK(saved[1].tensor == &model.norm.running_var);
    CHECK(nn::parameters(model)[3].name == "norm.bias");
    CHECK(nn::parameter_count(model) == 2 * 9 + 2 + 2 + 2);

    const etape::active_tensor<double> x(etape_test::spread<double>({2, 2, 3, 3}));
    const auto before = scope.get().stats();
    (void)model.norm(x);
    CHECK(scope.get().stats().nodes - before.nodes == 1);
    CHECK(scope.get().stats().statements == before.statements);

    nn::set_training(model, false);
    CHECK(!model.norm.training());
    CHECK(!model.drop.training());
    nn::set_training(model, true);
    CHECK(model.drop.training());

    CHECK_THROWS_WITH_AS((void)model.norm(etape::tensor<double>({2, 3, 4, 4})),
                         "etape::nn: norm (batch_norm) expects an input [N, 2] or [N, 2, H, W], got [2, 3, 4, 4]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)model.norm(etape::tensor<double>({1, 2})),
                         "etape::nn: norm (batch_norm) expects more than one value per channel in training mode, got "
                         "[1, 2]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS(nn::batch_norm<double>(2, {1.5, 1e-5}),
                         "etape::nn: batch_norm needs a momentum in [0, 1], got 1.5", std::invalid_argument);
}

TEST_CASE("normalisation and convolution: in anomaly mode a NaN or inf from a finite input names the layer")
{
    etape::tape_scope<float> scope;
    nn::layer_norm<float> rows(3, 0.0);           // epsilon 0: a constant row divides 0 by 0
    nn::batch_norm<float> channels(2, {0.1, 0.0}); // likewise a constant channel
    nn::conv2d<float> conv(1, 1, 1);
    rows.set_name("encoder.norm");
    channels.set_name("trunk.norm");
    conv.set_name("trunk.conv");
    conv.weight.values()[0] = 1e38f; // 1e38 * 10 overflows
    const etape::tensor<float> constant({2, 3}, {1, 2, 3, 4, 4, 4});
    const etape::tensor<float> image({2, 2}, {1, 5, 1, 6});
    const etape::tensor<float> pixels({1, 1, 1, 2}, {1, 10});
    const auto report = [](const auto& forward) {
        try {
            (void)forward();
        } catch (const etape::anomaly_error& e) {
            return std::string(e.what());
        }
        return std::string("no anomaly reported");
    };
    scope.get().detect_anomalies();
    CHECK(report([&] { return rows(constant); }) ==
          "etape::nn anomaly: encoder.norm (layer_norm) produced NaN at element 3 of its output [2, 3] from a finite "
          "input");
    CHECK(report([&] { return channels(image); }) ==
          "etape::nn anomaly: trunk.norm (batch_norm) produced NaN at element 0 of its output [2, 2] from a finite "
          "input");
    CHECK(report([&] { return conv(pixels); }) ==
          "etape::nn anomaly: trunk.conv (conv2d) produced inf at element 1 of its output [1, 1, 1, 2] from a finite "
          "input");
    scope.get().detect_anomalies(false);
    CHECK(std::isnan(rows(constant).values()[3])); // off: the NaN goes through
}

// ---- together ---------------------------------------------------------------

TEST_CASE("layers: a small CNN as a sequential, initialised, run in both modes")
{
    etape::tape_scope<float> scope;
    using cnn = nn::sequential<nn::conv2d<float, nn::activation::elu>, nn::batch_norm<float>, nn::max_pool2d,
                               nn::flatten, nn::dropout<float>, nn::layer_norm<float>, nn::dense<float>>;
    cnn net{{1, 4, 3, {1, 1}}, nn::batch_norm<float>(4), nn::max_pool2d(2), {}, nn::dropout<float>(0.5),
            nn::layer_norm<float>(4 * 4 * 4), {4 * 4 * 4, 10}};
    nn::random_generator run(2024);
    nn::initialize(net, run);
    CHECK(net.layer<3>().name() == "3");
    const etape::tensor<float> images = etape_test::spread<float>({6, 1, 8, 8});
    const etape::active_tensor<float> train = net(images);
    CHECK(train.shape() == etape::shape{6, 10});
    CHECK(!std::ranges::equal(net(images).values(), train.values())); // another dropout mask
    const auto [g] = etape::gradient(etape::sum(train * train), net.layer<0>().weight);
    CHECK(std::ranges::any_of(g.values(), [](float v) { return v != 0; }));
    nn::set_training(net, false);
    const etape::active_tensor<float> first = net(images), second = net(images);
    CHECK(std::ranges::equal(first.values(), second.values())); // no dropout, fixed statistics
}
