// The convolution layer: y = activation(conv2d(x, w) + b) over an NCHW
// batch, the convolution one tape node and the activation one fused
// elementwise node after it. Layer: nn.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <stdexcept>
#include <string>

#include <boost/hana/define_struct.hpp>

#include <etape/nn/activation.hpp>
#include <etape/nn/init.hpp>
#include <etape/nn/layer.hpp>
#include <etape/nn/random.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/conv2d.hpp>
#include <etape/tensor/expression.hpp>

namespace etape::nn {

/// weight [filters, channels, KH, KW] and bias [filters]: the layout of
/// torch.nn.Conv2d. The bias is added inside the convolution's node; the
/// activation (any callable that maps a tensor expression to one, as for
/// dense) is one fused node after it, none for activation::none.
template <std::floating_point T, class Activation = activation::none>
struct conv2d : layer_name {
    BOOST_HANA_DEFINE_STRUCT(conv2d, (active_tensor<T>, weight), (active_tensor<T>, bias));

    /// A square kernel of `kernel` x `kernel`. Parameters on the active
    /// tape, zero until nn::initialize draws them (weights as `init` says,
    /// by default as suits the activation; bias 0).
    conv2d(std::size_t channels, std::size_t filters, std::size_t kernel, conv2d_options options = {},
           Activation activation = {}, weight_init init = recommended_init<Activation>)
        : conv2d(channels, filters, kernel, kernel, options, activation, init)
    {
    }

    /// A kernel of `kernel_height` x `kernel_width`.
    conv2d(std::size_t channels, std::size_t filters, std::size_t kernel_height, std::size_t kernel_width,
           conv2d_options options = {}, Activation activation = {}, weight_init init = recommended_init<Activation>)
        : layer_name("conv2d"), weight(tensor<T>({filters, channels, kernel_height, kernel_width})),
          bias(tensor<T>({filters})), options_(options), activation_(activation), init_(init)
    {
        if (kernel_height == 0 || kernel_width == 0 || options.stride == 0)
            throw std::invalid_argument("etape::nn: conv2d needs a kernel of at least 1 x 1 and a stride of at "
                                        "least 1, got " +
                                        std::to_string(kernel_height) + " x " + std::to_string(kernel_width) +
                                        " and stride " + std::to_string(options.stride));
    }

    /// activation(conv2d(x, weight) + bias) for x [N, C, H, W]: y [N, F, OH,
    /// OW] with OH = (H + 2 padding - KH) / stride + 1 (likewise OW). x is a
    /// value tensor, an active tensor or a tensor expression. An input of
    /// another rank, another channel count or smaller than the kernel with
    /// its padding throws shape_error naming the layer. Anomaly mode names
    /// the layer as for dense (layer_name::check_forward).
    template <class X>
        requires tensor_argument<X, T>
    [[nodiscard]] active_tensor<T> operator()(const X& x) const
    {
        const shape& s = x.shape();
        const std::size_t min_h = kernel_height() > 2 * options_.padding ? kernel_height() - 2 * options_.padding : 0;
        const std::size_t min_w = kernel_width() > 2 * options_.padding ? kernel_width() - 2 * options_.padding : 0;
        if (s.rank() != 4 || s[1] != channels() || s[2] < min_h || s[3] < min_w) {
            std::string expected = "an input [N, " + std::to_string(channels()) + ", H, W]";
            if (min_h > 0 || min_w > 0)
                expected += " with H >= " + std::to_string(min_h) + " and W >= " + std::to_string(min_w);
            throw_bad_input(expected, s);
        }
        const anomaly_context<T> context(active_tape<T>(), name());
        active_tensor<T> y = activation_(etape::conv2d(x, weight, bias, options_));
        check_forward(x, y);
        return y;
    }

    /// Draws the weights, with fans in = C KH KW and out = F KH KW; the
    /// bias is zero.
    void initialize(random_generator& random)
    {
        const std::size_t area = kernel_height() * kernel_width();
        initialize_weights(weight.values(), init_, {channels() * area, filters() * area}, random);
        std::fill(bias.values().begin(), bias.values().end(), T(0));
    }

    [[nodiscard]] std::size_t channels() const noexcept { return weight.shape()[1]; }
    [[nodiscard]] std::size_t filters() const noexcept { return weight.shape()[0]; }
    [[nodiscard]] std::size_t kernel_height() const noexcept { return weight.shape()[2]; }
    [[nodiscard]] std::size_t kernel_width() const noexcept { return weight.shape()[3]; }
    [[nodiscard]] const conv2d_options& options() const noexcept { return options_; }
    [[nodiscard]] const Activation& activation() const noexcept { return activation_; }

private:
    conv2d_options options_;
    Activation activation_;
    weight_init init_;
};

} // namespace etape::nn
