// The networks the lab trains, built at run time around an activation
// chosen at run time: an MLP (dense layers) or a CNN (3x3 convolutions with
// 2x2 max pooling, then dense layers), each ending in a linear layer with a
// logit per class. Layer: lab.
#pragma once

#include <cmath>
#include <cstddef>
#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

#include <etape/lab/activation_registry.hpp>
#include <etape/nn/init.hpp>
#include <etape/nn/parameters.hpp>
#include <etape/nn/random.hpp>
#include <etape/tensor/conv2d.hpp>
#include <etape/tensor/matmul.hpp>
#include <etape/tensor/pooling.hpp>

namespace etape::lab {

enum class architecture { mlp, cnn };

/// How a network's parameters start.
enum class start {
    suited,  ///< weights as the activation suits (He, LeCun or Glorot; the output layer Glorot uniform), biases 0
    pytorch, ///< torch.nn.Linear's and Conv2d's default: weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))
};

/// What the lab trains and how: the network's shape (hidden dense widths,
/// and for the CNN the filters of each convolution), epochs, batch size,
/// Adam's rate and decoupled weight decay (AdamW when above 0), the
/// augmentation, and the training loss whose first crossing is reported.
struct protocol {
    lab::architecture architecture = architecture::mlp;
    lab::start start = start::suited;
    std::vector<std::size_t> filters{16, 32}; ///< CNN only: one 3x3 convolution and 2x2 pooling each
    std::vector<std::size_t> hidden{128, 128};
    std::size_t epochs = 30;
    std::size_t batch_size = 32;
    float learning_rate = 1e-3f;
    float weight_decay = 0.0f;
    std::size_t shift = 0; ///< each training image moved by up to this many pixels along each axis (a new draw
                           ///< per image and epoch; square images only)
    double loss_target = 0.1;
};

/// A network with its parameters on the active tape (build_network).
struct network {
    std::deque<active_tensor<float>> weights; ///< a layer each, input side first (deque: stable addresses)
    std::deque<active_tensor<float>> biases;
    const activation* act = nullptr; ///< on every hidden layer
    std::size_t convolutions = 0;    ///< the first layers that are convolutions
    std::size_t image_side = 0;      ///< the CNN's input images, side x side

    /// Logits [N, classes] of rows of features [N, D]; appends each hidden
    /// layer's activations to `hidden` when it is given.
    [[nodiscard]] active_tensor<float> forward(const active_tensor<float>& x,
                                               std::vector<active_tensor<float>>* hidden = nullptr) const
    {
        active_tensor<float> h = x;
        if (convolutions > 0)
            h = h.reshape({x.shape()[0], 1, image_side, image_side});
        for (std::size_t l = 0; l < weights.size(); ++l) {
            if (l < convolutions) {
                h = act->apply(conv2d(h, weights[l], biases[l], conv2d_options{.stride = 1, .padding = 1}));
                if (hidden != nullptr)
                    hidden->push_back(h);
                h = max_pool2d(h, pool2d_options{2, 2});
                if (l + 1 == convolutions)
                    h = h.reshape({h.shape()[0], h.size() / h.shape()[0]});
                continue;
            }
            const active_tensor<float> product = matmul(h, weights[l], transpose::no, transpose::yes);
            if (l + 1 == weights.size())
                return active_tensor<float>(product + biases[l]);
            h = act->dense(product, biases[l]);
            if (hidden != nullptr)
                hidden->push_back(h);
        }
        return h;
    }

    /// Names and tensors for the optimizer: layer<k>.weight, layer<k>.bias.
    [[nodiscard]] std::vector<nn::named_parameter<float>> parameters()
    {
        std::vector<nn::named_parameter<float>> list;
        for (std::size_t l = 0; l < weights.size(); ++l) {
            list.push_back({"layer" + std::to_string(l) + ".weight", &weights[l]});
            list.push_back({"layer" + std::to_string(l) + ".bias", &biases[l]});
        }
        return list;
    }
};

/// Builds the network `p` describes for `features` inputs (for the CNN,
/// square images of one channel: features = side * side) and `classes`
/// outputs, its parameters drawn from `random` as `p.start` says (by
/// default the weights as `act` suits, the output layer Glorot uniform,
/// the biases 0). `act` must outlive the network.
/// Throws std::invalid_argument for a shape that cannot be built.
inline network build_network(const protocol& p, const activation& act, std::size_t features, std::size_t classes,
                             nn::random_generator& random)
{
    for (const std::size_t width : p.hidden)
        if (width == 0)
            throw std::invalid_argument("etape-lab: a hidden layer needs at least 1 unit");
    network net;
    const auto add = [&](etape::shape weight_shape, std::size_t outputs, nn::fans fan, nn::weight_init init) {
        net.weights.emplace_back(tensor<float>(weight_shape));
        net.biases.emplace_back(tensor<float>({outputs}, 0.0f));
        if (p.start == start::pytorch) {
            const double bound = 1 / std::sqrt(static_cast<double>(fan.in));
            nn::fill_uniform(net.weights.back().values(), bound, random);
            nn::fill_uniform(net.biases.back().values(), bound, random);
        } else {
            nn::initialize_weights(net.weights.back().values(), init, fan, random);
        }
    };

    std::size_t convolutions = 0, side = 0, image_side = 0, width = features;
    if (p.architecture == architecture::cnn) {
        side = static_cast<std::size_t>(std::lround(std::sqrt(static_cast<double>(features))));
        image_side = side;
        if (side * side != features)
            throw std::invalid_argument("etape-lab: the CNN needs square images; " + std::to_string(features) +
                                        " features are not");
        std::size_t channels = 1;
        for (const std::size_t f : p.filters) {
            if (f == 0)
                throw std::invalid_argument("etape-lab: a convolution needs at least 1 filter");
            if (side < 2)
                throw std::invalid_argument("etape-lab: " + std::to_string(p.filters.size()) +
                                            " convolutions with 2x2 pooling do not fit images of " +
                                            std::to_string(image_side) + " pixels a side");
            add({f, channels, 3, 3}, f, {channels * 9, f * 9}, act.init);
            channels = f;
            side /= 2;
            ++convolutions;
        }
        width = channels * side * side;
    }
    for (const std::size_t w : p.hidden) {
        add({w, width}, w, {width, w}, act.init);
        width = w;
    }
    add({classes, width}, classes, {width, classes}, nn::weight_init::glorot_uniform);

    net.act = &act;
    net.convolutions = convolutions;
    net.image_side = image_side;
    return net;
}

} // namespace etape::lab
