// Recurrent cells (Elman RNN, GRU, LSTM) and nn::unroll: each step against
// a hand computation in long double, gradients of an unroll of 3 steps with
// respect to the inputs, the initial state and every parameter against
// central differences, the nodes a step records, first writers, a single
// sample, initialisation, and errors naming the layer.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
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
        step_inputs.emplace_back(etape::tensor<double>({batch, inputs}, xs0.values().subspan(t * step_size, step_size)));
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
    const auto fd = etape::finite_difference_gradient(loss_of, std::span<const double>(at));
    const auto report = etape::compare_gradients(std::span<const double>(g), std::span<const long double>(fd),
                                                 etape::gradient_check_options::for_type<double>());
    INFO(fmt::format("{}", report));
    CHECK(report.passed);
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
