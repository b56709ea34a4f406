// The layers besides dense: conv2d, max and average pooling, flatten,
// dropout, embedding. Each forward against a hand computation, the
// gradients against central differences, the node counts, the modes, and
// the errors that name the layer.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include <etape/etape.hpp>
#include <etape/nn/conv2d.hpp>
#include <etape/nn/dropout.hpp>
#include <etape/nn/embedding.hpp>
#include <etape/nn/flatten.hpp>
#include <etape/nn/parameters.hpp>
#include <etape/nn/pooling.hpp>

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

TEST_CASE("embedding: an index out of range names the layer, the index and the vocabulary; N(0, 1) initialisation")
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
