// Optimizer state files: a run saved (model and optimizer) and resumed by a
// new process's objects goes on bit for bit as the uninterrupted run, for
// every optimizer with state, in float and double; files of another
// optimizer, of other options or over another model are refused with the
// optimizer left as it was.
#include <cmath>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <boost/hana/define_struct.hpp>
#include <doctest/doctest.h>

#include <etape/etape.hpp>
#include <etape/nn/dense.hpp>
#include <etape/nn/loss.hpp>
#include <etape/nn/model_file.hpp>
#include <etape/nn/optimizer.hpp>
#include <etape/nn/optimizer_file.hpp>

#include "support/scratch_folder.hpp"

namespace nn = etape::nn;
namespace fs = std::filesystem;
using etape_test::scratch_folder;

namespace {

template <class T>
struct net {
    BOOST_HANA_DEFINE_STRUCT(net, (nn::dense<T, nn::activation::elu>, hidden), (nn::dense<T>, out));

    [[nodiscard]] etape::active_tensor<T> operator()(const etape::tensor<T>& x) const { return out(hidden(x)); }
};

template <class T>
net<T> make_net(std::size_t hidden = 8, std::size_t seed = 3)
{
    net<T> model{{5, hidden}, {hidden, 3}};
    nn::random_generator random(seed);
    nn::initialize(model, random);
    return model;
}

template <class T>
etape::tensor<T> features(std::size_t step)
{
    std::vector<T> values(4 * 5);
    for (std::size_t k = 0; k < values.size(); ++k)
        values[k] = static_cast<T>(std::sin(0.37 * static_cast<double>(k + 11 * step)));
    return etape::tensor<T>(etape::shape{4, 5}, values);
}

const std::vector<std::size_t> labels{0, 2, 1, 2};

template <class T, class Optimizer>
void train(const net<T>& model, Optimizer& optimizer, std::size_t first, std::size_t last)
{
    etape::tape<T>& t = etape::active_tape<T>();
    for (std::size_t step = first; step < last; ++step) {
        const etape::tape_position start = t.position();
        const etape::var<T> loss = nn::softmax_cross_entropy(model(features<T>(step)), labels);
        optimizer.step(loss);
        t.rewind(start);
    }
}

template <class T>
bool same_bits(net<T>& a, net<T>& b)
{
    const auto pa = nn::parameters(a), pb = nn::parameters(b);
    for (std::size_t i = 0; i < pa.size(); ++i)
        if (std::memcmp(pa[i].tensor->values().data(), pb[i].tensor->values().data(),
                        pa[i].tensor->size() * sizeof(T)) != 0)
            return false;
    return true;
}

/// 6 steps straight, against 3 steps, save, new model and optimizer, load, 3 steps.
template <class T, class Optimizer, class Options>
void check_resume(Options options)
{
    etape::tape_scope<T> scope;
    const scratch_folder folder;
    const fs::path model_path = folder / "resume-model.etape", state_path = folder / "resume-state.etape";

    net<T> straight = make_net<T>();
    Optimizer straight_optimizer(straight, options);
    train(straight, straight_optimizer, 0, 6);

    {
        net<T> first_half = make_net<T>();
        Optimizer optimizer(first_half, options);
        train(first_half, optimizer, 0, 3);
        optimizer.set_learning_rate(optimizer.learning_rate() * T(0.5));
        nn::save(first_half, model_path);
        nn::save_state(optimizer, state_path);
    }
    straight_optimizer.set_learning_rate(options.learning_rate); // the straight run never halved it

    net<T> resumed = make_net<T>(8, 99); // whatever it holds is replaced
    Optimizer optimizer(resumed, options);
    nn::load(resumed, model_path);
    nn::load_state(optimizer, state_path);
    CHECK(optimizer.steps() == 3);
    CHECK(optimizer.learning_rate() == options.learning_rate * T(0.5));
    optimizer.set_learning_rate(options.learning_rate);
    train(resumed, optimizer, 3, 6);
    CHECK(optimizer.steps() == 6);
    CHECK(same_bits(straight, resumed));
}

} // namespace

TEST_CASE_TEMPLATE("a run resumed from model and optimizer files goes on bit for bit", T, float, double)
{
    SUBCASE("Adam") { check_resume<T, nn::adam<T>>(typename nn::adam<T>::options{.learning_rate = T(0.01)}); }
    SUBCASE("AdamW") { check_resume<T, nn::adamw<T>>(typename nn::adamw<T>::options{.learning_rate = T(0.01)}); }
    SUBCASE("SGD with Nesterov momentum")
    {
        check_resume<T, nn::sgd<T>>(
            typename nn::sgd<T>::options{.learning_rate = T(0.05), .momentum = T(0.9), .nesterov = true});
    }
    SUBCASE("RMSprop with momentum")
    {
        check_resume<T, nn::rmsprop<T>>(
            typename nn::rmsprop<T>::options{.learning_rate = T(0.01), .momentum = T(0.5)});
    }
}

TEST_CASE("a state file that does not fit the optimizer is refused, naming the first difference")
{
    etape::tape_scope<float> scope;
    const scratch_folder folder;
    const fs::path path = folder / "state-mismatch.etape";
    net<float> model = make_net<float>();
    nn::adam<float> adam(model, {.learning_rate = 0.01f});
    train(model, adam, 0, 2);
    nn::save_state(adam, path);

    nn::sgd<float> momentum(model, {.learning_rate = 0.1f, .momentum = 0.9f});
    CHECK_THROWS_WITH_AS(nn::load_state(momentum, path),
                         ("etape::nn::load: " + path.string() +
                          ": tensor 2 is 'first_moment.hidden.weight' [8, 5] in the file, the optimizer has "
                             "'momentum.hidden.weight' [8, 5]")
                             .c_str(),
                         nn::model_file_error);
    CHECK(momentum.steps() == 0);

    nn::sgd<float> plain(model, {.learning_rate = 0.1f});
    CHECK_THROWS_WITH_AS(nn::load_state(plain, path),
                         ("etape::nn::load: " + path.string() +
                          ": the file holds 10 tensors, the optimizer 2: the file's 'first_moment.hidden.weight' "
                             "[8, 5] is not in the optimizer")
                             .c_str(),
                         nn::model_file_error);

    net<float> wider = make_net<float>(9);
    nn::adam<float> other_model(wider, {.learning_rate = 0.01f});
    CHECK_THROWS_WITH_AS(nn::load_state(other_model, path), doctest::Contains("[8, 5] in the file"),
                         nn::model_file_error);
    CHECK(other_model.steps() == 0);

    etape::tape_scope<double> double_scope;
    net<double> in_double = make_net<double>();
    nn::adam<double> double_adam(in_double, {.learning_rate = 0.01});
    CHECK_THROWS_WITH_AS(nn::load_state(double_adam, path),
                         doctest::Contains("tensor 1 'learning_rate' is float32 in the file, the optimizer holds float64"),
                         nn::model_file_error);
}

TEST_CASE("a model file is not a state file")
{
    etape::tape_scope<float> scope;
    const scratch_folder folder;
    const fs::path path = folder / "state-from-model.etape";
    net<float> model = make_net<float>();
    nn::save(model, path);
    nn::adam<float> adam(model, {});
    CHECK_THROWS_WITH_AS(nn::load_state(adam, path),
                         doctest::Contains("tensor 0 is 'hidden.weight' [8, 5] in the file, the optimizer has 'steps' [1]"),
                         nn::model_file_error);
}
