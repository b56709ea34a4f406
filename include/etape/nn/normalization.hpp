// Layer and batch normalisation, each one dedicated tape node whose reverse
// is the analytic gradient (not a chain of generic nodes). Layer: nn.
//
// Both normalise a set of m values x_k by their mean mu and variance var
// (the biased one, divided by m), then scale and shift:
//     xhat_k = (x_k - mu) / sigma,  sigma = sqrt(var + eps),  y_k = g xhat_k + b
// With statistics of the set itself, every x_k moves mu and var, and
//     dx_k = (1 / sigma) (g dy_k - mean(g dy) - xhat_k mean(g dy xhat))
// (means over the set); with fixed statistics (batch normalisation in
// evaluation mode) dx_k = g dy_k / sigma. Either way
//     dg = sum dy xhat,  db = sum dy
// over every element g and b scale. Layer normalisation's sets are the
// rows (the last axis) and g, b are per element of a row; batch
// normalisation's sets are the channels (all of axis 0 and the image
// plane) and g, b are per channel. The forward keeps mu and 1 / sigma of
// each set; the reverse recomputes xhat from x.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>

#include <boost/hana/define_struct.hpp>

#include <etape/core/number_text.hpp>
#include <etape/nn/layer.hpp>
#include <etape/nn/random.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/fused_kernel.hpp>
#include <etape/tensor/node_input.hpp>
#include <etape/tensor/tensor.hpp>

namespace etape::nn {

namespace detail {

/// A normalised tensor viewed as [outer, channels, inner]: layer
/// normalisation is [rows, width, 1] with one set per row; batch
/// normalisation [N, C, H W] with one set per channel.
struct normalization_geometry {
    std::size_t outer, channels, inner;
    [[nodiscard]] std::size_t size() const noexcept { return outer * channels * inner; }
};

/// Reverse of layer normalisation over rows of `width`: per row, the two
/// means of the formula above, then dx; dgain and dbias summed over the
/// rows in `sums` (2 width accumulators of the arena) and added at the end.
template <class T>
struct layer_norm_reverse {
    using A = etape::detail::accumulator_t<T>;
    etape::detail::node_input<T> x, gain, bias;
    const A* mean;
    const A* inverse_sigma;
    A* sums;
    std::size_t rows, width;

    void operator()(T* adjoints, slot_index, first_writes, const T* dy) const noexcept
    {
        const bool parameters = gain.active || bias.active;
        A* dgain = sums;
        A* dbias = sums + width;
        std::fill(sums, sums + 2 * width, A(0));
        T* dx = x.active ? x.adjoints(adjoints) : nullptr;
        const T* g = gain.values;
        for (std::size_t r = 0; r < rows; ++r) {
            const T* xr = x.values + r * width;
            const T* dyr = dy + r * width;
            const A mu = mean[r], s = inverse_sigma[r];
            A mean_gdy = 0, mean_gdy_xhat = 0;
            for (std::size_t i = 0; i < width; ++i) {
                const A xhat = (xr[i] - mu) * s, d = dyr[i];
                mean_gdy += g[i] * d;
                mean_gdy_xhat += g[i] * d * xhat;
                if (parameters) {
                    dgain[i] += d * xhat;
                    dbias[i] += d;
                }
            }
            if (!dx)
                continue;
            mean_gdy /= static_cast<A>(width);
            mean_gdy_xhat /= static_cast<A>(width);
            T* dxr = dx + r * width;
            for (std::size_t i = 0; i < width; ++i) {
                const A xhat = (xr[i] - mu) * s;
                dxr[i] += static_cast<T>(s * (g[i] * A(dyr[i]) - mean_gdy - xhat * mean_gdy_xhat));
            }
        }
        add_sums(adjoints, dgain, dbias);
    }

    void add_sums(T* adjoints, const A* dgain, const A* dbias) const noexcept
    {
        if (gain.active)
            for (std::size_t i = 0; i < width; ++i)
                gain.adjoints(adjoints)[i] += static_cast<T>(dgain[i]);
        if (bias.active)
            for (std::size_t i = 0; i < width; ++i)
                bias.adjoints(adjoints)[i] += static_cast<T>(dbias[i]);
    }
};

/// Reverse of batch normalisation over the channels of [outer, channels,
/// inner]: per channel the sums of dy and dy xhat give dbias, dgain and,
/// with batch statistics, the two means of dx.
template <class T>
struct batch_norm_reverse {
    using A = etape::detail::accumulator_t<T>;
    etape::detail::node_input<T> x, gain, bias;
    const A* mean;
    const A* inverse_sigma;
    normalization_geometry geometry;
    bool batch_statistics;

    void operator()(T* adjoints, slot_index, first_writes, const T* dy) const noexcept
    {
        const auto [outer, channels, inner] = geometry;
        const A m = static_cast<A>(outer * inner);
        T* dx = x.active ? x.adjoints(adjoints) : nullptr;
        for (std::size_t c = 0; c < channels; ++c) {
            const A mu = mean[c], s = inverse_sigma[c], g = gain.values[c];
            A sum_dy = 0, sum_dy_xhat = 0;
            for (std::size_t n = 0; n < outer; ++n) {
                const std::size_t at = (n * channels + c) * inner;
                for (std::size_t k = 0; k < inner; ++k) {
                    const A d = dy[at + k];
                    sum_dy += d;
                    sum_dy_xhat += d * (x.values[at + k] - mu) * s;
                }
            }
            if (gain.active)
                gain.adjoints(adjoints)[c] += static_cast<T>(sum_dy_xhat);
            if (bias.active)
                bias.adjoints(adjoints)[c] += static_cast<T>(sum_dy);
            if (!dx)
                continue;
            // with batch statistics, mean(g dy) = g sum_dy / m and mean(g dy xhat) = g sum_dy_xhat / m
            const A mean_dy = batch_statistics ? sum_dy / m : A(0);
            const A mean_dy_xhat = batch_statistics ? sum_dy_xhat / m : A(0);
            for (std::size_t n = 0; n < outer; ++n) {
                const std::size_t at = (n * channels + c) * inner;
                for (std::size_t k = 0; k < inner; ++k) {
                    const A xhat = (x.values[at + k] - mu) * s;
                    dx[at + k] += static_cast<T>(g * s * (A(dy[at + k]) - mean_dy - xhat * mean_dy_xhat));
                }
            }
        }
    }
};

/// y = gain xhat + bias for the sets of `geometry`, whose mean and 1 / sigma
/// are given; gain and bias are indexed by channel (batch normalisation) or
/// by position in the row (layer normalisation, where channels is the width
/// and inner 1: the same loop).
template <class T>
void normalize(const normalization_geometry& geometry, const T* x, const etape::detail::accumulator_t<T>* mean,
               const etape::detail::accumulator_t<T>* inverse_sigma, bool per_row, const T* gain, const T* bias,
               T* y) noexcept
{
    using A = etape::detail::accumulator_t<T>;
    const auto [outer, channels, inner] = geometry;
    for (std::size_t n = 0; n < outer; ++n)
        for (std::size_t c = 0; c < channels; ++c) {
            const std::size_t set = per_row ? n : c, at = (n * channels + c) * inner;
            const A mu = mean[set], s = inverse_sigma[set], g = gain[c], b = bias[c];
            for (std::size_t k = 0; k < inner; ++k)
                y[at + k] = static_cast<T>(g * ((x[at + k] - mu) * s) + b);
        }
}

/// The node's three inputs as anomaly mode and the sweep's plan see them.
template <class T>
struct normalization_inputs {
    std::array<node_operand<T>, 3> operands;
    std::array<node_input_slots, 3> slots;

    normalization_inputs(const etape::detail::node_input<T>& x, const etape::detail::node_input<T>& gain,
                         const etape::detail::node_input<T>& bias)
        : operands{x.operand(), gain.operand(), bias.operand()}, slots{x.slots(), gain.slots(), bias.slots()}
    {
    }
};

/// Layer normalisation of x [..., width] over its last axis: one node.
template <class T>
[[nodiscard]] active_tensor<T> layer_norm_node(etape::detail::node_input<T> x, etape::detail::node_input<T> gain,
                                               etape::detail::node_input<T> bias, double epsilon)
{
    using A = etape::detail::accumulator_t<T>;
    const std::size_t width = x.shape.last(), rows = width == 0 ? 0 : x.shape.size() / width;
    tape<T>& t = active_tape<T>();
    T* y = t.template allocate_scratch<T>(x.shape.size());
    A* mean = t.template allocate_scratch<A>(rows);
    A* inverse_sigma = t.template allocate_scratch<A>(rows);
    A* sums = t.template allocate_scratch<A>(2 * width);
    for (std::size_t r = 0; r < rows; ++r) {
        const T* xr = x.values + r * width;
        A total = 0;
        for (std::size_t i = 0; i < width; ++i)
            total += xr[i];
        const A mu = total / static_cast<A>(width);
        A squares = 0; // about the mean: no cancellation
        for (std::size_t i = 0; i < width; ++i)
            squares += (xr[i] - mu) * (xr[i] - mu);
        mean[r] = mu;
        inverse_sigma[r] = A(1) / std::sqrt(squares / static_cast<A>(width) + static_cast<A>(epsilon));
    }
    normalize({rows, width, 1}, x.values, mean, inverse_sigma, true, gain.values, bias.values, y);
    const normalization_inputs<T> inputs(x, gain, bias);
    const shape s = x.shape;
    const slot_index first = t.record_node(
        s.size(),
        layer_norm_reverse<T>{std::move(x), std::move(gain), std::move(bias), mean, inverse_sigma, sums, rows, width},
        {"layer_norm", inputs.operands}, std::span<const node_input_slots>(inputs.slots));
    return active_tensor<T>(y, s, first, t);
}

/// Batch normalisation of x [N, C] or [N, C, H, W] per channel: with the
/// batch's statistics (training), which then move the running ones by
/// `momentum`, or with the running ones (evaluation). One node.
template <class T>
[[nodiscard]] active_tensor<T> batch_norm_node(etape::detail::node_input<T> x, etape::detail::node_input<T> gain,
                                               etape::detail::node_input<T> bias, std::span<T> running_mean,
                                               std::span<T> running_var, bool training, double momentum, double epsilon)
{
    using A = etape::detail::accumulator_t<T>;
    const normalization_geometry geometry{x.shape[0], x.shape[1], x.shape.rank() == 4 ? x.shape[2] * x.shape[3] : 1};
    const auto [outer, channels, inner] = geometry;
    const std::size_t m = outer * inner;
    tape<T>& t = active_tape<T>();
    T* y = t.template allocate_scratch<T>(geometry.size());
    A* mean = t.template allocate_scratch<A>(channels);
    A* inverse_sigma = t.template allocate_scratch<A>(channels);
    for (std::size_t c = 0; c < channels; ++c) {
        A mu = running_mean[c], var = running_var[c];
        if (training) {
            A total = 0;
            for (std::size_t n = 0; n < outer; ++n)
                for (std::size_t k = 0; k < inner; ++k)
                    total += x.values[(n * channels + c) * inner + k];
            mu = total / static_cast<A>(m);
            A squares = 0;
            for (std::size_t n = 0; n < outer; ++n)
                for (std::size_t k = 0; k < inner; ++k) {
                    const A d = x.values[(n * channels + c) * inner + k] - mu;
                    squares += d * d;
                }
            var = squares / static_cast<A>(m);
            // the running variance is the unbiased one, as PyTorch keeps it
            const A unbiased = squares / static_cast<A>(m - 1), rate = static_cast<A>(momentum);
            running_mean[c] = static_cast<T>((1 - rate) * running_mean[c] + rate * mu);
            running_var[c] = static_cast<T>((1 - rate) * running_var[c] + rate * unbiased);
        }
        mean[c] = mu;
        inverse_sigma[c] = A(1) / std::sqrt(var + static_cast<A>(epsilon));
    }
    normalize(geometry, x.values, mean, inverse_sigma, false, gain.values, bias.values, y);
    const normalization_inputs<T> inputs(x, gain, bias);
    const shape s = x.shape;
    const slot_index first = t.record_node(
        s.size(),
        batch_norm_reverse<T>{std::move(x), std::move(gain), std::move(bias), mean, inverse_sigma, geometry, training},
        {"batch_norm", inputs.operands}, std::span<const node_input_slots>(inputs.slots));
    return active_tensor<T>(y, s, first, t);
}

/// Throws std::invalid_argument unless `value` lies in [low, high]
/// ("etape::nn: batch_norm needs a momentum in [0, 1], got 1.5").
inline void require_in(const char* layer, const char* what, double value, double low, double high)
{
    using etape::detail::number_text;
    if (!(value >= low && value <= high))
        throw std::invalid_argument(std::string("etape::nn: ") + layer + " needs " + what + " in [" + number_text(low) +
                                    ", " + number_text(high) + "], got " + number_text(value));
}

} // namespace detail

/// torch.nn.LayerNorm over the last axis: each row of x [..., width]
/// normalised by its own mean and (biased) variance, then scaled by `gain`
/// and shifted by `bias` [width], element by element. The same in training
/// and evaluation mode.
template <std::floating_point T>
struct layer_norm : layer_name {
    BOOST_HANA_DEFINE_STRUCT(layer_norm, (active_tensor<T>, gain), (active_tensor<T>, bias));

    /// gain 1 and bias 0, on the active tape.
    explicit layer_norm(std::size_t width, double epsilon = 1e-5)
        : layer_name("layer_norm"), gain(tensor<T>({width}, T(1))), bias(tensor<T>({width})), epsilon_(epsilon)
    {
        detail::require_in("layer_norm", "an epsilon", epsilon, 0, std::numeric_limits<double>::infinity());
    }

    /// The normalised x [..., width] (a value tensor, an active tensor or a
    /// tensor expression), of x's shape: one tape node. Another last extent
    /// throws shape_error naming the layer. Anomaly mode names the layer as
    /// for dense (layer_name::check_forward): with epsilon 0, a constant
    /// row gives NaN.
    template <class X>
        requires tensor_argument<X, T>
    [[nodiscard]] active_tensor<T> operator()(const X& x) const
    {
        const shape& s = x.shape();
        if (s.rank() == 0 || s.last() != width())
            throw_bad_input("an input [..., " + std::to_string(width()) + "]", s);
        const anomaly_context<T> context(active_tape<T>(), name());
        auto ix = etape::detail::as_node_input<T>(x);
        auto ig = etape::detail::as_node_input<T>(gain);
        auto ib = etape::detail::as_node_input<T>(bias);
        active_tensor<T> y = detail::layer_norm_node<T>(std::move(ix), std::move(ig), std::move(ib), epsilon_);
        check_forward(x, y);
        return y;
    }

    /// gain 1, bias 0 (nothing is drawn).
    void initialize(random_generator&)
    {
        std::fill(gain.values().begin(), gain.values().end(), T(1));
        std::fill(bias.values().begin(), bias.values().end(), T(0));
    }

    [[nodiscard]] std::size_t width() const noexcept { return gain.size(); }
    [[nodiscard]] double epsilon() const noexcept { return epsilon_; }

private:
    double epsilon_;
};

/// PyTorch's defaults.
struct batch_norm_options {
    double momentum = 0.1; ///< running = (1 - momentum) running + momentum batch, in [0, 1]
    double epsilon = 1e-5;
};

/// torch.nn.BatchNorm1d (x [N, C]) and BatchNorm2d (x [N, C, H, W]) in one:
/// each channel normalised by its mean and (biased) variance over the
/// batch and the image plane, then scaled by `gain` and shifted by `bias`
/// [C]. In training mode (the default, as in PyTorch) the batch's own
/// statistics are used and move the running ones, `running_mean` and
/// `running_var` (the unbiased variance); in evaluation mode
/// (nn::set_training(model, false)) the running statistics are used.
///
/// The running statistics are buffers: saved with the model, not trained.
/// The forward is const, as every layer's, so that a model's forward can
/// be; in training mode it moves the running statistics, which are
/// mutable, as PyTorch's forward does.
template <std::floating_point T>
struct batch_norm : layer_name {
    BOOST_HANA_DEFINE_STRUCT(batch_norm, (active_tensor<T>, gain), (active_tensor<T>, bias),
                             (mutable tensor<T>, running_mean), (mutable tensor<T>, running_var));

    /// gain 1 and bias 0 on the active tape; running mean 0 and variance 1.
    explicit batch_norm(std::size_t channels, batch_norm_options options = {})
        : layer_name("batch_norm"), gain(tensor<T>({channels}, T(1))), bias(tensor<T>({channels})),
          running_mean(tensor<T>({channels})), running_var(tensor<T>({channels}, T(1))), options_(options)
    {
        detail::require_in("batch_norm", "a momentum", options.momentum, 0, 1);
        detail::require_in("batch_norm", "an epsilon", options.epsilon, 0, std::numeric_limits<double>::infinity());
    }

    /// The normalised x [N, C] or [N, C, H, W] (a value tensor, an active
    /// tensor or a tensor expression), of x's shape: one tape node. Another
    /// shape, or one value per channel in training mode (no variance),
    /// throws shape_error naming the layer. Anomaly mode names the layer as
    /// for dense (layer_name::check_forward).
    template <class X>
        requires tensor_argument<X, T>
    [[nodiscard]] active_tensor<T> operator()(const X& x) const
    {
        const shape& s = x.shape();
        const std::size_t c = channels();
        if ((s.rank() != 2 && s.rank() != 4) || s[1] != c)
            throw_bad_input("an input [N, " + std::to_string(c) + "] or [N, " + std::to_string(c) + ", H, W]", s);
        if (training_ && c > 0 && s.size() / c < 2)
            throw_bad_input("more than one value per channel in training mode", s);
        const anomaly_context<T> context(active_tape<T>(), name());
        auto ix = etape::detail::as_node_input<T>(x);
        auto ig = etape::detail::as_node_input<T>(gain);
        auto ib = etape::detail::as_node_input<T>(bias);
        active_tensor<T> y =
            detail::batch_norm_node<T>(std::move(ix), std::move(ig), std::move(ib), running_mean.values(),
                                       running_var.values(), training_, options_.momentum, options_.epsilon);
        check_forward(x, y);
        return y;
    }

    /// gain 1, bias 0, running mean 0 and variance 1 (nothing is drawn).
    void initialize(random_generator&)
    {
        std::fill(gain.values().begin(), gain.values().end(), T(1));
        std::fill(bias.values().begin(), bias.values().end(), T(0));
        std::fill(running_mean.values().begin(), running_mean.values().end(), T(0));
        std::fill(running_var.values().begin(), running_var.values().end(), T(1));
    }

    void set_training(bool training) noexcept { training_ = training; }
    [[nodiscard]] bool training() const noexcept { return training_; }
    [[nodiscard]] std::size_t channels() const noexcept { return gain.size(); }
    [[nodiscard]] const batch_norm_options& options() const noexcept { return options_; }

private:
    batch_norm_options options_;
    bool training_ = true;
};

} // namespace etape::nn
