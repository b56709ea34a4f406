// The case table of the network benchmark and each case's data: inputs,
// labels and starting parameters drawn once from a fixed seed, so that every
// implementation and every run starts from the same numbers.
#include "nn_cases.hpp"

#include <cmath>

#include "cases.hpp" // bench/scalar: input_stream

namespace etape_nn_bench {
namespace {

using etape_bench::input_stream;

std::vector<float> uniform(input_stream& rng, std::size_t n, double bound)
{
    std::vector<float> v(n);
    for (float& x : v)
        x = static_cast<float>(rng.uniform(-bound, bound));
    return v;
}

/// A dense layer's weight [outputs, inputs], He uniform (suits ELU), and a
/// small nonzero bias, so that the bias's gradient and update are checked too.
void add_dense(case_data& c, input_stream& rng, const std::string& name, std::size_t inputs, std::size_t outputs)
{
    const double bound = std::sqrt(6.0 / static_cast<double>(inputs));
    c.parameters.push_back({name + ".weight", {outputs, inputs}, uniform(rng, outputs * inputs, bound)});
    c.parameters.push_back({name + ".bias", {outputs}, uniform(rng, outputs, 0.1)});
}

void add_conv(case_data& c, input_stream& rng, const std::string& name, std::size_t channels, std::size_t filters)
{
    const double bound = std::sqrt(6.0 / static_cast<double>(channels * 9));
    c.parameters.push_back({name + ".weight", {filters, channels, 3, 3}, uniform(rng, filters * channels * 9, bound)});
    c.parameters.push_back({name + ".bias", {filters}, uniform(rng, filters, 0.1)});
}

void draw_labels(case_data& c, input_stream& rng)
{
    c.labels.resize(c.batch);
    for (std::size_t& label : c.labels)
        label = static_cast<std::size_t>(rng.uniform(0.0, static_cast<double>(c.classes)));
}

case_data mlp(network what, std::size_t batch, std::vector<std::size_t> widths)
{
    case_data c{.what = what, .update = optimizer::sgd, .learning_rate = 0.01f, .batch = batch, .widths = widths};
    input_stream rng(what == network::mlp_small ? 16 : 17);
    c.x = uniform(rng, batch * widths[0], 1.0);
    draw_labels(c, rng);
    add_dense(c, rng, "l1", widths[0], widths[1]);
    add_dense(c, rng, "l2", widths[1], widths[2]);
    add_dense(c, rng, "out", widths[2], widths[3]);
    return c;
}

case_data cnn()
{
    case_data c{.what = network::cnn, .update = optimizer::adam, .learning_rate = 0.001f, .batch = 64, .image = 28};
    input_stream rng(18);
    c.x.resize(c.batch * c.image * c.image);
    for (float& v : c.x)
        v = static_cast<float>(rng.uniform(0.0, 1.0)); // pixels in [0, 1)
    draw_labels(c, rng);
    add_conv(c, rng, "conv1", 1, 32);
    add_conv(c, rng, "conv2", 32, 64);
    add_dense(c, rng, "hidden", 64 * 5 * 5, 128);
    add_dense(c, rng, "out", 128, c.classes);
    return c;
}

case_data lstm()
{
    case_data c{.what = network::lstm, .update = optimizer::sgd, .learning_rate = 0.01f, .batch = 32};
    c.steps = 32;
    c.inputs = 64;
    c.hidden = 128;
    input_stream rng(19);
    c.x = uniform(rng, c.steps * c.batch * c.inputs, 1.0);
    draw_labels(c, rng);
    // PyTorch's initialisation of an LSTM: everything U(-1/sqrt(hidden), 1/sqrt(hidden))
    const double bound = 1.0 / std::sqrt(static_cast<double>(c.hidden));
    const std::size_t rows = 4 * c.hidden;
    c.parameters.push_back({"lstm.weight_ih", {rows, c.inputs}, uniform(rng, rows * c.inputs, bound)});
    c.parameters.push_back({"lstm.weight_hh", {rows, c.hidden}, uniform(rng, rows * c.hidden, bound)});
    c.parameters.push_back({"lstm.bias_ih", {rows}, uniform(rng, rows, bound)});
    c.parameters.push_back({"lstm.bias_hh", {rows}, uniform(rng, rows, bound)});
    add_dense(c, rng, "out", c.hidden, c.classes);
    return c;
}

} // namespace

std::string case_data::name() const
{
    switch (what) {
    case network::mlp_small:
        return "mlp_small";
    case network::mlp_large:
        return "mlp_large";
    case network::cnn:
        return "cnn";
    case network::lstm:
        return "lstm";
    }
    return "?";
}

std::size_t case_data::parameter_count() const
{
    std::size_t n = 0;
    for (const parameter& p : parameters)
        n += p.values.size();
    return n;
}

const std::vector<case_data>& all_cases()
{
    static const std::vector<case_data> cases{mlp(network::mlp_small, 64, {64, 256, 256, 10}),
                                              mlp(network::mlp_large, 128, {784, 512, 512, 10}), cnn(), lstm()};
    return cases;
}

} // namespace etape_nn_bench
