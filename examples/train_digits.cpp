// Trains an ELU network on the embedded 8x8 digits, prints its summary, the
// loss and test accuracy of each epoch, saves it, and loads the file into a
// fresh model that scores the same. Run: ./train_digits [model-file]; the file
// is digits_net.etape in the current folder unless named.
#include <algorithm>
#include <cstddef>
#include <filesystem>

#include <boost/hana/define_struct.hpp>
#include <fmt/core.h>

#include <etape/nn.hpp>

namespace nn = etape::nn;

struct digits_net {
    BOOST_HANA_DEFINE_STRUCT(digits_net, (nn::dense<float, nn::activation::elu>, hidden),
                             (nn::dense<float>, out));

    template <class X>
    [[nodiscard]] etape::active_tensor<float> operator()(const X& x) const
    {
        return out(hidden(x));
    }
};

/// The fraction of rows whose largest logit is their label.
double accuracy(const digits_net& model, const nn::dataset<float>& data)
{
    etape::tape<float>& tape = etape::active_tape<float>();
    const etape::tape_position start = tape.position();
    const etape::active_tensor<float> logits = model(data.features);
    const std::size_t classes = logits.shape()[1];
    std::size_t right = 0;
    for (std::size_t row = 0; row < data.rows(); ++row) {
        const auto scores = logits.values().subspan(row * classes, classes);
        if (static_cast<std::size_t>(std::ranges::max_element(scores) - scores.begin()) == data.labels[row])
            ++right;
    }
    tape.rewind(start);
    return static_cast<double>(right) / static_cast<double>(data.rows());
}

int main(int argc, char** argv)
{
    const std::filesystem::path file = argc > 1 ? argv[1] : "digits_net.etape";
    etape::tape_scope<float> scope;
    const nn::data_split<float> digits = nn::digits<float>();

    digits_net model{{64, 256}, {256, 10}};
    nn::random_generator random(1);
    nn::initialize(model, random);
    fmt::print("{}\n", nn::summary(model));

    nn::batch_loader<float> loader(digits.train, 32, random.split());
    nn::adamw<float> optimizer(model, {.learning_rate = 0.002f, .weight_decay = 0.1f});
    const etape::tape_position start = scope.get().position();
    for (int epoch = 1; epoch <= 15; ++epoch) {
        double loss_sum = 0;
        for (const nn::batch<float>& batch : loader.epoch()) {
            const etape::var<float> loss = nn::softmax_cross_entropy(model(batch.features), batch.labels);
            loss_sum += static_cast<double>(loss.value());
            optimizer.step(loss);
            scope.get().rewind(start);
        }
        fmt::print("epoch {:2}  loss {:.4f}  test accuracy {:.1f} %\n", epoch,
                   loss_sum / static_cast<double>(loader.batch_count()), 100 * accuracy(model, digits.test));
    }

    nn::save(model, file);
    digits_net loaded{{64, 256}, {256, 10}};
    nn::load(loaded, file);
    const double before = accuracy(model, digits.test), after = accuracy(loaded, digits.test);
    fmt::print("saved to {} ({} bytes); loaded back: test accuracy {:.1f} %\n", file.string(),
               std::filesystem::file_size(file), 100 * after);
    return after == before && before >= 0.9 ? 0 : 1;
}
