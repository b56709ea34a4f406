// Losses: mean squared error, binary cross-entropy with logits, Huber, and
// (from the tensor layer) softmax cross-entropy. Each is the mean over
// every element (PyTorch's reduction='mean') and records one fused node:
// the elementwise work and the mean in one loop. Layer: nn.
#pragma once

#include <cmath>
#include <concepts>
#include <limits>
#include <string>
#include <string_view>

#include <etape/core/number_text.hpp>
#include <etape/core/primitive.hpp>
#include <etape/ops/logistic.hpp>
#include <etape/tensor/expression.hpp>
#include <etape/tensor/fused_kernel.hpp>
#include <etape/tensor/softmax.hpp>

namespace etape::nn {

namespace detail {

/// Throws shape_error unless the prediction and the target have one shape.
inline void require_same_shape(std::string_view loss, const shape& prediction, const shape& target)
{
    if (prediction != target)
        throw shape_error("etape::nn::" + std::string(loss) + ": the prediction " + prediction.to_string() +
                          " and the target " + target.to_string() + " differ in shape");
}

/// Huber's function of the residual d: d^2 / 2 within delta of 0, linear
/// beyond (delta (|d| - delta / 2)); its derivative is d clamped to delta.
template <std::floating_point T>
struct huber_op {
    static constexpr derivative_source source = derivative_source::input;
    static constexpr std::string_view name = "huber";

    explicit huber_op(T delta_) : delta(delta_)
    {
        if (!(delta > T(0)) || !std::isfinite(delta))
            etape::detail::throw_invalid_number("etape::nn::huber: delta must be positive and finite, got ", delta);
    }
    [[nodiscard]] T primal(T d) const
    {
        const T a = std::fabs(d);
        return a <= delta ? T(0.5) * d * d : delta * (a - T(0.5) * delta);
    }
    [[nodiscard]] T partial(T d, T) const { return d > delta ? delta : d < -delta ? -delta : d; }

    T delta;
};

} // namespace detail

/// mean((prediction - target)^2): torch.nn.MSELoss.
template <class P, class Y>
    requires tensor_expression<P> && tensor_operand<Y>
[[nodiscard]] auto mse(const P& prediction, const Y& target)
{
    detail::require_same_shape("mse", prediction.shape(), target.shape());
    const auto residual = prediction - target;
    return etape::mean(residual * residual);
}

/// mean(softplus(z) - z y) for logits z and targets y in [0, 1]: the binary
/// cross-entropy of sigmoid(z), computed without forming sigmoid(z), so
/// that it stays finite for any logit (torch.nn.BCEWithLogitsLoss).
template <class Z, class Y>
    requires tensor_expression<Z> && tensor_operand<Y>
[[nodiscard]] auto binary_cross_entropy_with_logits(const Z& logits, const Y& targets)
{
    detail::require_same_shape("binary_cross_entropy_with_logits", logits.shape(), targets.shape());
    return etape::mean(etape::softplus(logits) - logits * targets);
}

/// mean(huber(prediction - target)) with the quadratic zone of half-width
/// delta (torch.nn.HuberLoss, default delta 1).
template <class P, class Y>
    requires tensor_expression<P> && tensor_operand<Y>
[[nodiscard]] auto huber(const P& prediction, const Y& target, typename P::value_type delta = 1)
{
    detail::require_same_shape("huber", prediction.shape(), target.shape());
    return etape::mean(apply(detail::huber_op<typename P::value_type>(delta), prediction - target));
}

using etape::softmax_cross_entropy;

} // namespace etape::nn
