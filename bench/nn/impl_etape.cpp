// etape: each network written with etape's nn API as a user writes it (the
// program of docs/nn.md): a model struct reflected with
// BOOST_HANA_DEFINE_STRUCT, its layers nn::dense, nn::conv2d,
// nn::max_pool2d, nn::flatten and nn::lstm_cell (nn::unroll over the
// sequence tensor), the loss nn::softmax_cross_entropy, the optimizer
// nn::sgd or nn::adam made from the model. Each step owns its tape (a
// tape_scope); the position is taken once after the model is built, and
// every step rewinds to it after the optimizer's step, so the recording
// reuses the tape's memory. The parameters are drawn by nn::initialize as
// a user's would be, then overwritten with the case's starting values so
// that every implementation starts from the same numbers.
#include <cstdio>
#include <cstdlib>

#include <boost/hana/define_struct.hpp>

#include <etape/nn.hpp>

#include "nn_cases.hpp"

namespace etape_nn_bench {
namespace {

namespace nn = etape::nn;
using etape::active_tensor;
using etape::tensor;

struct mlp {
    BOOST_HANA_DEFINE_STRUCT(mlp, (nn::dense<float, nn::activation::elu>, l1),
                             (nn::dense<float, nn::activation::elu>, l2), (nn::dense<float>, out));

    [[nodiscard]] active_tensor<float> operator()(const tensor<float>& x) const { return out(l2(l1(x))); }
};

struct cnn {
    BOOST_HANA_DEFINE_STRUCT(cnn, (nn::conv2d<float, nn::activation::elu>, conv1), (nn::max_pool2d, pool1),
                             (nn::conv2d<float, nn::activation::elu>, conv2), (nn::max_pool2d, pool2),
                             (nn::flatten, flat), (nn::dense<float, nn::activation::elu>, hidden),
                             (nn::dense<float>, out));

    [[nodiscard]] active_tensor<float> operator()(const tensor<float>& x) const
    {
        return out(hidden(flat(pool2(conv2(pool1(conv1(x)))))));
    }
};

struct lstm_net {
    BOOST_HANA_DEFINE_STRUCT(lstm_net, (nn::lstm_cell<float>, lstm), (nn::dense<float>, out));

    /// xs [steps, batch, inputs]; the logits from the last step's h.
    [[nodiscard]] active_tensor<float> operator()(const tensor<float>& xs) const
    {
        const nn::lstm_state<float> last = nn::unroll(lstm, xs, lstm.zero_state(xs.shape()[1]));
        return out(last.h);
    }
};

[[noreturn]] void fail(const std::string& message)
{
    std::fprintf(stderr, "etape_bench_nn: %s\n", message.c_str());
    std::abort();
}

/// Copies the case's starting values into the model's parameters, which
/// must be the case's, in its order, with its names and shapes.
template <class Model> void set_parameters(Model& model, const case_data& c)
{
    const std::vector<nn::named_parameter<float>> found = nn::parameters(model);
    if (found.size() != c.parameters.size())
        fail(c.name() + "/etape: the model has " + std::to_string(found.size()) + " parameters, the case " +
             std::to_string(c.parameters.size()));
    for (std::size_t i = 0; i < found.size(); ++i) {
        const parameter& want = c.parameters[i];
        if (found[i].name != want.name || found[i].tensor->shape() != etape::shape(std::span(want.shape)))
            fail(c.name() + "/etape: parameter " + std::to_string(i) + " is " + found[i].name + " " +
                 found[i].tensor->shape().to_string() + ", the case's " + want.name);
        std::ranges::copy(want.values, found[i].tensor->values().begin());
    }
}

template <class Model, class Optimizer> class etape_step final : public training_step {
public:
    /// make_model() builds the model: called once this step's tape is active.
    template <class MakeModel>
    etape_step(const case_data& c, typename Optimizer::options options, MakeModel make_model)
        : labels_(c.labels), model_(make_model()), optimizer_(make_optimizer(c, options)),
          start_(scope_.get().position())
    {
        const etape::shape input = c.what == network::cnn    ? etape::shape{c.batch, 1, c.image, c.image}
                                   : c.what == network::lstm ? etape::shape{c.steps, c.batch, c.inputs}
                                                             : etape::shape{c.batch, c.widths[0]};
        x_ = tensor<float>(input, c.x);
    }

    void run() override
    {
        const etape::var<float> loss = nn::softmax_cross_entropy(model_(x_), labels_);
        loss_ = loss.value();
        optimizer_.step(loss);
        scope_.get().rewind(start_);
    }

    std::vector<double> result() override
    {
        std::vector<double> r{loss_};
        for (const nn::named_parameter<float>& p : nn::parameters(model_))
            r.insert(r.end(), p.tensor->values().begin(), p.tensor->values().end());
        return r;
    }

private:
    Optimizer make_optimizer(const case_data& c, typename Optimizer::options options)
    {
        nn::random_generator random(1);
        nn::initialize(model_, random);
        set_parameters(model_, c);
        return Optimizer(model_, options);
    }

    etape::tape_scope<float> scope_; // first: the model's parameters live on its tape
    std::vector<std::size_t> labels_;
    tensor<float> x_;
    Model model_;
    Optimizer optimizer_;
    etape::tape_position start_;
    float loss_ = 0;
};

} // namespace

std::unique_ptr<training_step> make_etape(const case_data& c)
{
    using dense_elu = nn::dense<float, nn::activation::elu>;
    using conv_elu = nn::conv2d<float, nn::activation::elu>;
    const nn::sgd<float>::options sgd{.learning_rate = c.learning_rate};
    switch (c.what) {
    case network::mlp_small:
    case network::mlp_large:
        return std::make_unique<etape_step<mlp, nn::sgd<float>>>(c, sgd, [&c] {
            const std::vector<std::size_t>& w = c.widths;
            return mlp{dense_elu(w[0], w[1]), dense_elu(w[1], w[2]), nn::dense<float>(w[2], w[3])};
        });
    case network::cnn:
        return std::make_unique<etape_step<cnn, nn::adam<float>>>(
            c,
            nn::adam<float>::options{.learning_rate = c.learning_rate,
                                     .beta1 = adam_constants::beta1,
                                     .beta2 = adam_constants::beta2,
                                     .epsilon = adam_constants::epsilon},
            [&c] {
                return cnn{conv_elu(1, 32, 3),
                           nn::max_pool2d(2),
                           conv_elu(32, 64, 3),
                           nn::max_pool2d(2),
                           nn::flatten(),
                           dense_elu(64 * 5 * 5, 128),
                           nn::dense<float>(128, c.classes)};
            });
    case network::lstm:
        return std::make_unique<etape_step<lstm_net, nn::sgd<float>>>(c, sgd, [&c] {
            return lstm_net{nn::lstm_cell<float>(c.inputs, c.hidden), nn::dense<float>(c.hidden, c.classes)};
        });
    }
    return nullptr;
}

} // namespace etape_nn_bench
