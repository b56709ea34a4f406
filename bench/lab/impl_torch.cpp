// The lab's digits MLP protocol written as a libtorch user writes it:
// torch::nn::Linear layers in a torch::nn::Module, torch::elu / relu / selu,
// torch::nn::functional::cross_entropy, torch::optim::Adam; a step is
// zero_grad, forward, loss, backward, step. Only the optional target
// etape_bench_lab_torch compiles this file.
#include <chrono>
#include <cmath>
#include <string>

#include <torch/torch.h>

#include "lab_torch.hpp"

namespace etape_lab_bench {
namespace {

std::int64_t to_int(std::size_t n) { return static_cast<std::int64_t>(n); }

struct mlp : torch::nn::Module {
    mlp(std::size_t features, const std::vector<std::size_t>& hidden, std::size_t classes, activation a) : act(a)
    {
        std::size_t width = features;
        for (std::size_t k = 0; k <= hidden.size(); ++k) {
            const std::size_t out = k < hidden.size() ? hidden[k] : classes;
            layers.push_back(
                register_module("layer" + std::to_string(k), torch::nn::Linear(to_int(width), to_int(out))));
            width = out;
        }
    }

    torch::Tensor forward(torch::Tensor x)
    {
        for (std::size_t k = 0; k + 1 < layers.size(); ++k) {
            x = layers[k]->forward(x);
            x = act == activation::elu ? torch::elu(x) : act == activation::relu ? torch::relu(x) : torch::selu(x);
        }
        return layers.back()->forward(x);
    }

    void start_as(start init)
    {
        torch::NoGradGuard no_grad;
        for (std::size_t k = 0; k < layers.size(); ++k) {
            torch::Tensor& w = layers[k]->weight;
            const double fan_in = static_cast<double>(w.size(1)), fan_out = static_cast<double>(w.size(0));
            const bool hidden = k + 1 < layers.size();
            if (init == start::torch_default)
                continue;
            if (hidden)
                w.normal_(0.0, std::sqrt((act == activation::selu ? 1.0 : 2.0) / fan_in));
            else
                w.uniform_(-std::sqrt(6.0 / (fan_in + fan_out)), std::sqrt(6.0 / (fan_in + fan_out)));
            layers[k]->bias.zero_();
        }
    }

    activation act;
    std::vector<torch::nn::Linear> layers;
};

} // namespace

torch_run train_torch(const digits_rows& data, const torch_protocol& protocol)
{
    torch::set_num_threads(1);
    static const bool interop_set = [] {
        torch::set_num_interop_threads(1); // may be set once per process
        return true;
    }();
    (void)interop_set;
    torch::manual_seed(protocol.seed);

    const auto train_rows = to_int(data.train_y.size()), test_rows = to_int(data.test_y.size());
    const auto features = to_int(data.features);
    const torch::Tensor x = torch::from_blob(const_cast<float*>(data.train_x.data()), {train_rows, features}).clone();
    const torch::Tensor y =
        torch::from_blob(const_cast<std::int64_t*>(data.train_y.data()), {train_rows}, torch::kInt64).clone();
    const torch::Tensor test_x =
        torch::from_blob(const_cast<float*>(data.test_x.data()), {test_rows, features}).clone();
    const torch::Tensor test_y =
        torch::from_blob(const_cast<std::int64_t*>(data.test_y.data()), {test_rows}, torch::kInt64).clone();

    mlp net(data.features, protocol.hidden, data.classes, protocol.act);
    net.start_as(protocol.init);
    torch::optim::Adam optimizer(net.parameters(), torch::optim::AdamOptions(protocol.learning_rate));

    torch_run run;
    const auto batch = to_int(protocol.batch_size);
    for (std::size_t epoch = 0; epoch < protocol.epochs; ++epoch) {
        const auto began = std::chrono::steady_clock::now();
        const torch::Tensor order = torch::randperm(train_rows, torch::kInt64);
        for (std::int64_t first = 0; first < train_rows; first += batch) {
            const torch::Tensor rows = order.slice(0, first, std::min(first + batch, train_rows));
            optimizer.zero_grad();
            const torch::Tensor loss =
                torch::nn::functional::cross_entropy(net.forward(x.index_select(0, rows)), y.index_select(0, rows));
            loss.backward();
            optimizer.step();
        }
        run.epoch_seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
    }
    torch::NoGradGuard no_grad;
    const torch::Tensor predicted = net.forward(test_x).argmax(1);
    run.test_accuracy = predicted.eq(test_y).to(torch::kDouble).mean().item<double>();
    return run;
}

} // namespace etape_lab_bench
