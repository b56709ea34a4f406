// One training run of the lab: a network (networks.hpp) whose hidden layers
// use an activation chosen at run time, trained with Adam on a data split,
// measured every epoch (training loss, test accuracy, each hidden layer's
// mean and spread of activations, time) and at the ends (gradient norm per
// layer at initialisation, dead units after training). Layer: lab.
#pragma once

#include <chrono>
#include <cmath>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <etape/core/active_tape.hpp>
#include <etape/lab/activation_registry.hpp>
#include <etape/lab/distribution.hpp>
#include <etape/lab/networks.hpp>
#include <etape/nn/batch_loader.hpp>
#include <etape/nn/dataset.hpp>
#include <etape/nn/loss.hpp>
#include <etape/nn/optimizer.hpp>
#include <etape/nn/random.hpp>
#include <etape/nn/shard.hpp>
#include <etape/tensor/gradient.hpp>

namespace etape::lab {

/// Mean and standard deviation of a hidden layer's activations over the
/// training set.
struct activation_moments {
    double mean = 0;
    double stddev = 0;
};

struct epoch_result {
    std::size_t epoch = 0; ///< 1-based
    double train_loss = 0; ///< mean over the epoch's batches
    double test_accuracy = 0;
    std::vector<activation_moments> hidden; ///< per hidden layer, after the epoch
    double seconds = 0;                    ///< the epoch's training, measurements excluded
    double measuring_seconds = 0;          ///< the measurements after it (test accuracy, moments, dead units)
};

struct run_result {
    std::string activation; ///< its label
    unsigned seed = 0;
    std::vector<epoch_result> epochs;
    std::vector<double> initial_gradient_norms; ///< per layer (hidden ones, then the output), first batch
    std::vector<double> final_gradient_norms;   ///< the same at the last batch of the last epoch
    std::vector<double> dead_fraction;          ///< per hidden layer: units never positive on the training set
    std::optional<std::size_t> diverged_at;     ///< the epoch whose loss was NaN or infinite; training stopped there

    /// The first epoch whose training loss fell below `target`.
    [[nodiscard]] std::optional<std::size_t> epoch_below(double target) const
    {
        for (const epoch_result& e : epochs)
            if (e.train_loss < target)
                return e.epoch;
        return std::nullopt;
    }
};

/// Called after each epoch with the run so far.
using epoch_callback = std::function<void(const run_result&)>;

namespace detail {

inline void add_moments(std::span<const float> values, double& sum, double& squares)
{
    for (const float v : values) {
        sum += static_cast<double>(v);
        squares += static_cast<double>(v) * static_cast<double>(v);
    }
}

/// Copies square one-channel images (rows of side * side pixels) from `in`
/// to `out`, each moved by its own random offset of at most `most` pixels
/// along each axis, the uncovered border zero.
inline void shift_images(const tensor<float>& in, std::size_t side, std::size_t most, nn::random_generator& random,
                         tensor<float>& out)
{
    if (out.shape() != in.shape())
        out = tensor<float>(in.shape());
    const std::size_t pixels = side * side, images = in.size() / pixels;
    const auto source = in.values();
    const auto target = out.values();
    const auto offset = static_cast<std::ptrdiff_t>(most);
    const auto width = static_cast<std::ptrdiff_t>(side);
    for (std::size_t image = 0; image < images; ++image) {
        const std::ptrdiff_t down = static_cast<std::ptrdiff_t>(random.below(2 * most + 1)) - offset;
        const std::ptrdiff_t right = static_cast<std::ptrdiff_t>(random.below(2 * most + 1)) - offset;
        const float* from = source.data() + image * pixels;
        float* to = target.data() + image * pixels;
        for (std::ptrdiff_t r = 0; r < width; ++r)
            for (std::ptrdiff_t c = 0; c < width; ++c) {
                const std::ptrdiff_t r0 = r - down, c0 = c - right;
                to[r * width + c] = r0 >= 0 && r0 < width && c0 >= 0 && c0 < width ? from[r0 * width + c0] : 0.0f;
            }
    }
}

} // namespace detail

/// Trains the network `protocol` describes with `act` on every hidden
/// layer (build_network) on `data.train`, scores it on `data.test` each
/// epoch, and stops early when the loss is not finite. Uses a tape of its
/// own; bit-identical for equal arguments. With `across`, every process
/// calls it alike and trains on its share of each batch (nn::shard), the
/// optimizer applying the processes' average gradient; the epoch's loss is
/// the mean over all of them, and the measurements after each epoch (all
/// rows, on every process: the models are equal) and the gradient norms
/// (of process 0's share of the first and last batch) are each process's own.
inline run_result train(const nn::data_split<float>& data, const activation& act, const protocol& plan,
                        unsigned seed, const epoch_callback& after_epoch = {}, distribution* across = nullptr)
{
    if (plan.epochs == 0)
        throw std::invalid_argument("etape-lab: epochs must be at least 1");
    if (plan.batch_size == 0)
        throw std::invalid_argument("etape-lab: the batch size must be at least 1");
    if (!(plan.learning_rate > 0) || !std::isfinite(plan.learning_rate))
        throw std::invalid_argument("etape-lab: the learning rate must be a positive number");
    if (!(plan.weight_decay >= 0) || !std::isfinite(plan.weight_decay))
        throw std::invalid_argument("etape-lab: the weight decay must be a number of at least 0");
    const std::size_t features = data.train.features.shape()[1];
    const auto side = static_cast<std::size_t>(std::lround(std::sqrt(static_cast<double>(features))));
    if (plan.shift > 0 && side * side != features)
        throw std::invalid_argument("etape-lab: shifting needs square images; " + std::to_string(features) +
                                    " features are not");

    tape_scope<float> scope;
    tape<float>& t = scope.get();
    nn::random_generator random(seed);
    network net = build_network(plan, act, features, data.train.classes, random);
    nn::adamw<float> optimizer(net.parameters(),
                               {.learning_rate = plan.learning_rate, .weight_decay = plan.weight_decay});
    const std::unique_ptr<nn::gradient_exchange<float>> exchange =
        across != nullptr ? across->exchange(net.parameters()) : nullptr;
    optimizer.set_gradient_exchange(exchange.get());
    nn::batch_loader<float> loader(data.train, plan.batch_size, random.split());
    nn::random_generator shifts = random.split();
    tensor<float> shifted;
    run_result result;
    result.activation = act.label();
    result.seed = seed;
    const tape_position start = t.position();

    // measurements over the training set and the test set, a chunk of rows
    // at a time (a convolution's activations over all of Fashion-MNIST
    // would take gigabytes): moments, dead units, accuracy; nothing of it
    // is trained on
    constexpr std::size_t measured_rows = 256;
    nn::batch_loader<float> train_in_order(data.train, measured_rows);
    nn::batch_loader<float> test_in_order(data.test, measured_rows);
    std::vector<double> sums, sums_of_squares, counts;
    std::vector<std::vector<char>> ever_positive; // per hidden layer, per unit
    const auto measure = [&](epoch_result& e, bool count_dead) {
        sums.clear();
        sums_of_squares.clear();
        counts.clear();
        ever_positive.clear();
        for (const nn::batch<float>& chunk : train_in_order.epoch()) {
            std::vector<active_tensor<float>> hidden;
            (void)net.forward(active_tensor<float>(chunk.features), &hidden);
            sums.resize(hidden.size(), 0.0);
            sums_of_squares.resize(hidden.size(), 0.0);
            counts.resize(hidden.size(), 0.0);
            ever_positive.resize(hidden.size());
            for (std::size_t l = 0; l < hidden.size(); ++l) {
                const active_tensor<float>& h = hidden[l];
                detail::add_moments(h.values(), sums[l], sums_of_squares[l]);
                counts[l] += static_cast<double>(h.size());
                if (!count_dead)
                    continue;
                // a unit: a column of a dense layer's [N, units], a channel of a convolution's [N, units, H, W]
                const std::size_t units = h.shape()[1];
                const std::size_t inner = h.size() / (h.shape()[0] * units);
                ever_positive[l].resize(units, 0);
                const auto v = h.values();
                for (std::size_t k = 0; k < v.size(); ++k)
                    ever_positive[l][(k / inner) % units] |= static_cast<char>(v[k] > 0);
            }
            t.rewind(start);
        }
        for (std::size_t l = 0; l < sums.size(); ++l) {
            const double mean = sums[l] / counts[l];
            e.hidden.push_back({mean, std::sqrt(std::max(0.0, sums_of_squares[l] / counts[l] - mean * mean))});
        }
        if (count_dead) {
            result.dead_fraction.clear();
            for (const std::vector<char>& units : ever_positive) {
                std::size_t dead = 0;
                for (const char alive : units)
                    dead += alive == 0 ? 1 : 0;
                result.dead_fraction.push_back(static_cast<double>(dead) / static_cast<double>(units.size()));
            }
        }
        std::size_t right = 0;
        for (const nn::batch<float>& chunk : test_in_order.epoch()) {
            const active_tensor<float> logits = net.forward(active_tensor<float>(chunk.features), nullptr);
            const std::size_t classes = logits.shape()[1];
            for (std::size_t row = 0; row < chunk.labels.size(); ++row) {
                const auto scores = logits.values().subspan(row * classes, classes);
                std::size_t best = 0;
                for (std::size_t c = 1; c < classes; ++c)
                    if (scores[c] > scores[best])
                        best = c;
                right += best == chunk.labels[row] ? 1 : 0;
            }
            t.rewind(start);
        }
        e.test_accuracy = static_cast<double>(right) / static_cast<double>(data.test.rows());
    };

    for (std::size_t epoch = 1; epoch <= plan.epochs; ++epoch) {
        epoch_result e;
        e.epoch = epoch;
        double loss_sum = 0;
        std::size_t batches = 0;
        const auto began = std::chrono::steady_clock::now();
        std::optional<nn::batch<float>> share; // this process's rows of each batch, with `across`
        for (const nn::batch<float>& whole : loader.epoch()) {
            const nn::batch<float>& batch =
                across != nullptr ? share.emplace(nn::shard(whole, across->rank(), across->ranks())) : whole;
            if (plan.shift > 0)
                detail::shift_images(batch.features, side, plan.shift, shifts, shifted);
            const var<float> loss = nn::softmax_cross_entropy(
                net.forward(active_tensor<float>(plan.shift > 0 ? shifted : batch.features), nullptr), batch.labels);
            const bool first_batch = result.initial_gradient_norms.empty();
            const bool last_batch = epoch == plan.epochs && batches + 1 == loader.batch_count();
            if (first_batch || last_batch) {
                std::vector<double> norms;
                for (const active_tensor<float>& weight : net.weights) {
                    double squares = 0;
                    for (const float v : gradient_view(loss, weight))
                        squares += static_cast<double>(v) * static_cast<double>(v);
                    norms.push_back(std::sqrt(squares));
                }
                if (first_batch)
                    result.initial_gradient_norms = norms;
                if (last_batch)
                    result.final_gradient_norms = norms;
            }
            loss_sum += static_cast<double>(loss.value());
            ++batches;
            optimizer.step(loss);
            t.rewind(start);
        }
        e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
        if (across != nullptr) { // the mean over the processes' shares, each the same number of batches
            across->sum(std::span(&loss_sum, 1));
            loss_sum /= across->ranks();
        }
        e.train_loss = loss_sum / static_cast<double>(batches);
        if (!std::isfinite(e.train_loss)) {
            result.diverged_at = epoch;
            result.epochs.push_back(e);
            break;
        }
        const auto measuring = std::chrono::steady_clock::now();
        measure(e, epoch == plan.epochs);
        e.measuring_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - measuring).count();
        result.epochs.push_back(std::move(e));
        if (after_epoch)
            after_epoch(result);
    }
    return result;
}

} // namespace etape::lab
