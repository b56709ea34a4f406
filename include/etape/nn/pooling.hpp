// The pooling layers: max and average pooling over square windows of an
// NCHW batch, each one tape node (tensor/pooling.hpp). Layer: nn.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include <etape/nn/layer.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/pooling.hpp>

namespace etape::nn {

namespace detail {

/// What both pooling layers share: the window, its check at construction
/// and the check of an input's shape, which names the layer.
class pool2d_layer : public layer_name {
public:
    static constexpr bool holds_no_tensors = true;

    pool2d_layer(std::string_view kind, pool2d_options options) : layer_name(kind), options_(options)
    {
        if (options.size == 0 || options.stride == 0)
            throw std::invalid_argument("etape::nn: " + std::string(kind) +
                                        " needs a window and a stride of at least 1, got window " +
                                        std::to_string(options.size) + " and stride " + std::to_string(options.stride));
    }

    [[nodiscard]] const pool2d_options& options() const noexcept { return options_; }

protected:
    /// Throws shape_error naming the layer unless x is [N, C, H, W] with
    /// H and W at least the window.
    void check_input(const shape& s) const
    {
        if (s.rank() != 4 || s[2] < options_.size || s[3] < options_.size)
            throw_bad_input("an input [N, C, H, W] with H >= " + std::to_string(options_.size) +
                                " and W >= " + std::to_string(options_.size),
                            s);
    }

private:
    pool2d_options options_;
};

} // namespace detail

/// Max pooling over size x size windows, `stride` apart (torch.nn.MaxPool2d
/// without padding): the gradient goes to each window's first maximum.
struct max_pool2d : detail::pool2d_layer {
    /// Windows of `size` x `size`, as many apart (non-overlapping).
    explicit max_pool2d(std::size_t size = 2) : max_pool2d(pool2d_options{size, size}) {}
    explicit max_pool2d(pool2d_options options) : pool2d_layer("max_pool2d", options) {}

    /// y [N, C, OH, OW] for x [N, C, H, W] (an active tensor or a tensor
    /// expression), OH = (H - size) / stride + 1, likewise OW.
    template <tensor_expression X>
    [[nodiscard]] active_tensor<typename X::value_type> operator()(const X& x) const
    {
        check_input(x.shape());
        const anomaly_context<typename X::value_type> context(active_tape<typename X::value_type>(), name());
        return etape::max_pool2d(x, options());
    }
};

/// Average pooling over size x size windows, `stride` apart
/// (torch.nn.AvgPool2d without padding).
struct avg_pool2d : detail::pool2d_layer {
    /// Windows of `size` x `size`, as many apart (non-overlapping).
    explicit avg_pool2d(std::size_t size = 2) : avg_pool2d(pool2d_options{size, size}) {}
    explicit avg_pool2d(pool2d_options options) : pool2d_layer("avg_pool2d", options) {}

    /// y [N, C, OH, OW] for x [N, C, H, W], as for max_pool2d.
    template <tensor_expression X>
    [[nodiscard]] active_tensor<typename X::value_type> operator()(const X& x) const
    {
        check_input(x.shape());
        const anomaly_context<typename X::value_type> context(active_tape<typename X::value_type>(), name());
        return etape::avg_pool2d(x, options());
    }
};

} // namespace etape::nn
