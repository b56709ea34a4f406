// A training step reuses the tape's memory: after the first step, forward,
// loss, backward and every optimizer's update allocate nothing.
#include <cstddef>

#include <boost/hana/define_struct.hpp>
#include <doctest/doctest.h>

#include <etape/etape.hpp>
#include <etape/nn/batch_loader.hpp>
#include <etape/nn/dense.hpp>
#include <etape/nn/digits.hpp>
#include <etape/nn/loss.hpp>
#include <etape/nn/optimizer.hpp>
#include <etape/nn/parameters.hpp>

#include "counting_new.hpp"

namespace nn = etape::nn;

namespace {
struct mlp {
    BOOST_HANA_DEFINE_STRUCT(mlp, (nn::dense<float, nn::activation::elu>, l1), (nn::dense<float, nn::activation::elu>, l2),
                             (nn::dense<float>, out));
};

/// Allocations over two epochs after a first one, for an optimizer made by `make`.
template <class Make>
long allocations_after_first_epoch(Make make)
{
    etape::tape_scope<float> scope;
    const nn::data_split<float> digits = nn::digits<float>();
    mlp model{{64, 32}, {32, 32}, {32, 10}};
    nn::random_generator random(1);
    nn::initialize(model, random);
    nn::batch_loader<float> loader(digits.train, 64, random.split());
    auto optimizer = make(model);
    const auto start = scope.get().position();
    const auto epoch = [&] {
        for (const nn::batch<float>& b : loader.epoch()) {
            const etape::var<float> loss = nn::softmax_cross_entropy(model.out(model.l2(model.l1(b.features))), b.labels);
            optimizer.step(loss);
            scope.get().rewind(start);
        }
    };
    epoch();
    const long before = etape_test::allocations();
    epoch();
    epoch();
    return etape_test::allocations() - before;
}
} // namespace

TEST_CASE("training step: after the first epoch, steps allocate nothing, with every optimizer")
{
    CHECK(allocations_after_first_epoch([](mlp& m) { return nn::sgd<float>(m, {.learning_rate = 0.01f}); }) == 0);
    CHECK(allocations_after_first_epoch(
              [](mlp& m) { return nn::sgd<float>(m, {.learning_rate = 0.01f, .momentum = 0.9f, .clip_norm = 1}); }) == 0);
    CHECK(allocations_after_first_epoch([](mlp& m) { return nn::adam<float>(m, {}); }) == 0);
    CHECK(allocations_after_first_epoch([](mlp& m) { return nn::adamw<float>(m, {}); }) == 0);
    CHECK(allocations_after_first_epoch([](mlp& m) { return nn::rmsprop<float>(m, {.momentum = 0.5f}); }) == 0);
}
