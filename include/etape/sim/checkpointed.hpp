// The gradient of a time loop over an active tensor by binomial
// checkpointing: the tape holds one step at a time, and a few states stand in
// for the rest. Layer: sim (runs revolve.hpp's schedule on the active tape).
//
// checkpointed_gradient(x0, N, step, loss, snapshot_count{s}) differentiates
//     x_{k+1} = step(x_k, k) for k < N,   L = loss(x_N)
// and returns L, dL/dx0 and statistics. Each step is taped once, from a
// state made new inputs at a saved position: the step is recorded, its
// outputs' adjoints are seeded with dL/dx_{k+1}, a sweep runs down to the
// position, dL/dx_k is read from the inputs' adjoints, and the tape is
// rewound. Steps run untaped (revolve's advances) are recorded and rewound
// too, keeping only the values. The last step is taped with the loss.
//
// Parameters: the step and the loss may use vars and active tensors
// recorded before the call. Their adjoints end as a single sweep of the
// whole loop would leave them: the call first clears every adjoint of the
// tape (as etape::gradient does), and each sweep adds into them. To carry
// them further, through what was recorded before the call from other
// inputs, sweep the tape afterwards. If the step or the loss throws, the
// tape is rewound to where it was and the adjoints are unspecified.
//
// Memory: the snapshots (stats.snapshot_bytes), the recording of one step
// (stats.tape_bytes; the tape's stats().peak_bytes sees no more), and two
// more states, the current one and its adjoint. Time: N taped steps and
// forward_steps(N, s) untaped ones (revolve.hpp).
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <etape/core/active_tape.hpp>
#include <etape/core/gradient.hpp>
#include <etape/core/var.hpp>
#include <etape/sim/revolve.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/shape.hpp>
#include <etape/tensor/tensor.hpp>

namespace etape::sim {

/// How many states the checkpointing may hold, the initial state's copy included (at least 1).
struct snapshot_count {
    std::size_t count;
};

/// The bytes the snapshots may take: as many states as fit (at least one must).
struct snapshot_memory {
    std::size_t bytes;
};

struct checkpoint_stats {
    std::size_t snapshots = 0;      ///< the most states stored at once (none for N <= 1: x_0 is in hand)
    std::size_t forward_steps = 0;  ///< steps run untaped, the first pass included: forward_steps(N, s)
    std::size_t reverse_steps = 0;  ///< steps taped and swept: N
    std::size_t snapshot_bytes = 0; ///< snapshots times the bytes of one state
    std::size_t tape_bytes = 0;     ///< the largest recording at once above the caller's (tape_stats::bytes)
};

template <std::floating_point T>
struct checkpointed_result {
    T loss;
    tensor<T> gradient; ///< dL/dx0, of x0's shape
    checkpoint_stats stats;
};

/// `active_tensor<T> step(const active_tensor<T>& x, std::size_t k)`; a
/// tensor expression may stand for the result.
template <class F, class T>
concept step_function = std::invocable<F&, const active_tensor<T>&, std::size_t> &&
                        std::convertible_to<std::invoke_result_t<F&, const active_tensor<T>&, std::size_t>,
                                            active_tensor<T>>;

/// `var<T> loss(const active_tensor<T>& x)`; a scalar expression may stand for the result.
template <class F, class T>
concept loss_function = std::invocable<F&, const active_tensor<T>&> &&
                        std::convertible_to<std::invoke_result_t<F&, const active_tensor<T>&>, var<T>>;

namespace detail {

/// One call of checkpointed_gradient: the state in hand, its adjoint, and the taped and untaped steps.
template <class T, class Step, class Loss>
class checkpointed_run {
public:
    checkpointed_run(const tensor<T>& initial, Step& step, Loss& loss)
        : tape_(active_tape<T>()), step_(step), loss_(loss), state_(initial), adjoint_(initial.size())
    {
    }

    [[nodiscard]] checkpointed_result<T> operator()(std::size_t steps, std::size_t snapshots)
    {
        revolve schedule(steps, snapshots);
        const etape::detail::rewind_guard<T> restore_tape(tape_);
        start_bytes_ = tape_.stats().bytes;
        tape_.clear_adjoints();
        if (steps == 0)
            reverse_loss_only();
        std::vector<std::vector<T>> held;
        while (const auto a = schedule.next()) {
            switch (a->kind) {
            case action_kind::store:
                if (a->snapshot == held.size())
                    held.emplace_back(state_.values().begin(), state_.values().end());
                else
                    std::copy(state_.values().begin(), state_.values().end(), held[a->snapshot].begin());
                break;
            case action_kind::restore:
                std::copy(held[a->snapshot].begin(), held[a->snapshot].end(), state_.values().begin());
                break;
            case action_kind::advance:
                for (std::size_t k = a->step; k < a->target; ++k)
                    advance(k);
                break;
            case action_kind::reverse:
                reverse(a->step, a->step + 1 == steps);
                break;
            case action_kind::free: // its memory waits for the next store into it
                break;
            }
        }
        stats_.snapshots = held.size();
        stats_.snapshot_bytes = held.size() * state_.size() * sizeof(T);
        return {loss_value_, tensor<T>(state_.shape(), std::span<const T>(adjoint_)), stats_};
    }

private:
    /// x_{k+1}, recorded from x_k = `x`.
    [[nodiscard]] active_tensor<T> record_step(const active_tensor<T>& x, std::size_t k)
    {
        active_tensor<T> next = std::invoke(step_, x, k);
        if (next.shape() != state_.shape())
            throw shape_error("etape::sim::checkpointed_gradient: step " + std::to_string(k) +
                              " returned a tensor of shape " + next.shape().to_string() + " for a state of shape " +
                              state_.shape().to_string() + "; a step keeps the state's shape");
        next.check_on(tape_);
        return next;
    }

    /// The current state goes from x_k to x_{k+1}; nothing stays on the tape.
    void advance(std::size_t k)
    {
        const tape_position here = tape_.position();
        const active_tensor<T> next = record_step(active_tensor<T>(state_), k);
        std::copy(next.values().begin(), next.values().end(), state_.values().begin());
        rewind(here);
        ++stats_.forward_steps;
    }

    /// The adjoint goes from dL/dx_{k+1} to dL/dx_k; the last step's
    /// comes from the loss, taped with it.
    void reverse(std::size_t k, bool last)
    {
        const tape_position here = tape_.position();
        const active_tensor<T> x(state_);
        const active_tensor<T> next = record_step(x, k);
        if (last) {
            seed_loss(next);
        } else {
            T* adjoints = sized_adjoints();
            for (std::size_t i = 0; i < adjoint_.size(); ++i) // added: the step may return x or a parameter
                adjoints[next.first_slot() + i] += adjoint_[i];
        }
        sweep_into_adjoint(here, x);
        ++stats_.reverse_steps;
    }

    /// N = 0: dL/dx0 directly.
    void reverse_loss_only()
    {
        const tape_position here = tape_.position();
        const active_tensor<T> x(state_);
        seed_loss(x);
        sweep_into_adjoint(here, x);
    }

    void seed_loss(const active_tensor<T>& x)
    {
        const var<T> loss = std::invoke(loss_, x);
        loss.check_on(tape_);
        loss_value_ = loss.value();
        if (loss.is_active())
            tape_.adjoint(loss.slot()) += T(1);
    }

    /// Sweeps what was recorded since `here` into the adjoints below it,
    /// reads x's adjoints into adjoint_, and rewinds.
    void sweep_into_adjoint(const tape_position& here, const active_tensor<T>& x)
    {
        tape_.sweep(tape_.size(), here.slots);
        const T* adjoints = sized_adjoints();
        std::copy_n(adjoints + x.first_slot(), x.size(), adjoint_.begin());
        rewind(here);
    }

    void rewind(const tape_position& here)
    {
        stats_.tape_bytes = std::max(stats_.tape_bytes, tape_.stats().bytes - start_bytes_);
        tape_.rewind(here);
    }

    /// The adjoints, one per slot of the recording.
    [[nodiscard]] T* sized_adjoints()
    {
        (void)tape_.adjoint(tape_.size() - 1);
        return tape_.adjoints();
    }

    tape<T>& tape_;
    Step& step_;
    Loss& loss_;
    tensor<T> state_;        // the state in hand
    std::vector<T> adjoint_; // dL/d(the state the sweeps have reached)
    T loss_value_ = T(0);
    std::size_t start_bytes_ = 0;
    checkpoint_stats stats_;
};

} // namespace detail

/// dL/dx0 of L = loss(x_N), x_{k+1} = step(x_k, k), x_0 = `initial`, holding at
/// most `snapshots.count` states; see the top of this header. 0 snapshots:
/// std::invalid_argument. A step result of another shape than the state:
/// shape_error, naming both.
template <std::floating_point T, class Step, class Loss>
[[nodiscard]] checkpointed_result<T> checkpointed_gradient(const tensor<T>& initial, std::size_t steps, Step&& step,
                                                           Loss&& loss, snapshot_count snapshots)
{
    static_assert(step_function<Step, T>, "etape::sim::checkpointed_gradient: the step must be callable as "
                                          "step(const active_tensor<T>& x, std::size_t k) and return an active "
                                          "tensor or a tensor expression");
    static_assert(loss_function<Loss, T>, "etape::sim::checkpointed_gradient: the loss must be callable as "
                                          "loss(const active_tensor<T>& x) and return a var<T>");
    if (snapshots.count == 0)
        detail::throw_no_snapshot("checkpointed_gradient");
    using run = detail::checkpointed_run<T, std::remove_reference_t<Step>, std::remove_reference_t<Loss>>;
    return run(initial, step, loss)(steps, snapshots.count);
}

/// The same with as many snapshots as `memory.bytes` holds states of
/// initial.size() values. std::invalid_argument, naming both, when it holds
/// none.
template <std::floating_point T, class Step, class Loss>
[[nodiscard]] checkpointed_result<T> checkpointed_gradient(const tensor<T>& initial, std::size_t steps, Step&& step,
                                                           Loss&& loss, snapshot_memory memory)
{
    const std::size_t state_bytes = initial.size() * sizeof(T);
    if (memory.bytes < state_bytes)
        throw std::invalid_argument("etape::sim::checkpointed_gradient: a snapshot memory of " +
                                    std::to_string(memory.bytes) + " bytes holds no state of " +
                                    std::to_string(state_bytes) + " bytes (shape " + initial.shape().to_string() +
                                    "); give it at least " + std::to_string(state_bytes) + " bytes");
    // an empty state takes no memory: one snapshot per step, as many as a schedule can use
    const std::size_t count = state_bytes == 0 ? std::max<std::size_t>(steps, 1) : memory.bytes / state_bytes;
    return checkpointed_gradient(initial, steps, std::forward<Step>(step), std::forward<Loss>(loss),
                                 snapshot_count{count});
}

} // namespace etape::sim
