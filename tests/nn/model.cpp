// Models as plain structs: the Hana walk's names and counts (nested
// structs, std::array, hana::tuple, sequential), initialisation, the
// summary table, the dense layer against a hand computation and central
// differences, and its error naming the layer.
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include <boost/hana/adapt_struct.hpp>
#include <boost/hana/define_struct.hpp>
#include <doctest/doctest.h>

#include <etape/etape.hpp>
#include <etape/nn/dense.hpp>
#include <etape/nn/parameters.hpp>
#include <etape/nn/sequential.hpp>
#include <etape/nn/summary.hpp>

#include "support/tensor_check.hpp"

namespace nn = etape::nn;

namespace {

struct mlp {
    BOOST_HANA_DEFINE_STRUCT(mlp, (nn::dense<float, nn::activation::elu>, l1), (nn::dense<float, nn::activation::elu>, l2),
                             (nn::dense<float>, out));

    [[nodiscard]] etape::active_tensor<float> operator()(const etape::tensor<float>& x) const { return out(l2(l1(x))); }
};

struct block {
    BOOST_HANA_DEFINE_STRUCT(block, (nn::dense<double, nn::activation::tanh>, inner), (etape::tensor<double>, statistics));
};

struct deep {
    BOOST_HANA_DEFINE_STRUCT(deep, (std::array<block, 2>, blocks), (boost::hana::tuple<nn::dense<double>>, heads),
                             (int, depth));
};

// a struct written without Hana, adapted afterwards
struct adapted {
    nn::dense<double> encoder;
    nn::dense<double> decoder;
};

} // namespace

BOOST_HANA_ADAPT_STRUCT(adapted, encoder, decoder);

TEST_CASE("parameters: dotted names in declaration order, with counts")
{
    etape::tape_scope<float> scope;
    mlp model{{64, 32}, {32, 16}, {16, 10}};
    const auto list = nn::parameters(model);
    std::vector<std::string> names;
    for (const auto& p : list)
        names.push_back(p.name);
    CHECK(names == std::vector<std::string>{"l1.weight", "l1.bias", "l2.weight", "l2.bias", "out.weight", "out.bias"});
    CHECK(list[0].tensor->shape() == etape::shape{32, 64});
    CHECK(list[1].tensor->shape() == etape::shape{32});
    CHECK(list[4].tensor == &model.out.weight);
    CHECK(nn::parameter_count(model) == 64 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10);
}

TEST_CASE("parameters: nested structs, std::array and hana::tuple members, buffers and numbers")
{
    etape::tape_scope<double> scope;
    deep model{{block{{3, 4}, etape::tensor<double>({4})}, block{{4, 4}, etape::tensor<double>({4})}},
               boost::hana::make_tuple(nn::dense<double>(4, 2)), 2};
    std::vector<std::string> names;
    for (const auto& p : nn::parameters(model))
        names.push_back(p.name);
    CHECK(names == std::vector<std::string>{"blocks.0.inner.weight", "blocks.0.inner.bias", "blocks.1.inner.weight",
                                            "blocks.1.inner.bias", "heads.0.weight", "heads.0.bias"});
    const auto saved = nn::buffers(model);
    REQUIRE(saved.size() == 2);
    CHECK(saved[1].name == "blocks.1.statistics");
    CHECK(nn::parameter_count(model) == 3 * 4 + 4 + 4 * 4 + 4 + 4 * 2 + 2);

    adapted other{{3, 2}, {2, 3}};
    CHECK(nn::parameters(other)[2].name == "decoder.weight");
}

TEST_CASE("initialize: names every layer, draws weights by the activation's rule, zeroes biases, and repeats by seed")
{
    etape::tape_scope<float> scope;
    mlp a{{64, 256}, {256, 256}, {256, 10}}, b{{64, 256}, {256, 256}, {256, 10}};
    nn::random_generator ra(7), rb(7);
    nn::initialize(a, ra);
    nn::initialize(b, rb);
    CHECK(a.l2.name() == "l2");
    CHECK(std::ranges::equal(a.l2.weight.values(), b.l2.weight.values()));
    CHECK(std::ranges::all_of(a.l1.bias.values(), [](float x) { return x == 0; }));
    // He normal for ELU: standard deviation sqrt(2 / 256); Glorot uniform for the linear output
    double squares = 0;
    for (const float w : a.l2.weight.values())
        squares += double(w) * w;
    CHECK(std::sqrt(squares / double(a.l2.weight.size())) == doctest::Approx(std::sqrt(2.0 / 256)).epsilon(0.02));
    const double limit = std::sqrt(6.0 / (256 + 10));
    CHECK(std::ranges::all_of(a.out.weight.values(), [&](float w) { return std::abs(w) <= limit; }));
    nn::random_generator other(8);
    nn::initialize(b, other);
    CHECK(!std::ranges::equal(a.l2.weight.values(), b.l2.weight.values()));
}

TEST_CASE("summary: one line per tensor with its shape and count, then the totals")
{
    etape::tape_scope<double> scope;
    block model{{3, 4}, etape::tensor<double>({4})};
    CHECK(nn::summary(model) == "name                 shape   count\n"
                                "inner.weight         [4, 3]     12\n"
                                "inner.bias           [4]         4\n"
                                "statistics (buffer)  [4]         4\n"
                                "total trainable                 16\n"
                                "total buffers                    4\n");
}

TEST_CASE_TEMPLATE("dense: activation(x W^T + b) for a batch and for one sample, against a hand computation", T, float,
                   double)
{
    etape::tape_scope<T> scope;
    nn::dense<T, nn::activation::elu> layer(3, 2, nn::activation::elu{0.5});
    const std::array<T, 6> w{0.5, -1, 2, 0.25, 0.75, -1.5};
    const std::array<T, 2> b{T(0.1), T(-0.2)};
    std::ranges::copy(w, layer.weight.values().begin());
    std::ranges::copy(b, layer.bias.values().begin());
    const etape::tensor<T> x({2, 3}, {1, 2, 3, -1, 0.5, -2});
    const auto elu = [](long double z) { return z > 0 ? z : 0.5L * std::expm1(z); };
    const etape::active_tensor<T> y = layer(x);
    REQUIRE(y.shape() == etape::shape{2, 2});
    for (std::size_t r = 0; r < 2; ++r)
        for (std::size_t o = 0; o < 2; ++o) {
            long double z = b[o];
            for (std::size_t i = 0; i < 3; ++i)
                z += static_cast<long double>(w[o * 3 + i]) * x(r, i);
            CHECK(y(r, o).value() == doctest::Approx(static_cast<double>(elu(z))));
        }
    // one sample, no reshaping: the second row's result
    const etape::active_tensor<T> single = layer(etape::tensor<T>({3}, {-1, 0.5, -2}));
    REQUIRE(single.shape() == etape::shape{2});
    CHECK(single.values()[0] == y.values()[2]);
    CHECK(single.values()[1] == y.values()[3]);
}

TEST_CASE("dense: the product is one matmul node and bias plus activation one fused node")
{
    etape::tape_scope<double> scope;
    nn::dense<double, nn::activation::elu> layer(3, 2);
    const auto before = scope.get().stats();
    (void)layer(etape::tensor<double>({4, 3}, 1.0));
    const auto after = scope.get().stats();
    CHECK(after.nodes - before.nodes == 2);
    CHECK(after.statements == before.statements);
}

TEST_CASE("dense: gradients of input, weight and bias against central differences")
{
    const std::size_t in = 3, out = 4, rows = 2;
    const auto x0 = etape_test::spread<double>({rows, in}, 1.5);
    const auto w0 = etape_test::spread<double>({out, in}, 1.0);
    const auto b0 = etape_test::spread<double>({out}, 0.5);
    const auto weights = etape_test::spread<double>({rows, out}, 2.0);
    // loss = sum(weights * selu(x W^T + b)) as a function of all three, flattened
    const auto loss_of = [&](std::span<const long double> v) {
        long double s = 0;
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t o = 0; o < out; ++o) {
                long double z = v[rows * in + out * in + o];
                for (std::size_t i = 0; i < in; ++i)
                    z += v[r * in + i] * v[rows * in + o * in + i];
                constexpr long double alpha = 1.6732632423543772848170429916717L, scale = 1.0507009873554804934193349852946L;
                const long double selu = scale * (z > 0 ? z : alpha * std::expm1(z));
                s += static_cast<long double>(weights(r, o)) * selu;
            }
        return s;
    };
    std::vector<double> at;
    for (const auto* t : {&x0, &w0, &b0})
        at.insert(at.end(), t->values().begin(), t->values().end());

    etape::tape_scope<double> scope;
    nn::dense<double, nn::activation::selu> layer(in, out);
    std::ranges::copy(w0.values(), layer.weight.values().begin());
    std::ranges::copy(b0.values(), layer.bias.values().begin());
    const etape::active_tensor<double> x(x0);
    const etape::var<double> loss = etape::sum(layer(x) * weights);
    const auto [gx, gw, gb] = etape::gradient(loss, x, layer.weight, layer.bias);
    std::vector<double> g;
    for (const auto* t : {&gx, &gw, &gb})
        g.insert(g.end(), t->values().begin(), t->values().end());
    etape_test::check_against_differences<double>(loss_of, at, g);
}

TEST_CASE("dense: a wrong input width names the layer, the expected width and the shape given")
{
    etape::tape_scope<float> scope;
    mlp model{{64, 256}, {256, 256}, {256, 10}};
    nn::name_layers(model);
    CHECK_THROWS_WITH_AS((void)model.l2(etape::tensor<float>({64, 128})),
                         "etape::nn: l2 (dense) expects an input of width 256 ([256] or [batch, 256]), got [64, 128]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)nn::dense<float>(3, 2)(etape::tensor<float>({2, 2, 3})),
                         "etape::nn: dense expects an input of width 3 ([3] or [batch, 3]), got [2, 2, 3]",
                         etape::shape_error);
}

TEST_CASE("sequential: one call runs the stack, and the walk names layers by position")
{
    etape::tape_scope<double> scope;
    nn::sequential<nn::dense<double, nn::activation::relu>, nn::dense<double>> net{{2, 3}, {3, 1}};
    nn::random_generator random(1);
    nn::initialize(net, random);
    CHECK(nn::parameters(net)[2].name == "1.weight");
    CHECK(net.layer<1>().name() == "1");
    const etape::tensor<double> x({4, 2}, 0.5);
    const etape::active_tensor<double> by_hand = net.layer<1>()(net.layer<0>()(x));
    const etape::active_tensor<double> y = net(x);
    CHECK(y.shape() == etape::shape{4, 1});
    CHECK(std::ranges::equal(y.values(), by_hand.values()));
}
