// The dense (fully connected) layer: y = activation(x W^T + b), for a
// batch of rows [batch, in] or a single sample [in]. Layer: nn.
#pragma once

#include <concepts>
#include <cstddef>
#include <string>

#include <boost/hana/define_struct.hpp>

#include <etape/nn/activation.hpp>
#include <etape/nn/init.hpp>
#include <etape/nn/layer.hpp>
#include <etape/nn/random.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/expression.hpp>
#include <etape/tensor/matmul.hpp>

namespace etape::nn {

/// weight [out, in] and bias [out]: the layout of torch.nn.Linear, so that
/// a row of the weight is one output's weights. The product is one matmul
/// node and the bias and activation one fused elementwise node after it:
/// any activation that maps a tensor expression to one (the functors of
/// activation.hpp, or a user's callable) fuses.
template <std::floating_point T, class Activation = activation::none>
struct dense : layer_name {
    BOOST_HANA_DEFINE_STRUCT(dense, (active_tensor<T>, weight), (active_tensor<T>, bias));

    /// Parameters on the active tape, zero until nn::initialize draws them
    /// (weights as `init` says, by default as suits the activation; bias 0).
    dense(std::size_t inputs, std::size_t outputs, Activation activation = {},
          weight_init init = recommended_init<Activation>)
        : layer_name("dense"), weight(tensor<T>({outputs, inputs})), bias(tensor<T>({outputs})),
          activation_(activation), init_(init)
    {
    }

    /// activation(x W^T + b) for x [batch, in] (result [batch, out]) or
    /// x [in] (result [out]). x is a value tensor, an active tensor or a
    /// tensor expression. A wrong width throws shape_error naming the layer;
    /// in anomaly mode, a report on its nodes ends "in <its name>", and an
    /// output with NaN or inf from a finite input throws anomaly_error
    /// naming the layer (layer_name::check_forward).
    template <class X>
        requires tensor_argument<X, T>
    [[nodiscard]] active_tensor<T> operator()(const X& x) const
    {
        const shape& s = x.shape();
        if ((s.rank() != 1 && s.rank() != 2) || s.last() != inputs())
            throw_bad_input("an input of width " + std::to_string(inputs()) + " ([" + std::to_string(inputs()) +
                                "] or [batch, " + std::to_string(inputs()) + "])",
                            s);
        const anomaly_context<T> context(active_tape<T>(), name());
        const active_tensor<T> product = matmul(x, weight, transpose::no, transpose::yes);
        active_tensor<T> y = activation_(product + bias);
        check_forward(x, y);
        return y;
    }

    /// Draws the weights; the bias is zero.
    void initialize(random_generator& random)
    {
        initialize_weights(weight.values(), init_, {inputs(), outputs()}, random);
        std::fill(bias.values().begin(), bias.values().end(), T(0));
    }

    [[nodiscard]] std::size_t inputs() const noexcept { return weight.shape()[1]; }
    [[nodiscard]] std::size_t outputs() const noexcept { return weight.shape()[0]; }
    [[nodiscard]] const Activation& activation() const noexcept { return activation_; }

private:
    Activation activation_;
    weight_init init_;
};

} // namespace etape::nn
