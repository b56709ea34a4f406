// Long dependencies in recurrent networks: the adding problem (Hochreiter
// and Schmidhuber, 1997). Each step of a sequence is a value uniform in
// [0, 1] and a marker that is 1 at two steps only, one in each half; the
// target is the sum of the two marked values, so the network must carry a
// value across about half the sequence. An ELU RNN (nn::rnn_cell with
// activation::elu), once with PyTorch's uniform initialisation and once
// with orthogonal recurrent weights, and an LSTM read the sequence, and a
// linear layer maps the last hidden state to the sum. All three train on
// the same batches from the same seed; the program prints the test MSE
// along the way and compares it with the trivial baseline, which always
// predicts 1, the target's mean (MSE 1/6). Run:
//   ./rnn_sequence [length] [training steps]      (defaults 50 and 5000)
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

#include <boost/hana/define_struct.hpp>
#include <fmt/core.h>

#include <etape/nn.hpp>

#include "count_argument.hpp"

namespace nn = etape::nn;

constexpr std::size_t default_length = 50;
constexpr std::size_t default_training_steps = 5000;
constexpr std::size_t inputs_per_step = 2; // the value and the marker
constexpr std::size_t hidden_width = 32;
constexpr std::size_t batch_size = 64;
constexpr std::size_t test_size = 1000;
constexpr float initial_learning_rate = 2e-3f; // at the start; a cosine takes it to 0 by the last step
constexpr float max_gradient_norm = 1.0f;
constexpr std::size_t evaluations = 5; // test MSEs printed after the untrained one
constexpr float baseline_prediction = 1.0f;

/// Sequences of the adding problem, [length, count, 2], and their targets, [count, 1].
struct adding_problem {
    etape::tensor<float> sequences;
    etape::tensor<float> sums;
};

/// `count` sequences of `length` steps (at least 2): values uniform in
/// [0, 1), one marker at a uniform step of the first half and one of the
/// second half.
adding_problem draw_adding_problem(std::size_t length, std::size_t count, nn::random_generator& random)
{
    adding_problem problem{etape::tensor<float>({length, count, inputs_per_step}), etape::tensor<float>({count, 1})};
    const std::size_t half = length / 2;
    for (std::size_t s = 0; s < count; ++s) {
        for (std::size_t t = 0; t < length; ++t)
            problem.sequences(t, s, 0) = random.uniform<float>();
        const std::size_t first = random.below(half), second = half + random.below(length - half);
        problem.sequences(first, s, 1) = 1;
        problem.sequences(second, s, 1) = 1;
        problem.sums(s, 0) = problem.sequences(first, s, 0) + problem.sequences(second, s, 0);
    }
    return problem;
}

/// The MSE of always predicting baseline_prediction.
double baseline_mse(const adding_problem& problem)
{
    double squares = 0;
    for (const float sum : problem.sums.values())
        squares += (static_cast<double>(sum) - baseline_prediction) * (static_cast<double>(sum) - baseline_prediction);
    return squares / static_cast<double>(problem.sums.size());
}

/// The hidden state h of a cell's state: itself for an RNN, h of an LSTM's {h, c}.
const etape::active_tensor<float>& hidden_state(const etape::active_tensor<float>& h) { return h; }
const etape::active_tensor<float>& hidden_state(const nn::lstm_state<float>& state) { return state.h; }

/// Reads a sequence [length, batch, 2] with a recurrent cell and maps its
/// last hidden state to one prediction per sequence, [batch, 1].
template <class Cell>
struct sequence_regressor {
    BOOST_HANA_DEFINE_STRUCT(sequence_regressor, (Cell, cell), (nn::dense<float>, readout));

    [[nodiscard]] etape::active_tensor<float> operator()(const etape::tensor<float>& sequences) const
    {
        const std::size_t batch = sequences.shape()[1];
        return readout(hidden_state(nn::unroll(cell, sequences, cell.zero_state(batch))));
    }
};

/// The model's MSE on `test`; the tape is left as it was found.
template <class Cell>
double test_mse(const sequence_regressor<Cell>& model, const adding_problem& test)
{
    etape::tape<float>& tape = etape::active_tape<float>();
    const etape::tape_position start = tape.position();
    const etape::var<float> mse = nn::mse(model(test.sequences), test.sums);
    const auto value = static_cast<double>(mse.value());
    tape.rewind(start);
    return value;
}

/// What every network trains and is tested on: the same sequences, drawn
/// from copies of the same generators, and the same initial draws.
struct protocol {
    std::size_t length;
    std::size_t training_steps;
    nn::random_generator initial; // the parameters' draws
    nn::random_generator batches; // the training sequences' draws
    const adding_problem& test;
};

/// Trains a fresh network built around make_cell() as `run` says, printing
/// the test MSE at evaluations + 1 points; returns the last test MSE.
template <class MakeCell>
double train(std::string_view name, MakeCell make_cell, protocol run)
{
    etape::tape_scope<float> scope;
    sequence_regressor<std::invoke_result_t<MakeCell>> model{make_cell(), {hidden_width, 1}};
    nn::initialize(model, run.initial);
    fmt::print("\n{}, {} parameters\n  {:>6}  {:>8}\n", name, nn::parameter_count(model), "step", "test MSE");

    nn::adam<float> optimizer(model, {.learning_rate = initial_learning_rate, .clip_norm = max_gradient_norm});
    const nn::cosine_decay<float> schedule{initial_learning_rate, run.training_steps};
    const std::size_t evaluation_every = std::max<std::size_t>(1, run.training_steps / evaluations);
    const auto began = std::chrono::steady_clock::now();
    const etape::tape_position start = scope.get().position();
    double mse = 0;
    for (std::size_t step = 0;; ++step) {
        if (step % evaluation_every == 0 || step == run.training_steps) {
            mse = test_mse(model, run.test);
            fmt::print("  {:>6}  {:>8.4f}\n", step, mse);
        }
        if (step == run.training_steps)
            break;
        optimizer.set_learning_rate(schedule(step));
        const adding_problem batch = draw_adding_problem(run.length, batch_size, run.batches);
        const etape::var<float> loss = nn::mse(model(batch.sequences), batch.sums);
        optimizer.step(loss);
        scope.get().rewind(start);
    }
    fmt::print("  (trained in {:.1f} s)\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
    return mse;
}

/// The closing line for one network, which a test can match.
void print_verdict(std::string_view name, double mse, double baseline)
{
    const std::string against = fmt::format("{}: test MSE {:.4f} against the baseline's {:.4f}", name, mse, baseline);
    if (mse < baseline)
        fmt::print("{}, {:.3g} times lower\n", against, baseline / mse);
    else
        fmt::print("{}, not below it\n", against);
}

int main(int argc, char** argv)
{
    std::size_t length = default_length, training_steps = default_training_steps;
    if (argc > 1) {
        const auto l = count_argument("rnn_sequence", "length", argv[1], 2);
        if (!l)
            return 2;
        length = *l;
    }
    if (argc > 2) {
        const auto s = count_argument("rnn_sequence", "training steps", argv[2], 1);
        if (!s)
            return 2;
        training_steps = *s;
    }

    nn::random_generator random(1);
    const adding_problem test = draw_adding_problem(length, test_size, random);
    const protocol run{length, training_steps, random.split(), random.split(), test};
    const double baseline = baseline_mse(test);
    fmt::print("The adding problem: {} steps of (value uniform in [0, 1], marker); the markers pick one value in "
               "each half,\nand the target is their sum.\n",
               length);
    fmt::print("Training: {} step{} of {} fresh sequences, Adam from learning rate {} down to 0 (cosine), gradient "
               "norm\nclipped at {}, hidden width {}, a linear readout of the last hidden state; seed 1. Uniform "
               "init:\nPyTorch's, every weight and bias U(-1/sqrt(hidden), 1/sqrt(hidden)); orthogonal init: "
               "weight_hh\na random orthogonal matrix instead.\n",
               training_steps, training_steps == 1 ? "" : "s", batch_size, initial_learning_rate, max_gradient_norm,
               hidden_width);
    fmt::print("Test: {} held-out sequences. Trivial baseline (always predict {}, the target's mean): test MSE "
               "{:.4f}\n",
               test_size, baseline_prediction, baseline);

    using elu_rnn = nn::rnn_cell<float, nn::activation::elu>;
    const double uniform_rnn =
        train("ELU RNN (uniform init)", [] { return elu_rnn(inputs_per_step, hidden_width); }, run);
    const double orthogonal_rnn = train(
        "ELU RNN (orthogonal init)",
        [] { return elu_rnn(inputs_per_step, hidden_width, {}, nn::recurrent_init::orthogonal); }, run);
    const double lstm = train("LSTM", [] { return nn::lstm_cell<float>(inputs_per_step, hidden_width); }, run);

    fmt::print("\n");
    print_verdict("ELU RNN (uniform init)", uniform_rnn, baseline);
    print_verdict("ELU RNN (orthogonal init)", orthogonal_rnn, baseline);
    print_verdict("LSTM", lstm, baseline);
    return 0;
}
