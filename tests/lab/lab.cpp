// The activation lab's library: the registry of activations (names,
// parameters, errors, a user's primitive, the derivative check) and one
// training run of an MLP with its measurements, augmentation, weight decay
// and the two starts.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

#include <doctest/doctest.h>

#include <etape/lab/activation_registry.hpp>
#include <etape/lab/experiment.hpp>
#include <etape/nn/digits.hpp>

namespace {

/// swish with a learnable-looking beta: x sigmoid(beta x).
struct swish_op {
    static constexpr etape::derivative_source source = etape::derivative_source::input;
    double beta = 1;
    template <class T>
    T primal(T x) const
    {
        return x / (1 + std::exp(-T(beta) * x));
    }
    template <class T>
    T partial(T x, T) const
    {
        const T s = 1 / (1 + std::exp(-T(beta) * x));
        return s + T(beta) * x * s * (1 - s);
    }
};

/// The same with a wrong derivative (the factor beta dropped).
struct broken_swish_op : swish_op {
    template <class T>
    T partial(T x, T) const
    {
        const T s = 1 / (1 + std::exp(-T(beta) * x));
        return s + x * s * (1 - s);
    }
};

/// Multiplies by 1e30: two such layers overflow float.
struct blow_up_op {
    static constexpr etape::derivative_source source = etape::derivative_source::input;
    template <class T>
    T primal(T x) const
    {
        return x * T(1e30);
    }
    template <class T>
    T partial(T, T) const
    {
        return T(1e30);
    }
};

} // namespace

TEST_CASE("lab registry: names, parameters and labels")
{
    const etape::lab::registry r = etape::lab::registry::builtin();
    const auto chosen = r.parse("elu:alpha=0.5, relu,selu,softplus:beta=2;threshold=10");
    REQUIRE(chosen.size() == 4);
    CHECK(chosen[0].label() == "elu:alpha=0.5");
    CHECK(chosen[1].label() == "relu");
    CHECK(chosen[2].init == etape::nn::weight_init::lecun_normal);
    CHECK(chosen[3].label() == "softplus:beta=2;threshold=10");
    CHECK(r.make("elu").label() == "elu:alpha=1");
    // the activation is the one named, with its parameter
    const etape::active_tensor<float> product(etape::tensor<float>({1, 2}, {-1.0f, 2.0f}));
    const etape::active_tensor<float> bias(etape::tensor<float>({2}, {0.0f, 0.5f}));
    const auto y = chosen[0].dense(product, bias);
    CHECK(y.values()[0] == doctest::Approx(0.5 * std::expm1(-1.0)));
    CHECK(y.values()[1] == doctest::Approx(2.5));
}

TEST_CASE("lab registry: every mistake in a list is a one-line error naming it")
{
    const etape::lab::registry r = etape::lab::registry::builtin();
    CHECK_THROWS_WITH_AS((void)r.parse("elu,swishy"),
                         "etape-lab: unknown activation 'swishy'; known: elu, relu, selu, celu, leaky_relu, gelu, "
                         "silu, softplus, tanh, sigmoid",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)r.parse(""), doctest::Contains("an empty entry"), std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)r.parse("elu,,relu"), doctest::Contains("an empty entry"), std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)r.make("elu:beta=2"),
                         "etape-lab: activation 'elu' has no parameter 'beta'; its parameters: alpha",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)r.make("relu:alpha=2"), "etape-lab: activation 'relu' has no parameter 'alpha'",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)r.make("elu:alpha=x"), "etape-lab: parameter 'alpha' needs a finite number, not 'x'",
                         std::invalid_argument);
    CHECK_THROWS_AS((void)r.make("elu:alpha=inf"), std::invalid_argument);
    CHECK_THROWS_AS((void)r.make("elu:alpha"), std::invalid_argument);
}

TEST_CASE("lab registry: every builtin passes its derivative check, and a wrong derivative does not")
{
    etape::lab::registry r = etape::lab::registry::builtin();
    for (const std::string& name : r.names()) {
        CAPTURE(name);
        CHECK(r.make(name).check().passed);
    }
    r.add("swish", {{"beta", 1.0}}, etape::nn::weight_init::he_normal,
          [](auto v) { return etape::lab::applies<swish_op>{{v[0]}}; });
    r.add("broken_swish", {{"beta", 1.0}}, etape::nn::weight_init::he_normal,
          [](auto v) { return etape::lab::applies<broken_swish_op>{{{v[0]}}}; });
    CHECK(r.make("swish:beta=1.5").check().passed);
    CHECK(r.make("broken_swish:beta=1").check().passed); // beta 1: the dropped factor is 1
    CHECK_FALSE(r.make("broken_swish:beta=1.5").check().passed);
}

TEST_CASE("lab: an MLP run measures every epoch, and the same seed gives the same run")
{
    const auto digits = etape::nn::digits<float>();
    const etape::lab::registry r = etape::lab::registry::builtin();
    const etape::lab::activation elu = r.make("elu");
    const etape::lab::protocol protocol{.hidden = {32, 32}, .epochs = 3, .batch_size = 32,
                                            .learning_rate = 1e-3f, .loss_target = 1.0};
    int callbacks = 0;
    const auto run = etape::lab::train(digits, elu, protocol, 7, [&](const auto&) { ++callbacks; });
    CHECK(callbacks == 3);
    REQUIRE(run.epochs.size() == 3);
    CHECK(run.activation == "elu:alpha=1");
    CHECK(run.epochs[2].train_loss < run.epochs[0].train_loss);
    CHECK(run.epochs[2].test_accuracy > 0.8);
    REQUIRE(run.epochs[2].hidden.size() == 2);
    CHECK(run.epochs[2].hidden[0].stddev > 0);
    REQUIRE(run.initial_gradient_norms.size() == 3);
    CHECK(run.initial_gradient_norms[0] > 0);
    REQUIRE(run.final_gradient_norms.size() == 3);
    CHECK(run.final_gradient_norms[2] != run.initial_gradient_norms[2]);
    REQUIRE(run.dead_fraction.size() == 2);
    CHECK(run.dead_fraction[0] == 0); // ELU's units are positive somewhere
    CHECK(!run.diverged_at);
    CHECK(run.epoch_below(1.0).has_value());

    const auto again = etape::lab::train(digits, elu, protocol, 7);
    CHECK(again.epochs[2].train_loss == run.epochs[2].train_loss);
    CHECK(again.epochs[2].test_accuracy == run.epochs[2].test_accuracy);
}

TEST_CASE("lab: a run whose loss is not finite stops at that epoch")
{
    const auto digits = etape::nn::digits<float>();
    etape::lab::registry r = etape::lab::registry::builtin();
    r.add("explosive", {}, etape::nn::weight_init::he_normal, [](auto) { return etape::lab::applies<blow_up_op>{}; });
    const etape::lab::protocol protocol{.hidden = {16, 16}, .epochs = 5};
    const auto run = etape::lab::train(digits, r.make("explosive"), protocol, 1);
    REQUIRE(run.diverged_at.has_value());
    CHECK(run.epochs.size() == *run.diverged_at);
    CHECK(!std::isfinite(run.epochs.back().train_loss));
}

TEST_CASE("lab: a protocol out of range is refused, naming what")
{
    const auto digits = etape::nn::digits<float>();
    const auto relu = etape::lab::registry::builtin().make("relu");
    CHECK_THROWS_WITH_AS((void)etape::lab::train(digits, relu, {.epochs = 0}, 1),
                         "etape-lab: epochs must be at least 1", std::invalid_argument);
    CHECK_THROWS_AS((void)etape::lab::train(digits, relu, {.learning_rate = -1.0f}, 1), std::invalid_argument);
    CHECK_THROWS_AS((void)etape::lab::train(digits, relu, {.hidden = {8, 0}}, 1), std::invalid_argument);
}

TEST_CASE("lab: a CNN run, its convolutions' channels counted as units")
{
    const auto digits = etape::nn::digits<float>();
    const auto relu = etape::lab::registry::builtin().make("relu");
    const etape::lab::protocol cnn{.architecture = etape::lab::architecture::cnn, .filters = {8, 16}, .hidden = {32},
                                   .epochs = 3};
    const auto run = etape::lab::train(digits, relu, cnn, 3);
    REQUIRE(run.epochs.size() == 3);
    CHECK(run.epochs[2].train_loss < run.epochs[0].train_loss);
    CHECK(run.epochs[2].test_accuracy > 0.5);
    CHECK(run.epochs[2].hidden.size() == 3); // two convolutions, one dense layer
    CHECK(run.initial_gradient_norms.size() == 4);
    REQUIRE(run.dead_fraction.size() == 3);
    for (const double dead : run.dead_fraction)
        CHECK((dead >= 0 && dead <= 1));

    etape::tape_scope<float> scope;
    etape::nn::random_generator random(1);
    const etape::lab::protocol too_deep{.architecture = etape::lab::architecture::cnn, .filters = {4, 4, 4, 4}};
    CHECK_THROWS_WITH_AS((void)etape::lab::build_network(too_deep, relu, 64, 10, random),
                         "etape-lab: 4 convolutions with 2x2 pooling do not fit images of 8 pixels a side",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS((void)etape::lab::build_network({.architecture = etape::lab::architecture::cnn}, relu, 60,
                                                         10, random),
                         "etape-lab: the CNN needs square images; 60 features are not", std::invalid_argument);
}

TEST_CASE("lab: shifting moves each image by its own offset within the bound, the uncovered border zero")
{
    // two 4x4 images of 1..16, shifted by at most 1 pixel
    etape::tensor<float> images({2, 16});
    for (std::size_t k = 0; k < 32; ++k)
        images.values()[k] = static_cast<float>(k % 16 + 1);
    etape::nn::random_generator random(5);
    etape::tensor<float> shifted;
    for (int draw = 0; draw < 20; ++draw) {
        etape::lab::detail::shift_images(images, 4, 1, random, shifted);
        REQUIRE(shifted.shape() == images.shape());
        for (std::size_t image = 0; image < 2; ++image) {
            const auto in = images.values().subspan(image * 16, 16), out = shifted.values().subspan(image * 16, 16);
            // the offset is where pixel (1, 1), the value 6, went: every pixel moved by it or fell off
            const auto six = static_cast<std::ptrdiff_t>(std::find(out.begin(), out.end(), 6.0f) - out.begin());
            REQUIRE(six < 16);
            const std::ptrdiff_t down = six / 4 - 1, right = six % 4 - 1;
            CHECK(std::abs(down) <= 1);
            CHECK(std::abs(right) <= 1);
            for (std::ptrdiff_t r = 0; r < 4; ++r)
                for (std::ptrdiff_t c = 0; c < 4; ++c) {
                    const std::ptrdiff_t r0 = r - down, c0 = c - right;
                    const bool inside = r0 >= 0 && r0 < 4 && c0 >= 0 && c0 < 4;
                    const float expected = inside ? in[static_cast<std::size_t>(r0 * 4 + c0)] : 0.0f;
                    CHECK(out[static_cast<std::size_t>(r * 4 + c)] == expected);
                }
        }
    }
}

TEST_CASE("lab: shifts and weight decay change the run, and a bad value is refused")
{
    const auto digits = etape::nn::digits<float>();
    const auto elu = etape::lab::registry::builtin().make("elu");
    const etape::lab::protocol plain{.hidden = {16}, .epochs = 2};
    etape::lab::protocol shifted = plain, decayed = plain;
    shifted.shift = 1;
    decayed.weight_decay = 0.5f;
    const double loss = etape::lab::train(digits, elu, plain, 1).epochs[1].train_loss;
    CHECK(etape::lab::train(digits, elu, shifted, 1).epochs[1].train_loss != loss);
    CHECK(etape::lab::train(digits, elu, decayed, 1).epochs[1].train_loss != loss);

    decayed.weight_decay = -0.5f;
    CHECK_THROWS_WITH_AS((void)etape::lab::train(digits, elu, decayed, 1),
                         "etape-lab: the weight decay must be a number of at least 0", std::invalid_argument);
    etape::nn::data_split<float> not_square = digits;
    not_square.train = etape::nn::split_rows(digits.train, 100).train;
    not_square.train.features = not_square.train.features.reshape({50, 128});
    not_square.train.labels.resize(50);
    CHECK_THROWS_WITH_AS((void)etape::lab::train(not_square, elu, shifted, 1),
                         "etape-lab: shifting needs square images; 128 features are not", std::invalid_argument);
}

TEST_CASE("lab: PyTorch's start draws weights and biases within 1/sqrt(fan_in), the suited one zero biases")
{
    etape::tape_scope<float> scope;
    const auto relu = etape::lab::registry::builtin().make("relu");
    etape::nn::random_generator random(2);
    const etape::lab::network pytorch =
        etape::lab::build_network({.start = etape::lab::start::pytorch, .hidden = {32}}, relu, 64, 10, random);
    const etape::lab::network suited = etape::lab::build_network({.hidden = {32}}, relu, 64, 10, random);
    const std::size_t fan_in[] = {64, 32};
    for (std::size_t layer = 0; layer < 2; ++layer) {
        const double bound = 1 / std::sqrt(static_cast<double>(fan_in[layer]));
        for (const auto* values : {&pytorch.weights[layer], &pytorch.biases[layer]}) {
            double largest = 0;
            for (const float v : values->values())
                largest = std::max(largest, std::abs(static_cast<double>(v)));
            CHECK(largest <= bound);
            CHECK(largest > 0.8 * bound); // drawn across the whole range
        }
        for (const float b : suited.biases[layer].values())
            CHECK(b == 0.0f);
    }
}
