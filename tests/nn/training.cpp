// Training end to end: an MLP on the embedded digits reaches 90 % test
// accuracy; the same seed gives bit-identical losses; anomaly mode names the
// layer that produced a NaN or inf; bad labels name the row.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include <boost/hana/define_struct.hpp>
#include <doctest/doctest.h>

#include <etape/etape.hpp>
#include <etape/nn/batch_loader.hpp>
#include <etape/nn/conv2d.hpp>
#include <etape/nn/dense.hpp>
#include <etape/nn/dropout.hpp>
#include <etape/nn/digits.hpp>
#include <etape/nn/loss.hpp>
#include <etape/nn/optimizer.hpp>
#include <etape/nn/flatten.hpp>
#include <etape/nn/parameters.hpp>
#include <etape/nn/pooling.hpp>

namespace nn = etape::nn;

namespace {

struct digits_mlp {
    BOOST_HANA_DEFINE_STRUCT(digits_mlp, (nn::dense<float, nn::activation::elu>, hidden),
                             (nn::dense<float>, out));

    template <class X>
    [[nodiscard]] etape::active_tensor<float> operator()(const X& x) const
    {
        return out(hidden(x));
    }
};

/// A small CNN for the 8x8 digits: conv 1->32 3x3 (padding 1) ELU, 2x2 max
/// pool, flatten, dense 512->64 ELU, dense 64->10 (90.6 to 92.5 % over seeds
/// 1 to 5 after 10 epochs).
struct digits_cnn {
    BOOST_HANA_DEFINE_STRUCT(digits_cnn, (nn::conv2d<float, nn::activation::elu>, conv),
                             (nn::max_pool2d, pool), (nn::flatten, flat), (nn::dense<float, nn::activation::elu>, hidden),
                             (nn::dense<float>, out));

    [[nodiscard]] etape::active_tensor<float> operator()(const etape::tensor<float>& x) const
    {
        const etape::tensor<float> images = x.reshape({x.shape()[0], 1, 8, 8});
        return out(hidden(flat(pool(conv(images)))));
    }
};

/// An MLP with dropout: every source of randomness in one model.
struct dropout_mlp {
    BOOST_HANA_DEFINE_STRUCT(dropout_mlp, (nn::dense<float, nn::activation::elu>, hidden), (nn::dropout<float>, drop),
                             (nn::dense<float>, out));

    [[nodiscard]] etape::active_tensor<float> operator()(const etape::tensor<float>& x) const
    {
        return out(drop(hidden(x)));
    }
};

/// The fraction of rows of `data` whose largest logit is their label.
template <class Model>
double accuracy(const Model& model, const nn::dataset<float>& data)
{
    etape::tape<float>& t = etape::active_tape<float>();
    const auto start = t.position();
    const etape::active_tensor<float> logits = model(data.features);
    std::size_t right = 0;
    const std::size_t classes = logits.shape()[1];
    for (std::size_t r = 0; r < data.rows(); ++r) {
        const auto row = logits.values().subspan(r * classes, classes);
        right += static_cast<std::size_t>(std::ranges::max_element(row) - row.begin()) == data.labels[r] ? 1 : 0;
    }
    t.rewind(start);
    return static_cast<double>(right) / static_cast<double>(data.rows());
}

/// Trains a fresh model for `epochs` from `seed` with AdamW (learning rate
/// 0.002, weight decay 0.1: the digits' test rows come from other writers,
/// and this decay is what gets 256 hidden units past 90 % there, 90.8 to
/// 91.7 % over seeds 1 to 4); returns every step's loss.
template <class Model>
std::vector<float> train(Model& model, const nn::data_split<float>& data, std::uint64_t seed, int epochs)
{
    nn::random_generator random(seed);
    nn::initialize(model, random);
    nn::batch_loader<float> loader(data.train, 32, random.split());
    nn::adamw<float> optimizer(model, {.learning_rate = 0.002f, .weight_decay = 0.1f});
    etape::tape<float>& t = etape::active_tape<float>();
    const auto start = t.position();
    std::vector<float> losses;
    for (int epoch = 0; epoch < epochs; ++epoch)
        for (const nn::batch<float>& batch : loader.epoch()) {
            const etape::var<float> loss = nn::softmax_cross_entropy(model(batch.features), batch.labels);
            losses.push_back(loss.value());
            optimizer.step(loss);
            t.rewind(start);
        }
    return losses;
}

} // namespace

TEST_CASE("training: an ELU MLP on the digits reaches at least 90 % test accuracy")
{
    etape::tape_scope<float> scope;
    const auto data = nn::digits<float>();
    digits_mlp model{{64, 256}, {256, 10}};
    const auto losses = train(model, data, 1, 15);
    CHECK(losses.back() < losses.front() / 4);
    const double test = accuracy(model, data.test);
    INFO("test accuracy ", test);
    CHECK(test >= 0.90);
}

TEST_CASE("training: a small CNN on the digits reaches at least 90 % test accuracy")
{
    etape::tape_scope<float> scope;
    const auto data = nn::digits<float>();
    digits_cnn model{{1, 32, 3, etape::conv2d_options{.stride = 1, .padding = 1}}, nn::max_pool2d(2), {}, {512, 64}, {64, 10}};
    const auto losses = train(model, data, 1, 10);
    CHECK(losses.back() < losses.front() / 4);
    const double test = accuracy(model, data.test);
    INFO("test accuracy ", test);
    CHECK(test >= 0.90);
}

TEST_CASE("training: the same seed gives bit-identical losses (initialisation, shuffling, dropout), another seed others")
{
    etape::tape_scope<float> scope;
    const auto data = nn::digits<float>();
    const auto make = [] { return dropout_mlp{{64, 32}, nn::dropout<float>(0.3), {32, 10}}; };
    dropout_mlp a = make(), b = make(), c = make();
    const auto first = train(a, data, 42, 2);
    const auto second = train(b, data, 42, 2);
    const auto other = train(c, data, 43, 2);
    CHECK(first == second);
    CHECK(std::ranges::equal(a.hidden.weight.values(), b.hidden.weight.values()));
    CHECK(first != other);
}

TEST_CASE("training: in anomaly mode a layer whose output turns inf from a finite input is named")
{
    etape::tape_scope<float> scope;
    digits_mlp model{{64, 16}, {16, 10}};
    nn::random_generator random(3);
    nn::initialize(model, random);
    for (std::size_t i = 0; i < 64; ++i)
        model.hidden.weight.values()[64 + i] = 1e38f; // an update gone wrong: row 1 sums to inf
    const etape::tensor<float> x({2, 64}, 1.0f);
    scope.get().detect_anomalies();
    try {
        (void)model(x);
        FAIL("no anomaly reported");
    } catch (const etape::anomaly_error& e) {
        CHECK(std::string(e.what()).starts_with("etape::nn anomaly: hidden (dense) produced inf at element 1 "));
        CHECK(std::string(e.what()).ends_with("of its output [2, 16] from a finite input"));
    }
    scope.get().detect_anomalies(false);
    CHECK_NOTHROW((void)model(x)); // off: the inf goes through
}

TEST_CASE("training: in anomaly mode a NaN in the backward names the layer's node")
{
    etape::tape_scope<double> scope;
    struct one_layer {
        BOOST_HANA_DEFINE_STRUCT(one_layer, (nn::dense<double, nn::activation::elu>, l1));
    } model{{2, 2}};
    nn::name_layers(model);
    scope.get().detect_anomalies();
    const etape::active_tensor<double> x(etape::tensor<double>({1, 2}, {1.0, 2.0}));
    const etape::active_tensor<double> y = model.l1(x);
    // a loss whose derivative at y is inf: sqrt at 0 (the zero weights give y = 0)
    const etape::var<double> loss = etape::sum(etape::sqrt(y));
    try {
        (void)etape::gradient(loss, x);
        FAIL("no anomaly reported");
    } catch (const etape::anomaly_error& e) {
        CHECK(std::string(e.what()).find("sqrt") != std::string::npos); // the loss's node, outside every layer
        CHECK(std::string(e.what()).find(" in l1") == std::string::npos);
    }
    // a NaN partial inside the layer's fused node: the report ends with the layer's name
    const etape::var<double> scale = std::numeric_limits<double>::quiet_NaN();
    const etape::var<double> second = etape::sum(model.l1(x * scale));
    try {
        (void)etape::gradient(second, x);
        FAIL("no anomaly reported");
    } catch (const etape::anomaly_error& e) {
        CHECK(std::string(e.what()).ends_with(" in l1"));
    }
}

TEST_CASE("training: a label outside the classes names the first bad row")
{
    etape::tape_scope<float> scope;
    digits_mlp model{{64, 8}, {8, 10}};
    const std::vector<std::size_t> labels{1, 2, 10, 11};
    const etape::tensor<float> x({4, 64}, 0.5f);
    CHECK_THROWS_WITH_AS((void)nn::softmax_cross_entropy(model(x), labels),
                         "etape: softmax_cross_entropy: label 10 of row 2 out of range for 10 classes",
                         std::out_of_range);
}
