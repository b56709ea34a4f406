// Which activations keep gradients alive in depth: an MLP of 16 hidden
// layers of 64 units on the embedded digits, trained for 5 epochs with
// ELU, ReLU, SELU, tanh and sigmoid (each with the initialisation that
// suits it), printing each layer's weight-gradient norm at initialisation
// and after training, the ratio of the first layer's to the last's, and the
// test accuracy; with gnuplot installed it also draws deep_mlp.png. Run:
//   ./deep_mlp [layers] [epochs]                  (defaults 16 and 5; at most 256 and 1000)
#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include <etape/lab/activation_registry.hpp>
#include <etape/lab/experiment.hpp>
#include <etape/lab/plots.hpp>
#include <etape/nn/digits.hpp>

#include "count_argument.hpp"

constexpr std::size_t default_layers = 16, default_epochs = 5;

int main(int argc, char** argv)
{
    if (argc > 3) {
        fmt::print(stderr, "deep_mlp: usage: deep_mlp [layers] [epochs]\n");
        return 2;
    }
    const std::optional<std::size_t> layers =
        argc > 1 ? count_argument("deep_mlp", "layers", argv[1], 1, 256) : std::optional(default_layers);
    const std::optional<std::size_t> epoch_count =
        argc > 2 ? count_argument("deep_mlp", "epochs", argv[2], 1, 1000) : std::optional(default_epochs);
    if (!layers || !epoch_count)
        return 2;
    const std::size_t depth = *layers, epochs = *epoch_count;
    const auto digits = etape::nn::digits<float>();
    const etape::lab::registry registry = etape::lab::registry::builtin();
    const etape::lab::protocol protocol{.hidden = std::vector<std::size_t>(depth, 64), .epochs = epochs};

    fmt::print("MLP 64-{}x64-10 on digits, Adam 1e-3, batch 32, {} epoch{}, seed 1\n", depth, epochs,
               epochs == 1 ? "" : "s");
    fmt::print("weight-gradient norm per layer (1 = next to the input), at initialisation | after training\n\n");
    std::vector<etape::lab::run_result> runs;
    for (const char* name : {"elu", "relu", "selu", "tanh", "sigmoid"})
        runs.push_back(etape::lab::train(digits, registry.make(name), protocol, 1));

    fmt::print("{:>6}", "layer");
    for (const auto& r : runs)
        fmt::print("  {:>23}", r.activation);
    fmt::print("\n");
    for (std::size_t l = 0; l <= depth; ++l) {
        fmt::print("{:>6}", l < depth ? std::to_string(l + 1) : std::string("out"));
        for (const auto& r : runs)
            fmt::print("  {:>10.3g} | {:>10.3g}", r.initial_gradient_norms[l],
                       r.final_gradient_norms.empty() ? 0.0 : r.final_gradient_norms[l]);
        fmt::print("\n");
    }
    fmt::print("\n{:>6}", "1/last");
    for (const auto& r : runs)
        fmt::print("  {:>10.3g} | {:>10.3g}", r.initial_gradient_norms.front() / r.initial_gradient_norms[depth - 1],
                   r.final_gradient_norms.empty() ? 0.0
                                                  : r.final_gradient_norms.front() / r.final_gradient_norms[depth - 1]);
    fmt::print("\n{:>6}", "test");
    for (const auto& r : runs)
        fmt::print("  {:>21.1f} %", 100 * r.epochs.back().test_accuracy);
    fmt::print("\n\nA ratio far below 1 means the gradient shrinks on its way back to the first layers.\n");

    const std::filesystem::path gnuplot = etape::lab::find_program("gnuplot");
    if (gnuplot.empty()) {
        fmt::print("no plot: gnuplot is not installed (Debian: apt-get install gnuplot-nox)\n");
        return 0;
    }
    std::string script = "set terminal pngcairo size 900,560 noenhanced\nset output 'deep_mlp.png'\nset grid\n"
                         "set logscale y\nset key outside right\nset xlabel 'hidden layer (1 = next to the input)'\n"
                         "set ylabel 'weight-gradient norm at initialisation'\nset title 'gradient norm in depth'\n";
    // whole layers on the x axis, half a layer of margin on each side (one layer included)
    script += fmt::format("set xrange [0.5:{}.5]\nset xtics {}\nplot ", depth, std::max<std::size_t>(1, depth / 8));
    for (std::size_t k = 0; k < runs.size(); ++k)
        script += fmt::format("{}'-' using 1:2 with linespoints title '{}'", k == 0 ? "" : ", ", runs[k].activation);
    script += "\n";
    for (const auto& r : runs) {
        for (std::size_t l = 0; l < depth; ++l)
            script += fmt::format("{} {}\n", l + 1, r.initial_gradient_norms[l]);
        script += "e\n";
    }
    etape::lab::write_atomically("deep_mlp.gp", script);
    const int status = std::system(("'" + gnuplot.string() + "' deep_mlp.gp").c_str());
    std::filesystem::remove("deep_mlp.gp");
    if (status != 0) {
        fmt::print(stderr, "gnuplot failed: no plot\n");
        return 1;
    }
    fmt::print("plot: deep_mlp.png\n");
    return 0;
}
