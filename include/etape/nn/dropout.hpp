// The dropout layer: in training mode each element is zeroed with
// probability p and the others scaled by 1 / (1 - p), so that the mean is
// kept; in evaluation mode the identity. The mask is drawn from the layer's
// own seeded stream. Layer: nn.
#pragma once

#include <concepts>
#include <cstddef>
#include <stdexcept>
#include <string>

#include <etape/core/number_text.hpp>
#include <etape/nn/layer.hpp>
#include <etape/nn/random.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/expression.hpp>
#include <etape/tensor/fused_kernel.hpp>
#include <etape/tensor/tensor.hpp>

namespace etape::nn {

/// torch.nn.Dropout: y = x * mask, mask[i] = 0 with probability p and
/// 1 / (1 - p) otherwise, one fused elementwise node (the mask is a value
/// tensor, so its partials are the mask itself). In training mode (the
/// default, as in PyTorch) until nn::set_training(model, false).
///
/// The stream: nn::initialize gives the layer a generator split from the
/// run's one generator, so the same seed draws the same masks; before
/// that it draws from random_generator(0). The forward is const, as every
/// layer's, so that a model's forward can be: drawing a mask advances the
/// stream and refills the mask buffer, which are mutable. The buffer is
/// reused while the input's size stays the same.
template <std::floating_point T>
struct dropout : layer_name {
    static constexpr bool holds_no_tensors = true;

    /// p in [0, 1]: 0 keeps every element, 1 zeroes them all.
    explicit dropout(double p = 0.5) : layer_name("dropout"), p_(p)
    {
        if (!(p >= 0 && p <= 1))
            throw std::invalid_argument("etape::nn: dropout needs a probability in [0, 1], got " +
                                        etape::detail::number_text(p));
    }

    /// x * mask in training mode (one fused node), x itself in evaluation
    /// mode (no node for an active tensor; an expression is recorded).
    template <class X>
        requires tensor_expression<X> && std::same_as<typename X::value_type, T>
    [[nodiscard]] active_tensor<T> operator()(const X& x) const
    {
        if (!training_ || p_ == 0)
            return x;
        const shape s = x.shape();
        draw_mask(s);
        const anomaly_context<T> context(active_tape<T>(), name());
        return x * mask_;
    }

    /// Takes the layer's own stream from the run's generator.
    void initialize(random_generator& random) { random_ = random.split(); }

    void set_training(bool training) noexcept { training_ = training; }
    [[nodiscard]] bool training() const noexcept { return training_; }
    [[nodiscard]] double probability() const noexcept { return p_; }

    /// The mask of the last training-mode call: 0 or 1 / (1 - p) per element.
    [[nodiscard]] const tensor<T>& mask() const noexcept { return mask_; }

private:
    void draw_mask(const shape& s) const
    {
        if (mask_.size() != s.size())
            mask_ = tensor<T>(s);
        else if (mask_.shape() != s)
            mask_ = mask_.reshape(s);
        const T scale = p_ < 1 ? static_cast<T>(1 / (1 - p_)) : T(0);
        for (T& m : mask_.values())
            m = random_.uniform<double>() < p_ ? T(0) : scale;
    }

    double p_;
    bool training_ = true;
    mutable random_generator random_{0};
    mutable tensor<T> mask_;
};

} // namespace etape::nn
