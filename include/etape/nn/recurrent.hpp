// Recurrent cells unrolled on the tape: Elman RNN, GRU and LSTM with
// PyTorch's equations, parameter layout and names, and nn::unroll over a
// sequence. Layer: nn (a step records two matmuls and one cell node).
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/hana/define_struct.hpp>

#include <etape/nn/activation.hpp>
#include <etape/nn/gated_cell_nodes.hpp>
#include <etape/nn/init.hpp>
#include <etape/nn/layer.hpp>
#include <etape/nn/random.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/expression.hpp>
#include <etape/tensor/matmul.hpp>
#include <etape/tensor/node_input.hpp>

namespace etape::nn {

/// How a recurrent cell draws its parameters; bound = 1 / sqrt(hidden).
enum class recurrent_init {
    uniform,    ///< PyTorch's: every weight and bias U(-bound, bound)
    orthogonal, ///< weight_hh: each gate's [hidden, hidden] block a random orthogonal matrix; the rest as uniform
};

namespace detail {

using etape::detail::as_node_input;

/// gates * hidden, the rows of a cell's weights; std::invalid_argument
/// for a hidden size of 0.
inline std::size_t gate_rows(std::string_view kind, std::size_t gates, std::size_t hidden)
{
    if (hidden == 0)
        throw std::invalid_argument("etape::nn: " + std::string(kind) + " needs a hidden size of at least 1");
    return gates * hidden;
}

/// Throws naming the layer unless x is [width] or [batch, width].
inline void check_width(const layer_name& layer, const shape& x, std::size_t width, std::string_view what)
{
    if ((x.rank() != 1 && x.rank() != 2) || x.last() != width) {
        const std::string w = std::to_string(width);
        layer.throw_bad_input(std::string(what) + " of width " + w + " ([" + w + "] or [batch, " + w + "])", x);
    }
}

/// The state's shape for an input x of rank 1 or 2: [hidden] or [batch, hidden].
inline shape state_shape_for(const shape& x, std::size_t hidden)
{
    return x.rank() == 1 ? shape{hidden} : shape{x[0], hidden};
}

/// Throws naming the layer unless the state `which` has the shape that
/// goes with input x (already checked).
inline void check_state(const layer_name& layer, const shape& x, const shape& state, std::size_t hidden,
                        std::string_view which)
{
    const shape expected = state_shape_for(x, hidden);
    if (state != expected)
        layer.throw_bad_input("a state " + std::string(which) + " of shape " + expected.to_string() +
                                  " with the input " + x.to_string(),
                              state);
}

/// Zeros as new independent inputs on the active tape, in its arena.
template <class T>
[[nodiscard]] active_tensor<T> zeros_on_tape(const shape& s)
{
    tape<T>& t = active_tape<T>();
    T* values = t.template allocate_scratch<T>(s.size());
    std::fill_n(values, s.size(), T(0));
    const slot_index first = t.new_inputs(s.size());
    return active_tensor<T>(values, s, first, t);
}

/// Draws a cell's parameters as `init` says (PyTorch's bound 1 / sqrt(hidden)).
template <class T>
void initialize_recurrent(std::span<T> weight_ih, std::span<T> weight_hh, std::span<T> bias_ih, std::span<T> bias_hh,
                          std::size_t hidden, recurrent_init init, random_generator& random)
{
    const double bound = 1.0 / std::sqrt(static_cast<double>(hidden));
    fill_uniform(weight_ih, bound, random);
    if (init == recurrent_init::orthogonal) {
        const std::size_t block = hidden * hidden;
        for (std::size_t g = 0; g < weight_hh.size() / block; ++g)
            fill_orthogonal(weight_hh.subspan(g * block, block), hidden, hidden, random);
    } else {
        fill_uniform(weight_hh, bound, random);
    }
    fill_uniform(bias_ih, bound, random);
    fill_uniform(bias_hh, bound, random);
}

// What differs between a cell whose state is h alone and the LSTM's {h, c}.

/// Throws naming the cell unless the state goes with a step's input x.
template <class T>
void check_states(const layer_name& cell, const shape& x, const active_tensor<T>& h, std::size_t hidden)
{
    check_state(cell, x, h.shape(), hidden, "h");
}
template <class T>
void check_states(const layer_name& cell, const shape& x, const lstm_state<T>& state, std::size_t hidden)
{
    check_state(cell, x, state.h.shape(), hidden, "h");
    check_state(cell, x, state.c.shape(), hidden, "c");
}

/// The cell's output: h.
template <class T>
[[nodiscard]] const active_tensor<T>& output_of(const active_tensor<T>& h) noexcept
{
    return h;
}
template <class T>
[[nodiscard]] const active_tensor<T>& output_of(const lstm_state<T>& state) noexcept
{
    return state.h;
}

/// f(h), or f(h) then f(c).
template <class T, class F>
void for_each_part(const active_tensor<T>& h, F&& f)
{
    f(h);
}
template <class T, class F>
void for_each_part(const lstm_state<T>& state, F&& f)
{
    f(state.h);
    f(state.c);
}

/// What rnn_cell, gru_cell and lstm_cell share: a step from an input or from
/// its projection, with the checks of its shapes and of its output in
/// anomaly mode, the zero state, the drawing of the parameters and the
/// sizes. `Cell` holds the parameters weight_ih [gates hidden, inputs],
/// weight_hh [gates hidden, hidden], bias_ih and bias_hh [gates hidden],
/// and `cell(projection, state)`, its step from x W_ih^T, which this class
/// calls as a friend.
template <class Cell, std::floating_point T, class State>
struct recurrent_cell_base : layer_name {
    using value_type = T;
    using state_type = State;

    /// One step: the new state for x [batch, inputs] and a state of
    /// [batch, hidden] tensors, or x [inputs] and a state of [hidden] ones.
    /// x is a value tensor, an active tensor or a tensor expression. A wrong
    /// width or state shape throws shape_error naming the layer (and the
    /// state, h or c, of the wrong shape).
    template <class X>
        requires tensor_argument<X, T>
    [[nodiscard]] State operator()(const X& x, const State& state) const
    {
        check_width(*this, x.shape(), inputs(), "an input");
        check_states(*this, x.shape(), state, hidden());
        const anomaly_context<T> context(active_tape<T>(), name());
        State next = self().cell(matmul(x, self().weight_ih, transpose::no, transpose::yes), state);
        for_each_part(next, [&](const active_tensor<T>& part) { check_forward(x, part); });
        return next;
    }

    /// One step from the input's projection x W_ih^T ([batch, gates hidden]
    /// or [gates hidden]) instead of x: what nn::unroll calls after
    /// projecting every step's input in one matmul.
    [[nodiscard]] State step_from_projection(const active_tensor<T>& projection, const State& state) const
    {
        check_width(*this, projection.shape(), Cell::gates * hidden(), "an input projection");
        check_states(*this, projection.shape(), state, hidden());
        const anomaly_context<T> context(active_tape<T>(), name());
        State next = self().cell(projection, state);
        for_each_part(next, [&](const active_tensor<T>& part) { check_forward(projection, part); });
        return next;
    }

    /// The zero state for a batch ([batch, hidden]) or one sample ([hidden]).
    [[nodiscard]] State zero_state(std::size_t batch) const { return zeros({batch, hidden()}); }
    [[nodiscard]] State zero_state() const { return zeros({hidden()}); }

    void initialize(random_generator& random)
    {
        Cell& cell = static_cast<Cell&>(*this);
        initialize_recurrent(cell.weight_ih.values(), cell.weight_hh.values(), cell.bias_ih.values(),
                             cell.bias_hh.values(), hidden(), init_, random);
    }

    [[nodiscard]] std::size_t inputs() const noexcept { return self().weight_ih.shape()[1]; }
    [[nodiscard]] std::size_t hidden() const noexcept { return self().weight_hh.shape()[1]; }

protected:
    recurrent_cell_base(std::string_view kind, recurrent_init init) : layer_name(kind), init_(init) {}

private:
    [[nodiscard]] const Cell& self() const noexcept { return static_cast<const Cell&>(*this); }

    [[nodiscard]] static State zeros(const shape& s)
    {
        if constexpr (std::same_as<State, lstm_state<T>>)
            return {zeros_on_tape<T>(s), zeros_on_tape<T>(s)};
        else
            return zeros_on_tape<T>(s);
    }

    recurrent_init init_;
};

} // namespace detail

/// Elman RNN cell, torch.nn.RNNCell: h' = activation((x W_ih^T + b_ih) +
/// (h W_hh^T + b_hh)), with weight_ih [hidden, inputs], weight_hh [hidden,
/// hidden], bias_ih and bias_hh [hidden]. A step is two matmul nodes and
/// one fused elementwise node for the biases and the activation (any
/// activation that fuses, as for dense: activation::tanh, PyTorch's
/// default, activation::relu, or a user's callable).
template <std::floating_point T, class Activation = activation::tanh>
struct rnn_cell : detail::recurrent_cell_base<rnn_cell<T, Activation>, T, active_tensor<T>> {
    BOOST_HANA_DEFINE_STRUCT(rnn_cell, (active_tensor<T>, weight_ih), (active_tensor<T>, weight_hh),
                             (active_tensor<T>, bias_ih), (active_tensor<T>, bias_hh));

    static constexpr std::size_t gates = 1;

    /// Parameters on the active tape, zero until nn::initialize draws them.
    rnn_cell(std::size_t inputs, std::size_t hidden, Activation activation = {},
             recurrent_init init = recurrent_init::uniform)
        : detail::recurrent_cell_base<rnn_cell, T, active_tensor<T>>("rnn_cell", init),
          weight_ih(tensor<T>({detail::gate_rows("rnn_cell", gates, hidden), inputs})),
          weight_hh(tensor<T>({hidden, hidden})), bias_ih(tensor<T>({hidden})), bias_hh(tensor<T>({hidden})),
          activation_(activation)
    {
    }

    [[nodiscard]] const Activation& activation() const noexcept { return activation_; }

private:
    friend struct detail::recurrent_cell_base<rnn_cell, T, active_tensor<T>>;

    [[nodiscard]] active_tensor<T> cell(const active_tensor<T>& projection, const active_tensor<T>& h) const
    {
        const active_tensor<T> recurrent = matmul(h, weight_hh, transpose::no, transpose::yes);
        return activation_((projection + bias_ih) + (recurrent + bias_hh));
    }

    Activation activation_;
};

/// GRU cell, torch.nn.GRUCell, gates r (reset), z (update), n (new) in
/// that order along weight_ih [3 hidden, inputs], weight_hh [3 hidden,
/// hidden], bias_ih and bias_hh [3 hidden]:
///   r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)    z likewise
///   n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn))
///   h' = (1 - z) n + z h
/// A step is two matmul nodes and one cell node.
template <std::floating_point T>
struct gru_cell : detail::recurrent_cell_base<gru_cell<T>, T, active_tensor<T>> {
    BOOST_HANA_DEFINE_STRUCT(gru_cell, (active_tensor<T>, weight_ih), (active_tensor<T>, weight_hh),
                             (active_tensor<T>, bias_ih), (active_tensor<T>, bias_hh));

    static constexpr std::size_t gates = 3;

    /// Parameters on the active tape, zero until nn::initialize draws them.
    gru_cell(std::size_t inputs, std::size_t hidden, recurrent_init init = recurrent_init::uniform)
        : detail::recurrent_cell_base<gru_cell, T, active_tensor<T>>("gru_cell", init),
          weight_ih(tensor<T>({detail::gate_rows("gru_cell", gates, hidden), inputs})),
          weight_hh(tensor<T>({gates * hidden, hidden})), bias_ih(tensor<T>({gates * hidden})),
          bias_hh(tensor<T>({gates * hidden}))
    {
    }

private:
    friend struct detail::recurrent_cell_base<gru_cell, T, active_tensor<T>>;

    [[nodiscard]] active_tensor<T> cell(const active_tensor<T>& projection, const active_tensor<T>& h) const
    {
        const active_tensor<T> recurrent = matmul(h, weight_hh, transpose::no, transpose::yes);
        return detail::gru_cell_node<T>(detail::as_node_input<T>(projection), detail::as_node_input<T>(recurrent),
                                        detail::as_node_input<T>(bias_ih), detail::as_node_input<T>(bias_hh),
                                        detail::as_node_input<T>(h));
    }
};

/// LSTM cell, torch.nn.LSTMCell, gates i (input), f (forget), g (cell),
/// o (output) in that order along weight_ih [4 hidden, inputs], weight_hh
/// [4 hidden, hidden], bias_ih and bias_hh [4 hidden]:
///   i = sigmoid(x W_ii^T + b_ii + h W_hi^T + b_hi)    f, o likewise
///   g = tanh(x W_ig^T + b_ig + h W_hg^T + b_hg)
///   c' = f c + i g    h' = o tanh(c')
/// A step is two matmul nodes and one cell node, whose outputs are h' and
/// c' (2 batch hidden slots; lstm_state holds the two views).
template <std::floating_point T>
struct lstm_cell : detail::recurrent_cell_base<lstm_cell<T>, T, lstm_state<T>> {
    BOOST_HANA_DEFINE_STRUCT(lstm_cell, (active_tensor<T>, weight_ih), (active_tensor<T>, weight_hh),
                             (active_tensor<T>, bias_ih), (active_tensor<T>, bias_hh));

    static constexpr std::size_t gates = 4;

    /// Parameters on the active tape, zero until nn::initialize draws them.
    lstm_cell(std::size_t inputs, std::size_t hidden, recurrent_init init = recurrent_init::uniform)
        : detail::recurrent_cell_base<lstm_cell, T, lstm_state<T>>("lstm_cell", init),
          weight_ih(tensor<T>({detail::gate_rows("lstm_cell", gates, hidden), inputs})),
          weight_hh(tensor<T>({gates * hidden, hidden})), bias_ih(tensor<T>({gates * hidden})),
          bias_hh(tensor<T>({gates * hidden}))
    {
    }

private:
    friend struct detail::recurrent_cell_base<lstm_cell, T, lstm_state<T>>;

    [[nodiscard]] lstm_state<T> cell(const active_tensor<T>& projection, const lstm_state<T>& state) const
    {
        const active_tensor<T> recurrent = matmul(state.h, weight_hh, transpose::no, transpose::yes);
        return detail::lstm_cell_node<T>(detail::as_node_input<T>(projection), detail::as_node_input<T>(recurrent),
                                         detail::as_node_input<T>(bias_ih), detail::as_node_input<T>(bias_hh),
                                         detail::as_node_input<T>(state.c), state.h.shape());
    }
};

/// What nn::unroll runs: rnn_cell, gru_cell, lstm_cell, or a user's cell
/// with the same members: a layer_name, value_type, a state_type that is
/// active_tensor<value_type> (h) or lstm_state<value_type> (h and c), the
/// step from an input and from its projection x W_ih^T, weight_ih [width,
/// inputs] (unroll projects a whole sequence with it), inputs() and hidden().
template <class C>
concept recurrent_cell =
    std::derived_from<C, layer_name> &&
    (std::same_as<typename C::state_type, active_tensor<typename C::value_type>> ||
     std::same_as<typename C::state_type, lstm_state<typename C::value_type>>) &&
    requires(const C& cell, const active_tensor<typename C::value_type>& x, const typename C::state_type& state) {
        { cell(x, state) } -> std::same_as<typename C::state_type>;
        { cell.step_from_projection(x, state) } -> std::same_as<typename C::state_type>;
        { cell.weight_ih } -> std::convertible_to<const active_tensor<typename C::value_type>&>;
        { cell.inputs() } -> std::convertible_to<std::size_t>;
        { cell.hidden() } -> std::convertible_to<std::size_t>;
    };

/// A sequence nn::unroll takes: one tensor [steps, batch, inputs] (or
/// [steps, inputs] for one sample), value or active, or a contiguous range
/// of per-step inputs (std::vector, std::span, std::array of tensors or
/// active tensors, each [batch, inputs] or [inputs]).
template <class S, class T>
concept sequence_of =
    std::same_as<S, tensor<T>> || std::same_as<S, active_tensor<T>> ||
    (std::ranges::contiguous_range<const S> && (std::same_as<std::ranges::range_value_t<const S>, tensor<T>> ||
                                                std::same_as<std::ranges::range_value_t<const S>, active_tensor<T>>));

namespace detail {

template <class Cell, class Sequence>
[[nodiscard]] typename Cell::state_type unroll(const Cell& cell, const Sequence& xs, typename Cell::state_type state,
                                               std::vector<active_tensor<typename Cell::value_type>>* outputs)
{
    using T = typename Cell::value_type;
    if (outputs != nullptr)
        outputs->clear();
    if constexpr (std::same_as<Sequence, tensor<T>> || std::same_as<Sequence, active_tensor<T>>) {
        const shape& s = xs.shape();
        const std::size_t width = cell.inputs();
        if ((s.rank() != 2 && s.rank() != 3) || s.last() != width) {
            const std::string w = std::to_string(width);
            cell.throw_bad_input("a sequence of inputs of width " + w + " ([steps, " + w + "] or [steps, batch, " + w +
                                     "])",
                                 s);
        }
        const std::size_t steps = s[0], batch = s.rank() == 3 ? s[1] : 1;
        check_states(cell, s.rank() == 3 ? shape{batch, width} : shape{width}, state, cell.hidden());
        if (steps == 0)
            return state;
        // every step's x W_ih^T in one matmul; step k reads rows k batch .. (k + 1) batch of it
        active_tensor<T> projection = [&] {
            const anomaly_context<T> context(active_tape<T>(), cell.name());
            return matmul(xs.reshape(shape{steps * batch, width}), cell.weight_ih, transpose::no, transpose::yes);
        }();
        const std::size_t columns = projection.shape()[1], step_size = batch * columns;
        const shape step_shape = s.rank() == 2 ? shape{columns} : shape{batch, columns};
        tape<T>& t = active_tape<T>();
        T* values = projection.values().data();
        for (std::size_t k = 0; k < steps; ++k) {
            const active_tensor<T> step(values + k * step_size, step_shape,
                                        projection.first_slot() + static_cast<slot_index>(k * step_size), t);
            state = cell.step_from_projection(step, state);
            if (outputs != nullptr)
                outputs->push_back(output_of(state));
        }
    } else {
        for (const auto& x : xs) {
            state = cell(x, state);
            if (outputs != nullptr)
                outputs->push_back(output_of(state));
        }
    }
    return state;
}

} // namespace detail

/// Runs `cell` over the sequence xs from `state` and returns the last
/// state (h, or lstm_state {h, c}). Given one tensor [steps, batch, inputs]
/// (or [steps, inputs]), every step's x W_ih^T is one matmul node and a
/// step then records one matmul and one cell node (1 + 2 steps nodes);
/// given a range of per-step inputs, each step is cell(x, state) (3 nodes).
/// An empty sequence returns `state`. A sequence of the wrong width or
/// rank, or a state of the wrong shape, throws shape_error naming the cell.
template <recurrent_cell Cell, class Sequence>
    requires sequence_of<Sequence, typename Cell::value_type>
[[nodiscard]] typename Cell::state_type unroll(const Cell& cell, const Sequence& xs, typename Cell::state_type state)
{
    return detail::unroll(cell, xs, std::move(state), nullptr);
}

/// The same, and `outputs` holds h after each step, in order (views of the
/// cells' outputs, [batch, hidden] or [hidden] each). `outputs` is cleared
/// first and keeps its capacity: reused across training steps, it
/// allocates nothing after the first.
template <recurrent_cell Cell, class Sequence>
    requires sequence_of<Sequence, typename Cell::value_type>
typename Cell::state_type unroll(const Cell& cell, const Sequence& xs, typename Cell::state_type state,
                                 std::vector<active_tensor<typename Cell::value_type>>& outputs)
{
    return detail::unroll(cell, xs, std::move(state), &outputs);
}

} // namespace etape::nn
