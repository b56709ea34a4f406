// torch: each network as a libtorch user writes it (Debian's libtorch-dev,
// one intra-op and one inter-op thread): a torch::nn::Module of
// torch::nn::Linear, Conv2d and LSTM, torch::elu and torch::max_pool2d,
// torch::nn::functional::cross_entropy, torch::optim::SGD or Adam; a step
// is zero_grad, forward, loss, backward, step. The parameters start from the
// case's values. Only the optional target etape_bench_nn_torch compiles
// this file.
#include <stdexcept>

#include <torch/torch.h>

#include "nn_cases.hpp"

namespace etape_nn_bench {
namespace {

struct mlp_net : torch::nn::Module {
    explicit mlp_net(const case_data& c)
        : l1(register_module("l1", torch::nn::Linear(to_int(c.widths[0]), to_int(c.widths[1])))),
          l2(register_module("l2", torch::nn::Linear(to_int(c.widths[1]), to_int(c.widths[2])))),
          out(register_module("out", torch::nn::Linear(to_int(c.widths[2]), to_int(c.widths[3]))))
    {}

    torch::Tensor forward(const torch::Tensor& x) { return out(torch::elu(l2(torch::elu(l1(x))))); }

    static std::int64_t to_int(std::size_t n) { return static_cast<std::int64_t>(n); }

    torch::nn::Linear l1, l2, out;
};

struct cnn_net : torch::nn::Module {
    explicit cnn_net(const case_data& c)
        : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 32, 3)))),
          conv2(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3)))),
          hidden(register_module("hidden", torch::nn::Linear(64 * 5 * 5, 128))),
          out(register_module("out", torch::nn::Linear(128, static_cast<std::int64_t>(c.classes))))
    {}

    torch::Tensor forward(const torch::Tensor& x)
    {
        torch::Tensor y = torch::max_pool2d(torch::elu(conv1(x)), 2);
        y = torch::max_pool2d(torch::elu(conv2(y)), 2);
        return out(torch::elu(hidden(y.flatten(1))));
    }

    torch::nn::Conv2d conv1, conv2;
    torch::nn::Linear hidden, out;
};

struct lstm_net : torch::nn::Module {
    explicit lstm_net(const case_data& c)
        : lstm(register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(static_cast<std::int64_t>(c.inputs),
                                                                              static_cast<std::int64_t>(c.hidden))))),
          out(register_module(
              "out", torch::nn::Linear(static_cast<std::int64_t>(c.hidden), static_cast<std::int64_t>(c.classes))))
    {}

    /// x [steps, batch, inputs]; the logits from the last step's h (h_n of the one layer).
    torch::Tensor forward(const torch::Tensor& x)
    {
        const auto [outputs, state] = lstm->forward(x);
        return out(std::get<0>(state)[0]);
    }

    torch::nn::LSTM lstm;
    torch::nn::Linear out;
};

template <class Net> class torch_step final : public training_step {
public:
    explicit torch_step(const case_data& c) : net_(std::make_shared<Net>(c))
    {
        std::vector<std::int64_t> input;
        if (c.what == network::cnn)
            input = {to_int(c.batch), 1, to_int(c.image), to_int(c.image)};
        else if (c.what == network::lstm)
            input = {to_int(c.steps), to_int(c.batch), to_int(c.inputs)};
        else
            input = {to_int(c.batch), to_int(c.widths[0])};
        x_ = torch::from_blob(const_cast<float*>(c.x.data()), input, torch::kFloat).clone();
        std::vector<std::int64_t> labels(c.labels.begin(), c.labels.end());
        labels_ = torch::tensor(labels, torch::kLong);

        const std::vector<torch::Tensor> parameters = net_->parameters();
        if (parameters.size() != c.parameters.size())
            throw std::logic_error(c.name() + "/torch: the network has " + std::to_string(parameters.size()) +
                                   " parameters, the case " + std::to_string(c.parameters.size()));
        const torch::NoGradGuard no_grad;
        for (std::size_t i = 0; i < parameters.size(); ++i) {
            const parameter& p = c.parameters[i];
            if (static_cast<std::size_t>(parameters[i].numel()) != p.values.size())
                throw std::logic_error(c.name() + "/torch: parameter " + std::to_string(i) + " has " +
                                       std::to_string(parameters[i].numel()) + " values, the case's " + p.name + " " +
                                       std::to_string(p.values.size()));
            parameters[i].copy_(
                torch::from_blob(const_cast<float*>(p.values.data()), parameters[i].sizes(), torch::kFloat));
        }
        if (c.update == optimizer::adam)
            optimizer_ = std::make_unique<torch::optim::Adam>(parameters,
                                                              torch::optim::AdamOptions(c.learning_rate)
                                                                  .betas({adam_constants::beta1, adam_constants::beta2})
                                                                  .eps(adam_constants::epsilon));
        else
            optimizer_ = std::make_unique<torch::optim::SGD>(parameters, torch::optim::SGDOptions(c.learning_rate));
    }

    void run() override
    {
        optimizer_->zero_grad();
        const torch::Tensor loss = torch::nn::functional::cross_entropy(net_->forward(x_), labels_);
        loss.backward();
        optimizer_->step();
        loss_ = loss.item<float>();
    }

    std::vector<double> result() override
    {
        std::vector<double> r{loss_};
        for (const torch::Tensor& p : net_->parameters()) {
            const torch::Tensor d = p.detach().to(torch::kDouble).contiguous();
            r.insert(r.end(), d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
        }
        return r;
    }

private:
    static std::int64_t to_int(std::size_t n) { return static_cast<std::int64_t>(n); }

    std::shared_ptr<Net> net_;
    torch::Tensor x_, labels_;
    std::unique_ptr<torch::optim::Optimizer> optimizer_;
    float loss_ = 0;
};

} // namespace

void torch_single_thread()
{
    torch::set_num_threads(1);
    torch::set_num_interop_threads(1);
}

std::unique_ptr<training_step> make_torch(const case_data& c)
{
    switch (c.what) {
    case network::mlp_small:
    case network::mlp_large:
        return std::make_unique<torch_step<mlp_net>>(c);
    case network::cnn:
        return std::make_unique<torch_step<cnn_net>>(c);
    case network::lstm:
        return std::make_unique<torch_step<lstm_net>>(c);
    }
    return nullptr;
}

} // namespace etape_nn_bench
