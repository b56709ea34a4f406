// Optimizers: SGD (momentum, Nesterov), Adam, AdamW, RMSprop, with
// clipping by global norm. A step sweeps the tape once from the loss and
// updates every parameter in place, keeping its slots: each parameter's
// gradient is read where the sweep left it (the tape's adjoints), and the
// update is one loop per parameter tensor over plain arrays, on SIMD
// batches (the compiler vectorises SGD's loop itself; Adam's and RMSprop's
// take a square root, which it leaves scalar while sqrt may set errno, so
// they run on etape's batches when it has them). The state (momentum, moments) is allocated when the
// optimizer is made: a step allocates nothing. Formulas are PyTorch's
// (torch.optim), so a model trains the same with either. Layer: nn.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <etape/core/active_tape.hpp>
#include <etape/core/gradient.hpp>
#include <etape/core/simd.hpp>
#include <etape/core/var.hpp>
#include <etape/nn/parameters.hpp>
#include <etape/tensor/active_tensor.hpp>

namespace etape::nn {

namespace detail {

/// Lanes of an update loop: V is T (one element) or a SIMD batch of T.
template <class T, class V>
struct lanes {
    static V load(const T* p)
    {
        if constexpr (std::is_same_v<V, T>)
            return *p;
        else
            return simd::load<V>(p);
    }
    static void store(T* p, const V& v)
    {
        if constexpr (std::is_same_v<V, T>)
            *p = v;
        else
            simd::store(p, v);
    }
};

/// Calls body(k, lanes<T, V>{}) for k = 0, V::size, 2 V::size, ... with V
/// etape's SIMD batch of T where it has one, then with V = T for each
/// element left: the body reads and writes elements k .. k + lanes - 1.
template <class T, class Body>
void for_each_lane(std::size_t n, Body&& body)
{
    std::size_t k = 0;
    if constexpr (simd::enabled_for<T>) {
        using V = simd::batch<T>;
        for (; k + V::size <= n; k += V::size)
            body(k, lanes<T, V>{});
    }
    for (; k < n; ++k)
        body(k, lanes<T, T>{});
}

/// visit(name, i, arrays[i]) for each parameter i's array of one kind of
/// state (none when the optimizer keeps no such state); the arrays are
/// spans of const T when `Arrays` is const.
template <class Visit, class Arrays>
void visit_state(Visit& visit, std::string_view name, Arrays& arrays)
{
    for (std::size_t i = 0; i < arrays.size(); ++i)
        visit(name, i, std::span(arrays[i]));
}

} // namespace detail

/// What an optimizer's step calls instead of its own sweep once one is
/// attached with set_gradient_exchange: a sweep from `loss` (down to
/// `bottom`) after which each parameter's gradient in the tape's adjoints
/// is the one to apply. etape::mpi::data_parallel is one: it sums every
/// rank's gradients during the sweep and averages them.
template <std::floating_point T>
class gradient_exchange {
public:
    virtual ~gradient_exchange() = default;
    virtual void sweep(tape<T>& t, const var<T>& loss, slot_index bottom) = 0;

protected:
    gradient_exchange() = default;
    gradient_exchange(const gradient_exchange&) = default;
    gradient_exchange& operator=(const gradient_exchange&) = default;
};

namespace detail {

/// What every optimizer shares: its parameters, the sweep that leaves
/// their gradients in the tape's adjoints, clipping, the learning rate and
/// the step count.
template <std::floating_point T>
class optimizer_base {
public:
    /// The learning rate of the next steps (a schedule sets it each step).
    void set_learning_rate(T rate) { learning_rate_ = checked_rate(rate); }
    [[nodiscard]] T learning_rate() const noexcept { return learning_rate_; }

    /// Steps taken so far.
    [[nodiscard]] std::size_t steps() const noexcept { return steps_; }

    /// Sets the step count, as nn::load_state does when it resumes a run
    /// (Adam's bias correction depends on it).
    void set_steps(std::size_t steps) noexcept { steps_ = steps; }

    /// The parameters, in the model's declaration order.
    [[nodiscard]] const std::vector<named_parameter<T>>& parameters() const noexcept { return parameters_; }

    /// Lets `exchange` sweep in place of the optimizer (null: its own sweep
    /// again); clipping and the update then see the exchanged gradients.
    /// The exchange must outlive every step.
    void set_gradient_exchange(gradient_exchange<T>* exchange) noexcept { exchange_ = exchange; }

    /// The global norm of the last step's gradients, before clipping; 0
    /// when clipping is off (the norm is a pass over every gradient, which
    /// a step without clipping does not make).
    [[nodiscard]] T last_gradient_norm() const noexcept { return last_norm_; }

protected:
    optimizer_base(std::vector<named_parameter<T>> parameters, T learning_rate, T clip_norm)
        : parameters_(std::move(parameters)), tape_(&active_tape<T>()), learning_rate_(checked_rate(learning_rate)),
          clip_norm_(clip_norm)
    {
        if (!(clip_norm >= T(0)))
            throw std::invalid_argument("etape::nn: an optimizer's clip_norm must be 0 (off) or positive, got " +
                                        std::to_string(clip_norm));
        bottom_ = ~slot_index{0};
        for (const named_parameter<T>& p : parameters_) {
            p.tensor->check_on(*tape_);
            if (p.tensor->size() > 0)
                bottom_ = std::min(bottom_, p.tensor->first_slot());
        }
    }

    /// Sweeps from `loss` and clips: afterwards gradient(i) is parameter
    /// i's gradient. Counts the step.
    void backward(const var<T>& loss)
    {
        etape::detail::require_recorded(*tape_, loss);
        const slot_index bottom = bottom_ == ~slot_index{0} ? slot_index{1} : bottom_;
        if (exchange_ != nullptr)
            exchange_->sweep(*tape_, loss, bottom);
        else
            etape::detail::sweep_from(*tape_, loss, bottom);
        ++steps_;
        if (clip_norm_ == T(0))
            return;
        double squares = 0;
        for (std::size_t i = 0; i < parameters_.size(); ++i)
            for (const T g : gradient(i))
                squares += static_cast<double>(g) * static_cast<double>(g);
        last_norm_ = static_cast<T>(std::sqrt(squares));
        if (last_norm_ > clip_norm_) {
            const T scale = clip_norm_ / last_norm_;
            for (std::size_t i = 0; i < parameters_.size(); ++i)
                for (T& g : gradient(i))
                    g *= scale;
        }
    }

    [[nodiscard]] std::size_t count() const noexcept { return parameters_.size(); }
    [[nodiscard]] std::span<T> values(std::size_t i) noexcept { return parameters_[i].tensor->values(); }
    [[nodiscard]] std::span<T> gradient(std::size_t i) noexcept
    {
        const active_tensor<T>& p = *parameters_[i].tensor;
        if (p.size() == 0)
            return {};
        return {tape_->adjoints() + p.first_slot(), p.size()};
    }

    /// One zeroed state array per parameter (momentum, moments).
    [[nodiscard]] std::vector<std::vector<T>> zero_state() const
    {
        std::vector<std::vector<T>> state;
        state.reserve(parameters_.size());
        for (const named_parameter<T>& p : parameters_)
            state.emplace_back(p.tensor->size(), T(0));
        return state;
    }

private:
    static T checked_rate(T rate)
    {
        if (!(rate >= T(0)) || !std::isfinite(rate))
            throw std::invalid_argument("etape::nn: a learning rate must be finite and not negative, got " +
                                        std::to_string(rate));
        return rate;
    }

    std::vector<named_parameter<T>> parameters_;
    tape<T>* tape_;
    gradient_exchange<T>* exchange_ = nullptr;
    slot_index bottom_;
    T learning_rate_;
    T clip_norm_;
    T last_norm_ = 0;
    std::size_t steps_ = 0;
};

} // namespace detail

/// Stochastic gradient descent, torch.optim.SGD's update (dampening 0):
///     g = grad + weight_decay w;  b = momentum b + g;
///     w -= learning_rate (nesterov ? g + momentum b : b)   (b = g without momentum)
template <std::floating_point T>
class sgd : public detail::optimizer_base<T> {
public:
    struct options {
        T learning_rate = T(0.01);
        T momentum = T(0);
        bool nesterov = false;
        T weight_decay = T(0);
        T clip_norm = T(0); ///< clip the gradients' global norm to this (0: off)
    };

    sgd(std::vector<named_parameter<T>> parameters, options o)
        : detail::optimizer_base<T>(std::move(parameters), o.learning_rate, o.clip_norm), options_(o)
    {
        if (o.nesterov && !(o.momentum > T(0)))
            throw std::invalid_argument("etape::nn::sgd: Nesterov momentum needs a momentum above 0");
        if (o.momentum != T(0))
            momentum_ = this->zero_state();
    }
    /// Every parameter of `model`.
    template <class Model>
        requires(!std::same_as<std::remove_cvref_t<Model>, std::vector<named_parameter<T>>>)
    sgd(Model& model, options o) : sgd(nn::parameters(model), o)
    {
    }

    /// Sweeps from `loss` and updates every parameter in place.
    void step(const var<T>& loss)
    {
        this->backward(loss);
        const T rate = this->learning_rate(), mu = options_.momentum, decay = options_.weight_decay;
        for (std::size_t i = 0; i < this->count(); ++i) {
            T* __restrict w = this->values(i).data();
            const T* __restrict g = this->gradient(i).data();
            const std::size_t n = this->values(i).size();
            if (momentum_.empty()) {
                for (std::size_t k = 0; k < n; ++k)
                    w[k] -= rate * (g[k] + decay * w[k]);
                continue;
            }
            T* __restrict b = momentum_[i].data();
            if (options_.nesterov)
                for (std::size_t k = 0; k < n; ++k) {
                    const T d = g[k] + decay * w[k];
                    b[k] = mu * b[k] + d;
                    w[k] -= rate * (d + mu * b[k]);
                }
            else
                for (std::size_t k = 0; k < n; ++k) {
                    b[k] = mu * b[k] + g[k] + decay * w[k];
                    w[k] -= rate * b[k];
                }
        }
    }

    /// Calls visit(state_name, parameter_index, values) for each array
    /// of state: "momentum" (none without momentum). nn::save_state and
    /// nn::load_state use it.
    template <class Visit>
    void for_each_state(Visit&& visit)
    {
        visit_each_state(*this, visit);
    }
    template <class Visit>
    void for_each_state(Visit&& visit) const
    {
        visit_each_state(*this, visit);
    }

private:
    template <class Self, class Visit>
    static void visit_each_state(Self& self, Visit& visit)
    {
        detail::visit_state(visit, "momentum", self.momentum_);
    }

    options options_;
    std::vector<std::vector<T>> momentum_;
};

/// Adam (torch.optim.Adam) and, with decoupled weight decay, AdamW
/// (torch.optim.AdamW): with t the step count,
///     g = grad (+ weight_decay w for Adam);  w *= 1 - learning_rate weight_decay (AdamW)
///     m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
///     w -= learning_rate / (1 - beta1^t) m / (sqrt(v / (1 - beta2^t)) + epsilon)
template <std::floating_point T>
class adam : public detail::optimizer_base<T> {
public:
    struct options {
        T learning_rate = T(0.001);
        T beta1 = T(0.9);
        T beta2 = T(0.999);
        T epsilon = T(1e-8);
        T weight_decay = T(0); ///< added to the gradient as an L2 term
        T clip_norm = T(0);
    };

    adam(std::vector<named_parameter<T>> parameters, options o) : adam(std::move(parameters), o, false) {}
    template <class Model>
        requires(!std::same_as<std::remove_cvref_t<Model>, std::vector<named_parameter<T>>>)
    adam(Model& model, options o) : adam(nn::parameters(model), o, false)
    {
    }

    void step(const var<T>& loss)
    {
        this->backward(loss);
        const auto t = static_cast<double>(this->steps());
        const T rate = this->learning_rate(), b1 = options_.beta1, b2 = options_.beta2, eps = options_.epsilon;
        const T step_size = rate / static_cast<T>(1 - std::pow(static_cast<double>(b1), t));
        const T root_correction = static_cast<T>(std::sqrt(1 - std::pow(static_cast<double>(b2), t)));
        const T l2 = decoupled_ ? T(0) : options_.weight_decay;
        const T shrink = decoupled_ ? T(1) - rate * options_.weight_decay : T(1);
        for (std::size_t i = 0; i < this->count(); ++i) {
            T* __restrict w = this->values(i).data();
            const T* __restrict g = this->gradient(i).data();
            T* __restrict m = first_[i].data();
            T* __restrict v = second_[i].data();
            const std::size_t n = this->values(i).size();
            detail::for_each_lane<T>(n, [&]<class V>(std::size_t k, detail::lanes<T, V> lane) {
                using std::sqrt;
                const V wk = lane.load(w + k), d = lane.load(g + k) + l2 * wk;
                const V mk = b1 * lane.load(m + k) + (T(1) - b1) * d;
                const V vk = b2 * lane.load(v + k) + (T(1) - b2) * d * d;
                lane.store(m + k, mk);
                lane.store(v + k, vk);
                lane.store(w + k, wk * shrink - step_size * mk / (sqrt(vk) / root_correction + eps));
            });
        }
    }

    /// Calls visit(state_name, parameter_index, values) for each array of
    /// state: "first_moment" and "second_moment".
    template <class Visit>
    void for_each_state(Visit&& visit)
    {
        visit_each_state(*this, visit);
    }
    template <class Visit>
    void for_each_state(Visit&& visit) const
    {
        visit_each_state(*this, visit);
    }

protected:
    /// decoupled: AdamW's weight decay, applied to the weights, not the gradient.
    adam(std::vector<named_parameter<T>> parameters, options o, bool decoupled)
        : detail::optimizer_base<T>(std::move(parameters), o.learning_rate, o.clip_norm), options_(o),
          decoupled_(decoupled), first_(this->zero_state()), second_(this->zero_state())
    {
        if (!(o.beta1 >= T(0) && o.beta1 < T(1) && o.beta2 >= T(0) && o.beta2 < T(1)))
            throw std::invalid_argument("etape::nn::adam: beta1 and beta2 must lie in [0, 1)");
    }

private:
    template <class Self, class Visit>
    static void visit_each_state(Self& self, Visit& visit)
    {
        detail::visit_state(visit, "first_moment", self.first_);
        detail::visit_state(visit, "second_moment", self.second_);
    }

    options options_;
    bool decoupled_;
    std::vector<std::vector<T>> first_, second_;
};

/// AdamW (torch.optim.AdamW): Adam whose weight decay shrinks the weights
/// (w *= 1 - learning_rate weight_decay) instead of adding to the gradient;
/// PyTorch's default decay 0.01.
template <std::floating_point T>
class adamw : public adam<T> {
public:
    struct options {
        T learning_rate = T(0.001);
        T beta1 = T(0.9);
        T beta2 = T(0.999);
        T epsilon = T(1e-8);
        T weight_decay = T(0.01);
        T clip_norm = T(0);
    };

    adamw(std::vector<named_parameter<T>> parameters, options o)
        : adam<T>(std::move(parameters), {o.learning_rate, o.beta1, o.beta2, o.epsilon, o.weight_decay, o.clip_norm},
                  true)
    {
    }
    template <class Model>
        requires(!std::same_as<std::remove_cvref_t<Model>, std::vector<named_parameter<T>>>)
    adamw(Model& model, options o) : adamw(nn::parameters(model), o)
    {
    }
};

/// RMSprop (torch.optim.RMSprop, not centered):
///     g = grad + weight_decay w;  v = alpha v + (1 - alpha) g^2
///     b = momentum b + g / (sqrt(v) + epsilon);  w -= learning_rate b
///     (without momentum, w -= learning_rate g / (sqrt(v) + epsilon))
template <std::floating_point T>
class rmsprop : public detail::optimizer_base<T> {
public:
    struct options {
        T learning_rate = T(0.01);
        T alpha = T(0.99);
        T epsilon = T(1e-8);
        T momentum = T(0);
        T weight_decay = T(0);
        T clip_norm = T(0);
    };

    rmsprop(std::vector<named_parameter<T>> parameters, options o)
        : detail::optimizer_base<T>(std::move(parameters), o.learning_rate, o.clip_norm), options_(o),
          square_(this->zero_state())
    {
        if (!(o.alpha >= T(0) && o.alpha < T(1)))
            throw std::invalid_argument("etape::nn::rmsprop: alpha must lie in [0, 1)");
        if (o.momentum != T(0))
            momentum_ = this->zero_state();
    }
    template <class Model>
        requires(!std::same_as<std::remove_cvref_t<Model>, std::vector<named_parameter<T>>>)
    rmsprop(Model& model, options o) : rmsprop(nn::parameters(model), o)
    {
    }

    void step(const var<T>& loss)
    {
        this->backward(loss);
        const T rate = this->learning_rate(), a = options_.alpha, eps = options_.epsilon, mu = options_.momentum,
                decay = options_.weight_decay;
        for (std::size_t i = 0; i < this->count(); ++i) {
            T* __restrict w = this->values(i).data();
            const T* __restrict g = this->gradient(i).data();
            T* __restrict v = square_[i].data();
            const std::size_t n = this->values(i).size();
            if (momentum_.empty()) {
                detail::for_each_lane<T>(n, [&]<class V>(std::size_t k, detail::lanes<T, V> lane) {
                    using std::sqrt;
                    const V wk = lane.load(w + k), d = lane.load(g + k) + decay * wk;
                    const V vk = a * lane.load(v + k) + (T(1) - a) * d * d;
                    lane.store(v + k, vk);
                    lane.store(w + k, wk - rate * d / (sqrt(vk) + eps));
                });
                continue;
            }
            T* __restrict b = momentum_[i].data();
            detail::for_each_lane<T>(n, [&]<class V>(std::size_t k, detail::lanes<T, V> lane) {
                using std::sqrt;
                const V wk = lane.load(w + k), d = lane.load(g + k) + decay * wk;
                const V vk = a * lane.load(v + k) + (T(1) - a) * d * d;
                const V bk = mu * lane.load(b + k) + d / (sqrt(vk) + eps);
                lane.store(v + k, vk);
                lane.store(b + k, bk);
                lane.store(w + k, wk - rate * bk);
            });
        }
    }

    /// Calls visit(state_name, parameter_index, values) for each array of
    /// state: "square_average", then "momentum" (none without momentum).
    template <class Visit>
    void for_each_state(Visit&& visit)
    {
        visit_each_state(*this, visit);
    }
    template <class Visit>
    void for_each_state(Visit&& visit) const
    {
        visit_each_state(*this, visit);
    }

private:
    template <class Self, class Visit>
    static void visit_each_state(Self& self, Visit& visit)
    {
        detail::visit_state(visit, "square_average", self.square_);
        detail::visit_state(visit, "momentum", self.momentum_);
    }

    options options_;
    std::vector<std::vector<T>> square_, momentum_;
};

} // namespace etape::nn
