// Recurrent cells (Elman RNN, GRU, LSTM) and nn::unroll: each step against
// a hand computation in long double, gradients of an unroll of 3 steps with
// respect to the inputs, the initial state and every parameter against
// central differences, the nodes a step records, first writers, a single
// sample, initialisation, errors naming the layer, and a user's cell.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <boost/hana/define_struct.hpp>
#include <doctest/doctest.h>

#include <etape/etape.hpp>
#include <etape/nn/dense.hpp>
#include <etape/nn/parameters.hpp>
#include <etape/nn/recurrent.hpp>

#include "support/tensor_check.hpp"

namespace nn = etape::nn;

namespace {

using ld = long double;

enum class kind { rnn_tanh, rnn_relu, gru, lstm };

template <class Cell>
constexpr kind kind_of = kind::lstm;
template <class T>
constexpr kind kind_of<nn::rnn_cell<T>> = kind::rnn_tanh;
template <class T>
constexpr kind kind_of<nn::rnn_cell<T, nn::activation::relu>> = kind::rnn_relu;
template <class T>
constexpr kind kind_of<nn::gru_cell<T>> = kind::gru;

template <class Cell>
constexpr bool is_lstm = kind_of<Cell> == kind::lstm;

constexpr std::size_t gate_count(kind k) { return k == kind::gru ? 3 : k == kind::lstm ? 4 : 1; }

ld logistic(ld x) { return 1 / (1 + std::exp(-x)); }

/// One step of the cell `k` by hand, PyTorch's equations: x [rows, inputs],
/// h and c [rows, hidden] (c unused but by the LSTM), updated in place;
/// `parameters`: weight_ih, weight_hh, bias_ih, bias_hh, flat, in order.
void reference_step(kind k, std::size_t inputs, std::size_t hidden, std::span<const ld> parameters,
                    std::span<const ld> x, std::vector<ld>& h, std::vector<ld>& c)
{
    const std::size_t width = gate_count(k) * hidden, rows = h.size() / hidden;
    const ld* w_ih = parameters.data();
    const ld* w_hh = w_ih + width * inputs;
    const ld* b_ih = w_hh + width * hidden;
    const ld* b_hh = b_ih + width;
    for (std::size_t r = 0; r < rows; ++r) {
        std::vector<ld> gi(width), gh(width); // x W_ih^T + b_ih and h W_hh^T + b_hh
        for (std::size_t q = 0; q < width; ++q) {
            gi[q] = b_ih[q];
            gh[q] = b_hh[q];
            for (std::size_t j = 0; j < inputs; ++j)
                gi[q] += w_ih[q * inputs + j] * x[r * inputs + j];
            for (std::size_t j = 0; j < hidden; ++j)
                gh[q] += w_hh[q * hidden + j] * h[r * hidden + j];
        }
        for (std::size_t j = 0; j < hidden; ++j) {
            ld& hj = h[r * hidden + j];
            const std::size_t H = hidden;
            switch (k) {
            case kind::rnn_tanh: hj = std::tanh(gi[j] + gh[j]); break;
            case kind::rnn_relu: hj = std::max(gi[j] + gh[j], ld(0)); break;
            case kind::gru: {
                const ld reset = logistic(gi[j] + gh[j]), update = logistic(gi[H + j] + gh[H + j]);
                const ld n = std::tanh(gi[2 * H + j] + reset * gh[2 * H + j]);
                hj = (1 - update) * n + update * hj;
                break;
            }
            case kind::lstm: {
                const ld i = logistic(gi[j] + gh[j]), f = logistic(gi[H + j] + gh[H + j]);
                const ld g = std::tanh(gi[2 * H + j] + gh[2 * H + j]), o = logistic(gi[3 * H + j] + gh[3 * H + j]);
                ld& cj = c[r * hidden + j];
                cj = f * cj + i * g;
                hj = o * std::tanh(cj);
                break;
            }
            }
        }
    }
}

/// The parameters of `cell` set to fixed values spread over [-0.6, 0.6].
template <class Cell>
void set_parameters(Cell& cell)
{
    using T = typename Cell::value_type;
    double range = 0.6;
    for (etape::active_tensor<T>* p : {&cell.weight_ih, &cell.weight_hh, &cell.bias_ih, &cell.bias_hh}) {
        const etape::tensor<T> values = etape_test::spread<T>(p->shape(), range);
        std::ranges::copy(values.values(), p->values().begin());
        range -= 0.1; // each tensor its own values
    }
}

/// The parameters of `cell` as numbers, flat, in the walk's order.
template <class Cell>
std::vector<ld> parameter_numbers(const Cell& cell)
{
    std::vector<ld> all;
    for (const auto* p : {&cell.weight_ih, &cell.weight_hh, &cell.bias_ih, &cell.bias_hh})
        all.insert(all.end(), p->values().begin(), p->values().end());
    return all;
}

template <class Cell, class T = typename Cell::value_type>
typename Cell::state_type make_state(const etape::tensor<T>& h, const etape::tensor<T>& c)
{
    if constexpr (is_lstm<Cell>)
        return {etape::active_tensor<T>(h), etape::active_tensor<T>(c)};
    else
        return etape::active_tensor<T>(h);
}

template <class T>
const etape::active_tensor<T>& h_of(const etape::active_tensor<T>& h)
{
    return h;
}
template <class T>
const etape::active_tensor<T>& h_of(const nn::lstm_state<T>& s)
{
    return s.h;
}

std::vector<ld> numbers(const auto& values) { return {values.begin(), values.end()}; }

constexpr std::size_t batch = 2, inputs = 3, hidden = 4, steps = 3;

template <class Cell>
void check_step_against_hand()
{
    using T = typename Cell::value_type;
    CAPTURE(static_cast<int>(kind_of<Cell>));
    etape::tape_scope<T> scope;
    Cell cell(inputs, hidden);
    set_parameters(cell);
    const etape::tensor<T> x = etape_test::spread<T>({batch, inputs}, 1.5);
    const etape::tensor<T> h0 = etape_test::spread<T>({batch, hidden}, 0.7);
    const etape::tensor<T> c0 = etape_test::spread<T>({batch, hidden}, 0.9);
    const auto next = cell(x, make_state<Cell>(h0, c0));

    std::vector<ld> h = numbers(h0.values()), c = numbers(c0.values());
    reference_step(kind_of<Cell>, inputs, hidden, parameter_numbers(cell), numbers(x.values()), h, c);
    const etape::active_tensor<T>& y = h_of(next);
    REQUIRE(y.shape() == etape::shape{batch, hidden});
    for (std::size_t k = 0; k < h.size(); ++k)
        CHECK(y.values()[k] == doctest::Approx(static_cast<double>(h[k])));
    if constexpr (is_lstm<Cell>) {
        REQUIRE(next.c.shape() == etape::shape{batch, hidden});
        for (std::size_t k = 0; k < c.size(); ++k)
            CHECK(next.c.values()[k] == doctest::Approx(static_cast<double>(c[k])));
    }
}

/// Gradients of loss = sum_t sum(rh_t h_t) (+ sum(rc c_T) for the LSTM) over
/// an unroll of 3 steps, with respect to the inputs, h0 (c0) and every
/// parameter, against central differences of the hand computation. The
/// sequence is one tensor [steps, batch, inputs] or one tensor per step.
template <class Cell>
void check_unroll_gradients(bool as_one_tensor)
{
    CAPTURE(static_cast<int>(kind_of<Cell>));
    CAPTURE(as_one_tensor);
    const etape::tensor<double> xs0 = etape_test::spread<double>({steps, batch, inputs}, 1.2);
    const etape::tensor<double> h00 = etape_test::spread<double>({batch, hidden}, 0.6);
    const etape::tensor<double> c00 = etape_test::spread<double>({batch, hidden}, 0.9);
    const etape::tensor<double> rh = etape_test::spread<double>({steps, batch, hidden}, 1.0);
    const etape::tensor<double> rc = etape_test::spread<double>({batch, hidden}, 1.3);
    const std::size_t step_size = batch * inputs, state_size = batch * hidden;

    etape::tape_scope<double> scope;
    Cell cell(inputs, hidden);
    set_parameters(cell);
    const std::vector<ld> parameters = parameter_numbers(cell);
    // the variables, flat: xs, h0, (c0), then the parameters
    std::vector<double> at(xs0.values().begin(), xs0.values().end());
    at.insert(at.end(), h00.values().begin(), h00.values().end());
    if constexpr (is_lstm<Cell>)
        at.insert(at.end(), c00.values().begin(), c00.values().end());
    at.insert(at.end(), parameters.begin(), parameters.end());

    const auto loss_of = [&](std::span<const ld> v) {
        std::size_t used = steps * step_size;
        std::vector<ld> h(v.begin() + used, v.begin() + used + state_size), c(state_size, 0);
        used += state_size;
        if (is_lstm<Cell>) {
            c.assign(v.begin() + used, v.begin() + used + state_size);
            used += state_size;
        }
        ld loss = 0;
        for (std::size_t t = 0; t < steps; ++t) {
            reference_step(kind_of<Cell>, inputs, hidden, v.subspan(used), v.subspan(t * step_size, step_size), h, c);
            for (std::size_t k = 0; k < state_size; ++k)
                loss += static_cast<ld>(rh.values()[t * state_size + k]) * h[k];
        }
        if (is_lstm<Cell>)
            for (std::size_t k = 0; k < state_size; ++k)
                loss += static_cast<ld>(rc.values()[k]) * c[k];
        return loss;
    };

    const auto state0 = make_state<Cell>(h00, c00);
    std::vector<etape::active_tensor<double>> step_inputs;
    const etape::active_tensor<double> all_inputs(xs0);
    for (std::size_t t = 0; t < steps; ++t)
        step_inputs.emplace_back(
            etape::tensor<double>({batch, inputs}, xs0.values().subspan(t * step_size, step_size)));
    std::vector<etape::active_tensor<double>> outputs;
    const auto last = as_one_tensor ? nn::unroll(cell, all_inputs, state0, outputs)
                                    : nn::unroll(cell, step_inputs, state0, outputs);
    REQUIRE(outputs.size() == steps);
    etape::var<double> loss = 0.0;
    for (std::size_t t = 0; t < steps; ++t)
        loss = loss + etape::sum(outputs[t] * etape::tensor<double>({batch, hidden},
                                                                      rh.values().subspan(t * state_size, state_size)));
    if constexpr (is_lstm<Cell>)
        loss = loss + etape::sum(last.c * rc);
    const std::vector<ld> at_numbers(at.begin(), at.end());
    CHECK(loss.value() == doctest::Approx(static_cast<double>(loss_of(at_numbers))));

    std::vector<const etape::active_tensor<double>*> wrt;
    if (as_one_tensor)
        wrt.push_back(&all_inputs);
    else
        for (const auto& x : step_inputs)
            wrt.push_back(&x);
    wrt.push_back(&h_of(state0));
    if constexpr (is_lstm<Cell>)
        wrt.push_back(&state0.c);
    for (const auto* p : {&cell.weight_ih, &cell.weight_hh, &cell.bias_ih, &cell.bias_hh})
        wrt.push_back(p);
    std::vector<double> g;
    for (const auto* x : wrt) {
        const auto [gx] = etape::gradient(loss, *x);
        g.insert(g.end(), gx.values().begin(), gx.values().end());
    }
    etape_test::check_against_differences<double>(loss_of, at, g);
}

} // namespace

TEST_CASE_TEMPLATE("recurrent cells: one step against a hand computation in long double", T, float, double)
{
    check_step_against_hand<nn::rnn_cell<T>>();
    check_step_against_hand<nn::rnn_cell<T, nn::activation::relu>>();
    check_step_against_hand<nn::gru_cell<T>>();
    check_step_against_hand<nn::lstm_cell<T>>();
}

TEST_CASE("recurrent cells: gradients of an unroll of 3 steps against central differences")
{
    for (const bool as_one_tensor : {true, false}) {
        check_unroll_gradients<nn::rnn_cell<double>>(as_one_tensor);
        check_unroll_gradients<nn::rnn_cell<double, nn::activation::relu>>(as_one_tensor);
        check_unroll_gradients<nn::gru_cell<double>>(as_one_tensor);
        check_unroll_gradients<nn::lstm_cell<double>>(as_one_tensor);
    }
}

namespace {

template <class Cell>
void check_node_counts()
{
    CAPTURE(static_cast<int>(kind_of<Cell>));
    etape::tape_scope<double> scope;
    Cell cell(inputs, hidden);
    set_parameters(cell);
    auto state = cell.zero_state(batch);
    const etape::tensor<double> x = etape_test::spread<double>({batch, inputs});
    const etape::tape_stats before = scope.get().stats();
    state = cell(x, state);
    const etape::tape_stats after = scope.get().stats();
    CHECK(after.nodes - before.nodes == 3); // x W_ih^T, h W_hh^T, the cell
    CHECK(after.statements == before.statements);

    const std::size_t count = 5;
    const etape::tensor<double> sequence = etape_test::spread<double>({count, batch, inputs});
    (void)nn::unroll(cell, sequence, state);
    const etape::tape_stats unrolled = scope.get().stats();
    CHECK(unrolled.nodes - after.nodes == 1 + 2 * count); // every input projected in one matmul
    const std::vector<etape::tensor<double>> per_step(count, x);
    (void)nn::unroll(cell, per_step, state);
    CHECK(scope.get().stats().nodes - unrolled.nodes == 3 * count);
    CHECK(scope.get().stats().statements == before.statements);
}

/// One sample ([inputs] and [hidden]) gives the row of the batch it sits in.
template <class Cell>
void check_single_sample()
{
    CAPTURE(static_cast<int>(kind_of<Cell>));
    etape::tape_scope<double> scope;
    Cell cell(inputs, hidden);
    set_parameters(cell);
    const etape::tensor<double> xs = etape_test::spread<double>({steps, batch, inputs});
    const etape::tensor<double> h0 = etape_test::spread<double>({batch, hidden}, 0.5);
    const etape::tensor<double> c0 = etape_test::spread<double>({batch, hidden}, 0.8);
    std::vector<etape::active_tensor<double>> rows_of_batch, single;
    const auto batch_last = nn::unroll(cell, xs, make_state<Cell>(h0, c0), rows_of_batch);

    // row 1 of every step, and of the initial state
    const std::size_t row = 1;
    etape::tensor<double> sample({steps, inputs});
    for (std::size_t t = 0; t < steps; ++t)
        for (std::size_t j = 0; j < inputs; ++j)
            sample(t, j) = xs(t, row, j);
    const etape::tensor<double> h1({hidden}, h0.values().subspan(row * hidden, hidden));
    const etape::tensor<double> c1({hidden}, c0.values().subspan(row * hidden, hidden));
    const auto last = nn::unroll(cell, sample, make_state<Cell>(h1, c1), single);
    REQUIRE(single.size() == steps);
    for (std::size_t t = 0; t < steps; ++t) {
        REQUIRE(single[t].shape() == etape::shape{hidden});
        for (std::size_t j = 0; j < hidden; ++j)
            CHECK(single[t].values()[j] == doctest::Approx(rows_of_batch[t](row, j).value()).epsilon(1e-14));
    }
    // a step by itself on rank-1 tensors
    const etape::tensor<double> x({inputs}, sample.values().subspan(0, inputs));
    const auto first = cell(x, make_state<Cell>(h1, c1));
    CHECK(h_of(first).shape() == etape::shape{hidden});
    for (std::size_t j = 0; j < hidden; ++j)
        CHECK(h_of(first).values()[j] == doctest::Approx(single[0].values()[j]).epsilon(1e-14));
    if constexpr (is_lstm<Cell>) {
        CHECK(last.c.shape() == etape::shape{hidden});
        for (std::size_t j = 0; j < hidden; ++j)
            CHECK(last.c.values()[j] == doctest::Approx(batch_last.c(row, j).value()).epsilon(1e-14));
    }
}

/// A sequence as one tensor, as a range of tensors and step by step by
/// hand: the same states; the outputs vector is refilled, not appended to.
template <class Cell>
void check_unroll_forms()
{
    CAPTURE(static_cast<int>(kind_of<Cell>));
    etape::tape_scope<double> scope;
    Cell cell(inputs, hidden);
    set_parameters(cell);
    const etape::tensor<double> xs = etape_test::spread<double>({steps, batch, inputs});
    std::vector<etape::tensor<double>> per_step;
    for (std::size_t t = 0; t < steps; ++t)
        per_step.emplace_back(etape::shape{batch, inputs}, xs.values().subspan(t * batch * inputs, batch * inputs));
    const auto state0 = cell.zero_state(batch);
    std::vector<etape::active_tensor<double>> from_tensor, from_range;
    (void)nn::unroll(cell, xs, state0, from_tensor);
    const auto last = nn::unroll(cell, std::span<const etape::tensor<double>>(per_step), state0, from_range);
    auto state = state0;
    for (std::size_t t = 0; t < steps; ++t) {
        state = cell(per_step[t], state);
        CHECK(std::ranges::equal(h_of(state).values(), from_range[t].values()));
        for (std::size_t k = 0; k < batch * hidden; ++k)
            CHECK(from_tensor[t].values()[k] == doctest::Approx(h_of(state).values()[k]).epsilon(1e-14));
    }
    CHECK(std::ranges::equal(h_of(last).values(), from_range.back().values()));
    (void)nn::unroll(cell, xs, state0, from_range);
    CHECK(from_range.size() == steps);
    // an empty sequence leaves the state as it is
    const auto same = nn::unroll(cell, etape::tensor<double>({0, batch, inputs}), state0, from_range);
    CHECK(from_range.empty());
    CHECK(h_of(same).first_slot() == h_of(state0).first_slot());
}

/// The adjoints of a sweep of `y`: by etape's planned sweep (where a cell
/// node stores into the adjoints it is the first to write) over memory
/// filled with garbage, and by the plain clear, seed and sweep, bit for bit.
template <class T>
void check_planned_sweep_bits(etape::tape<T>& t, const etape::var<T>& y)
{
    const etape::slot_index top = y.slot();
    const etape::slot_range seed{top, 1};
    (void)t.adjoint(t.size() - 1);
    std::fill_n(t.adjoints(), t.size(), std::numeric_limits<T>::quiet_NaN());
    t.clear_and_sweep(top + 1, 1, std::span(&seed, 1), [top](T* adjoints) { adjoints[top] = T(1); });
    const std::vector<T> planned(t.adjoints() + 1, t.adjoints() + t.size());
    t.clear_adjoints();
    t.adjoint(top) = T(1);
    t.sweep(top + 1, 1);
    const std::vector<T> plain(t.adjoints() + 1, t.adjoints() + t.size());
    etape_test::check_same_bits(std::span<const T>(planned), std::span<const T>(plain));
}

/// Large enough that the projections and the states reach the tape's
/// threshold for first writers (tape::min_stored_slots).
template <class Cell>
void check_first_writers()
{
    using T = typename Cell::value_type;
    CAPTURE(static_cast<int>(kind_of<Cell>));
    const std::size_t rows = 16, width = 64, count = 3;
    static_assert(16 * 64 >= etape::tape<double>::min_stored_slots);
    etape::tape_scope<T> scope;
    Cell cell(8, width);
    nn::random_generator random(5);
    cell.initialize(random);
    const etape::active_tensor<T> xs(etape_test::spread<T>({count, rows, 8}));
    const auto state0 =
        make_state<Cell>(etape_test::spread<T>({rows, width}, 0.5), etape_test::spread<T>({rows, width}));
    std::vector<etape::active_tensor<T>> outputs;
    const auto last = nn::unroll(cell, xs, state0, outputs);
    const etape::tensor<T> r = etape_test::spread<T>({rows, width});
    etape::var<T> loss = etape::sum(outputs[0] * r) + etape::sum(h_of(last) * h_of(last));
    if constexpr (is_lstm<Cell>)
        loss = loss + etape::sum(last.c * r);
    check_planned_sweep_bits(scope.get(), loss);
}

} // namespace

TEST_CASE("recurrent cells: a step records two matmuls and one cell node, an unroll of a tensor 1 + 2 steps nodes")
{
    check_node_counts<nn::rnn_cell<double>>();
    check_node_counts<nn::gru_cell<double>>();
    check_node_counts<nn::lstm_cell<double>>();
}

TEST_CASE("recurrent cells: a single sample (rank-1 input and state) gives its row of the batch")
{
    check_single_sample<nn::rnn_cell<double>>();
    check_single_sample<nn::gru_cell<double>>();
    check_single_sample<nn::lstm_cell<double>>();
}

TEST_CASE("recurrent cells: unroll of one tensor, of a range and step by step agree")
{
    check_unroll_forms<nn::rnn_cell<double>>();
    check_unroll_forms<nn::gru_cell<double>>();
    check_unroll_forms<nn::lstm_cell<double>>();
}

TEST_CASE_TEMPLATE("recurrent cells: storing first writers give the plain sweep's adjoints bit for bit", T, float,
                   double)
{
    check_first_writers<nn::rnn_cell<T>>();
    check_first_writers<nn::gru_cell<T>>();
    check_first_writers<nn::lstm_cell<T>>();
}

namespace {

struct sequence_model {
    BOOST_HANA_DEFINE_STRUCT(sequence_model, (nn::lstm_cell<double>, encoder), (nn::dense<double>, head));
};

} // namespace

TEST_CASE("recurrent cells: PyTorch's parameter names and shapes, uniform within 1/sqrt(hidden), repeatable by seed")
{
    etape::tape_scope<double> scope;
    sequence_model model{{3, 5}, {5, 2}};
    std::vector<std::string> names;
    std::vector<etape::shape> shapes;
    for (const auto& p : nn::parameters(model)) {
        names.push_back(p.name);
        shapes.push_back(p.tensor->shape());
    }
    CHECK(names == std::vector<std::string>{"encoder.weight_ih", "encoder.weight_hh", "encoder.bias_ih",
                                            "encoder.bias_hh", "head.weight", "head.bias"});
    CHECK(shapes[0] == etape::shape{20, 3});
    CHECK(shapes[1] == etape::shape{20, 5});
    CHECK(shapes[2] == etape::shape{20});
    CHECK(shapes[3] == etape::shape{20});
    CHECK(nn::gru_cell<double>(3, 5).weight_hh.shape() == etape::shape{15, 5});
    CHECK(nn::rnn_cell<double>(3, 5).weight_ih.shape() == etape::shape{5, 3});

    nn::random_generator random(11);
    nn::initialize(model, random);
    CHECK(model.encoder.name() == "encoder");
    const double bound = 1 / std::sqrt(5.0);
    for (const auto* p : {&model.encoder.weight_ih, &model.encoder.weight_hh, &model.encoder.bias_ih,
                          &model.encoder.bias_hh}) {
        CHECK(std::ranges::all_of(p->values(), [&](double w) { return std::abs(w) <= bound; }));
        CHECK(std::ranges::any_of(p->values(), [&](double w) { return std::abs(w) > bound / 2; }));
    }
    sequence_model again{{3, 5}, {5, 2}};
    nn::random_generator same(11);
    nn::initialize(again, same);
    CHECK(std::ranges::equal(model.encoder.weight_hh.values(), again.encoder.weight_hh.values()));
    CHECK(std::ranges::equal(model.encoder.bias_hh.values(), again.encoder.bias_hh.values()));
}

TEST_CASE("recurrent cells: orthogonal recurrent weights, one orthogonal block per gate")
{
    etape::tape_scope<double> scope;
    const std::size_t h = 6;
    nn::gru_cell<double> cell(4, h, nn::recurrent_init::orthogonal);
    nn::random_generator random(3);
    cell.initialize(random);
    const std::span<const double> w = cell.weight_hh.values();
    for (std::size_t g = 0; g < 3; ++g) // W_g^T W_g = I for each gate's [hidden, hidden] block
        for (std::size_t a = 0; a < h; ++a)
            for (std::size_t b = 0; b < h; ++b) {
                double dot = 0;
                for (std::size_t k = 0; k < h; ++k)
                    dot += w[(g * h + k) * h + a] * w[(g * h + k) * h + b];
                CHECK(dot == doctest::Approx(a == b ? 1.0 : 0.0).epsilon(1e-12));
            }
    const double bound = 1 / std::sqrt(double(h));
    CHECK(std::ranges::all_of(cell.weight_ih.values(), [&](double v) { return std::abs(v) <= bound; }));
    CHECK(std::ranges::any_of(cell.weight_hh.values(), [&](double v) { return std::abs(v) > bound; }));
}

TEST_CASE("recurrent cells: a wrong input width, state shape or sequence names the layer and the shapes")
{
    etape::tape_scope<float> scope;
    nn::lstm_cell<float> lstm(3, 4);
    lstm.set_name("encoder.lstm");
    const auto state = lstm.zero_state(2);
    CHECK_THROWS_WITH_AS((void)lstm(etape::tensor<float>({2, 5}), state),
                         "etape::nn: encoder.lstm (lstm_cell) expects an input of width 3 ([3] or [batch, 3]), "
                         "got [2, 5]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)lstm(etape::tensor<float>({3, 3}), state),
                         "etape::nn: encoder.lstm (lstm_cell) expects a state h of shape [3, 4] with the input [3, 3], "
                         "got [2, 4]",
                         etape::shape_error);
    const nn::lstm_state<float> bad_c{state.h, state.c.reshape({4, 2})};
    CHECK_THROWS_WITH_AS((void)lstm(etape::tensor<float>({2, 3}), bad_c),
                         "etape::nn: encoder.lstm (lstm_cell) expects a state c of shape [2, 4] with the input [2, 3], "
                         "got [4, 2]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)lstm(etape::tensor<float>({3}), state),
                         "etape::nn: encoder.lstm (lstm_cell) expects a state h of shape [4] with the input [3], "
                         "got [2, 4]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)nn::unroll(lstm, etape::tensor<float>({5, 2, 2, 3}), state),
                         "etape::nn: encoder.lstm (lstm_cell) expects a sequence of inputs of width 3 ([steps, 3] or "
                         "[steps, batch, 3]), got [5, 2, 2, 3]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)nn::unroll(lstm, etape::tensor<float>({5, 3, 3}), state),
                         "etape::nn: encoder.lstm (lstm_cell) expects a state h of shape [3, 4] with the input [3, 3], "
                         "got [2, 4]",
                         etape::shape_error);

    nn::gru_cell<float> gru(3, 4);
    CHECK_THROWS_WITH_AS((void)gru(etape::tensor<float>({2, 4}), gru.zero_state(2)),
                         "etape::nn: gru_cell expects an input of width 3 ([3] or [batch, 3]), got [2, 4]",
                         etape::shape_error);
    const std::vector<etape::tensor<float>> steps_given{etape::tensor<float>({2, 3}), etape::tensor<float>({2, 2})};
    CHECK_THROWS_WITH_AS((void)nn::unroll(gru, steps_given, gru.zero_state(2)),
                         "etape::nn: gru_cell expects an input of width 3 ([3] or [batch, 3]), got [2, 2]",
                         etape::shape_error);
    nn::rnn_cell<float> rnn(3, 4);
    CHECK_THROWS_WITH_AS((void)rnn(etape::tensor<float>({2, 3}), rnn.zero_state()),
                         "etape::nn: rnn_cell expects a state h of shape [2, 4] with the input [2, 3], got [4]",
                         etape::shape_error);
    CHECK_THROWS_WITH_AS((void)nn::lstm_cell<float>(3, 0), "etape::nn: lstm_cell needs a hidden size of at least 1",
                         std::invalid_argument);
}

TEST_CASE("recurrent cells: in anomaly mode a cell whose state turns inf from a finite input is named")
{
    etape::tape_scope<float> scope;
    nn::rnn_cell<float, nn::activation::relu> rnn(3, 4);
    rnn.set_name("encoder");
    for (std::size_t j = 0; j < 3; ++j)
        rnn.weight_ih.values()[4 * 3 - 1 - j] = 2e38f; // an update gone wrong: unit 3 sums to inf
    const etape::tensor<float> x({2, 3}, 1.0f);
    const etape::active_tensor<float> h = rnn.zero_state(2);
    scope.get().detect_anomalies();
    try {
        (void)rnn(x, h);
        FAIL("no anomaly reported");
    } catch (const etape::anomaly_error& e) {
        CHECK(std::string(e.what()).starts_with("etape::nn anomaly: encoder (rnn_cell) produced inf at element 3 "));
    }
    scope.get().detect_anomalies(false);
    CHECK(std::isinf(rnn(x, h).values()[3])); // off: the inf goes through
}

namespace {

/// A cell of a user's: h' = tanh(x W^T + decay h), W [hidden, inputs], with
/// the members nn::recurrent_cell asks for and nothing of etape's cells.
struct decaying_cell : nn::layer_name {
    BOOST_HANA_DEFINE_STRUCT(decaying_cell, (etape::active_tensor<double>, weight_ih));

    using value_type = double;
    using state_type = etape::active_tensor<double>;
    static constexpr double decay = 0.5;

    decaying_cell(std::size_t inputs, std::size_t hidden)
        : layer_name("decaying_cell"), weight_ih(etape::tensor<double>({hidden, inputs}))
    {
    }

    template <class X>
    [[nodiscard]] state_type operator()(const X& x, const state_type& h) const
    {
        return step_from_projection(etape::matmul(x, weight_ih, etape::transpose::no, etape::transpose::yes), h);
    }
    [[nodiscard]] state_type step_from_projection(const etape::active_tensor<double>& projection,
                                                  const state_type& h) const
    {
        return etape::tanh(projection + decay * h);
    }

    [[nodiscard]] std::size_t inputs() const noexcept { return weight_ih.shape()[1]; }
    [[nodiscard]] std::size_t hidden() const noexcept { return weight_ih.shape()[0]; }
};

static_assert(nn::recurrent_cell<decaying_cell>);
static_assert(nn::recurrent_cell<nn::lstm_cell<float>>);

/// A cell whose state is neither an active tensor nor an lstm_state, which
/// nn::unroll cannot hand on as its outputs.
struct pair_state_cell : decaying_cell {
    using state_type = std::pair<etape::active_tensor<double>, etape::active_tensor<double>>;
    state_type operator()(const etape::active_tensor<double>&, const state_type& state) const { return state; }
    state_type step_from_projection(const etape::active_tensor<double>&, const state_type& state) const
    {
        return state;
    }
};

static_assert(!nn::recurrent_cell<pair_state_cell>);

} // namespace

TEST_CASE("recurrent cells: nn::unroll runs a user's cell, its gradients against central differences")
{
    etape::tape_scope<double> scope;
    decaying_cell cell(inputs, hidden);
    const etape::tensor<double> w = etape_test::spread<double>({hidden, inputs}, 0.8);
    std::ranges::copy(w.values(), cell.weight_ih.values().begin());
    const etape::tensor<double> xs0 = etape_test::spread<double>({steps, batch, inputs}, 1.2);
    const etape::tensor<double> h00 = etape_test::spread<double>({batch, hidden}, 0.6);
    const std::size_t step_size = batch * inputs, state_size = batch * hidden;

    // loss = sum(last h * last h), by hand, of the variables xs, h0, W (flat)
    const auto loss_of = [&](std::span<const ld> v) {
        const ld* weight = v.data() + steps * step_size + state_size;
        std::vector<ld> h(v.begin() + steps * step_size, v.begin() + steps * step_size + state_size);
        for (std::size_t t = 0; t < steps; ++t) {
            std::vector<ld> next(state_size);
            for (std::size_t r = 0; r < batch; ++r)
                for (std::size_t q = 0; q < hidden; ++q) {
                    ld a = ld(decaying_cell::decay) * h[r * hidden + q];
                    for (std::size_t j = 0; j < inputs; ++j)
                        a += v[t * step_size + r * inputs + j] * weight[q * inputs + j];
                    next[r * hidden + q] = std::tanh(a);
                }
            h = next;
        }
        ld loss = 0;
        for (const ld y : h)
            loss += y * y;
        return loss;
    };

    const etape::active_tensor<double> xs(xs0), h0(h00);
    std::vector<etape::tensor<double>> per_step;
    for (std::size_t t = 0; t < steps; ++t)
        per_step.emplace_back(etape::shape{batch, inputs}, xs0.values().subspan(t * step_size, step_size));
    const etape::active_tensor<double> last = nn::unroll(cell, xs, h0);
    const etape::active_tensor<double> last_of_range = nn::unroll(cell, per_step, h0);
    for (std::size_t k = 0; k < state_size; ++k)
        CHECK(last_of_range.values()[k] == doctest::Approx(last.values()[k]));

    const etape::var<double> loss = etape::sum(last * last);
    std::vector<double> at(xs0.values().begin(), xs0.values().end());
    at.insert(at.end(), h00.values().begin(), h00.values().end());
    at.insert(at.end(), w.values().begin(), w.values().end());
    CHECK(loss.value() == doctest::Approx(static_cast<double>(loss_of(std::vector<ld>(at.begin(), at.end())))));
    const auto [gx, gh, gw] = etape::gradient(loss, xs, h0, cell.weight_ih);
    std::vector<double> g(gx.values().begin(), gx.values().end());
    g.insert(g.end(), gh.values().begin(), gh.values().end());
    g.insert(g.end(), gw.values().begin(), gw.values().end());
    etape_test::check_against_differences<double>(loss_of, at, g);
}
