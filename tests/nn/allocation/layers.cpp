// A training step through a convolution, batch normalisation, pooling,
// flatten, layer normalisation and dense allocates nothing once the first
// step has sized the tape.
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
#include <etape/nn/optimizer.hpp>
#include <etape/nn/parameters.hpp>
#include <etape/nn/pooling.hpp>

#include "counting_new.hpp"

namespace nn = etape::nn;

namespace {

template <class T>
struct small_cnn {
    BOOST_HANA_DEFINE_STRUCT(small_cnn, (nn::conv2d<T, nn::activation::elu>, conv), (nn::batch_norm<T>, norm),
                             (nn::max_pool2d, pool), (nn::flatten, flat), (nn::layer_norm<T>, features),
                             (nn::dense<T>, out));

    [[nodiscard]] etape::active_tensor<T> operator()(const etape::tensor<T>& x) const
    {
        return out(features(flat(pool(norm(conv(x))))));
    }
};

} // namespace

TEST_CASE_TEMPLATE("layers: a training step allocates nothing after the first", T, float, double)
{
    etape::tape_scope<T> scope;
    small_cnn<T> model{{1, 4, 3, {1, 1}}, nn::batch_norm<T>(4), nn::max_pool2d(2), {},
                       nn::layer_norm<T>(4 * 4 * 4), {4 * 4 * 4, 3}};
    nn::random_generator run(1);
    nn::initialize(model, run);
    nn::sgd<T> optimizer(model, {.learning_rate = T(0.01)});
    const etape::tensor<T> images({5, 1, 8, 8}, T(0.5));
    const auto start = scope.get().position();
    const auto step = [&] {
        const etape::active_tensor<T> y = model(images);
        optimizer.step(etape::sum(y * y));
        scope.get().rewind(start);
    };
    step();
    step();
    const long before = etape_test::allocations();
    for (int i = 0; i < 3; ++i)
        step();
    CHECK(etape_test::allocations() - before == 0);
}

namespace {

struct bag_of_words {
    BOOST_HANA_DEFINE_STRUCT(bag_of_words, (nn::embedding<float>, words), (nn::dropout<float>, drop),
                             (nn::dense<float>, out));
};

} // namespace

TEST_CASE("layers: embedding and dropout steps allocate nothing after the first")
{
    etape::tape_scope<float> scope;
    bag_of_words model{{50, 8}, nn::dropout<float>(0.25), {8, 2}};
    nn::random_generator run(1);
    nn::initialize(model, run);
    nn::sgd<float> optimizer(model, {.learning_rate = 0.01f});
    const std::vector<std::size_t> words{3, 14, 15, 9, 26, 5};
    const etape::tensor<float> targets({6, 2}, 0.5f);
    const auto start = scope.get().position();
    const auto step = [&] {
        const etape::active_tensor<float> y = model.out(model.drop(model.words(words)));
        optimizer.step(etape::sum((y - targets) * (y - targets)));
        scope.get().rewind(start);
    };
    step();
    step();
    const long before = etape_test::allocations();
    for (int i = 0; i < 3; ++i)
        step();
    CHECK(etape_test::allocations() - before == 0);
}
