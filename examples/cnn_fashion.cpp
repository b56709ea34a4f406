// A convolutional ELU network on Fashion-MNIST, defined as a plain struct of
// layers: two 3x3 convolutions of 16 and 32 filters, each with ELU and 2x2
// max pooling, a dense ELU layer of 64 and the 10 logits; Adam 1e-3, batch
// 32. Prints the network, then each epoch's training loss, test accuracy
// and time, and the accuracy of each class at the end. Without Debian's
// dataset-fashion-mnist it says so and trains the same network on the
// embedded 8x8 digits. Run:
//   ./cnn_fashion [epochs] [training rows]        (defaults: 4, all 60,000)
#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <numeric>
#include <string>
#include <string_view>

#include <boost/hana/define_struct.hpp>
#include <fmt/core.h>

#include <etape/nn.hpp>

#include "count_argument.hpp"

namespace nn = etape::nn;

struct fashion_cnn {
    BOOST_HANA_DEFINE_STRUCT(fashion_cnn, (nn::conv2d<float, nn::activation::elu>, conv1), (nn::max_pool2d, pool1),
                             (nn::conv2d<float, nn::activation::elu>, conv2), (nn::max_pool2d, pool2),
                             (nn::flatten, flat), (nn::dense<float, nn::activation::elu>, hidden),
                             (nn::dense<float>, out));

    /// For square images of `side` pixels, one channel.
    explicit fashion_cnn(std::size_t side)
        : conv1(1, 16, 3, {.padding = 1}), conv2(16, 32, 3, {.padding = 1}), hidden(32 * (side / 4) * (side / 4), 64),
          out(64, 10)
    {
    }

    template <class X>
    [[nodiscard]] etape::active_tensor<float> operator()(const X& x) const
    {
        return out(hidden(flat(pool2(conv2(pool1(conv1(x)))))));
    }
};

/// Right answers and rows seen per class on a test set.
struct class_scores {
    std::array<std::size_t, 10> right{}, seen{};

    [[nodiscard]] double overall() const
    {
        return static_cast<double>(std::accumulate(right.begin(), right.end(), std::size_t{0})) /
               static_cast<double>(std::accumulate(seen.begin(), seen.end(), std::size_t{0}));
    }
};

/// Scores `model` on `data`, 500 rows at a time (rewinding the tape after each).
class_scores score(const fashion_cnn& model, const nn::dataset<float>& data)
{
    etape::tape<float>& tape = etape::active_tape<float>();
    const etape::tape_position start = tape.position();
    class_scores scores;
    nn::batch_loader<float> in_order(data, 500);
    for (const nn::batch<float>& chunk : in_order.epoch()) {
        const etape::active_tensor<float> logits = model(chunk.features);
        for (std::size_t row = 0; row < chunk.labels.size(); ++row) {
            const auto logits_of_row = logits.values().subspan(row * 10, 10);
            const auto best =
                static_cast<std::size_t>(std::ranges::max_element(logits_of_row) - logits_of_row.begin());
            ++scores.seen[chunk.labels[row]];
            scores.right[chunk.labels[row]] += best == chunk.labels[row] ? 1 : 0;
        }
        tape.rewind(start);
    }
    return scores;
}

int main(int argc, char** argv)
{
    std::size_t epochs = 4, training_rows = 0;
    if (argc > 1) {
        const auto e = count_argument("cnn_fashion", "epochs", argv[1], 1);
        if (!e)
            return 2;
        epochs = *e;
    }
    if (argc > 2) {
        const auto r = count_argument("cnn_fashion", "training rows", argv[2], 1);
        if (!r)
            return 2;
        training_rows = *r;
    }

    nn::data_split<float> data;
    std::string_view data_name = "Fashion-MNIST";
    if (std::filesystem::exists(nn::fashion_mnist_folder)) {
        data = nn::fashion_mnist<float>();
    } else {
        fmt::print("Fashion-MNIST is not installed in {} (Debian: apt-get install dataset-fashion-mnist): "
                   "training on the embedded 8x8 digits instead\n",
                   nn::fashion_mnist_folder);
        data = nn::digits<float>();
        data_name = "digits";
        for (nn::dataset<float>* part : {&data.train, &data.test})
            part->features = part->features.reshape({part->rows(), 1, 8, 8});
    }
    if (training_rows != 0 && training_rows < data.train.rows())
        data.train = nn::split_rows(data.train, training_rows).train;
    const std::size_t side = data.train.features.shape()[2];

    etape::tape_scope<float> scope;
    fashion_cnn model(side);
    nn::random_generator random(1);
    nn::initialize(model, random);
    fmt::print("{}\n", nn::summary(model));
    fmt::print("{}: {} training and {} test images of {}x{}; Adam 1e-3, batch 32, {} epoch{}\n\n", data_name,
               data.train.rows(), data.test.rows(), side, side, epochs, epochs == 1 ? "" : "s");

    nn::batch_loader<float> loader(data.train, 32, random.split());
    nn::adam<float> optimizer(model, {.learning_rate = 1e-3f});
    const etape::tape_position start = scope.get().position();
    double accuracy = 0;
    for (std::size_t epoch = 1; epoch <= epochs; ++epoch) {
        const auto began = std::chrono::steady_clock::now();
        double loss_sum = 0;
        for (const nn::batch<float>& batch : loader.epoch()) {
            const etape::var<float> loss = nn::softmax_cross_entropy(model(batch.features), batch.labels);
            loss_sum += static_cast<double>(loss.value());
            optimizer.step(loss);
            scope.get().rewind(start);
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
        accuracy = score(model, data.test).overall();
        fmt::print("epoch {:2}  training loss {:.4f}  test accuracy {:.1f} %  ({:.2f} s)\n", epoch,
                   loss_sum / static_cast<double>(loader.batch_count()), 100 * accuracy, seconds);
    }

    fmt::print("\ntest accuracy per class:\n");
    const class_scores scores = score(model, data.test);
    for (std::size_t c = 0; c < 10; ++c) {
        const std::string name =
            data_name == "digits" ? "digit " + std::to_string(c) : std::string(nn::fashion_mnist_class_names[c]);
        const double share =
            static_cast<double>(scores.right[c]) / static_cast<double>(std::max<std::size_t>(1, scores.seen[c]));
        fmt::print("  {:>12}  {:5.1f} %\n", name, 100 * share);
    }
    fmt::print("\n{} CNN with ELU: test accuracy {:.1f} % after {} epoch{}\n", data_name, 100 * accuracy, epochs,
               epochs == 1 ? "" : "s");
    return 0;
}
