// etape_bench_lab: the activation lab's time per epoch on its digits MLP
// protocol (64-128-128-10, ELU, Adam 1e-3, batch 32, 1,437 training rows),
// etape's lab against the same protocol in libtorch where it was found at
// build. Float, one thread everywhere.
//
//   lab/digits_mlp/etape   etape::lab::train
//   lab/digits_mlp/torch   bench/lab/impl_torch.cpp
//
// An iteration trains three epochs from a new seed and reports the second
// one's training loop as its (manual) time: the first and the last epoch of
// a lab run also take the gradient norms per layer, and the measurements
// after each epoch (test accuracy, activation moments) are not part of the
// epoch on either side. bench/lab_vs_torch.sh runs it and prints the ratio
// of the medians.
//
//   etape_bench_lab --accuracy
// instead trains the whole protocol (30 epochs, seeds 1 to 5) with ELU,
// ReLU and SELU in etape's lab and in libtorch, each from the lab's start
// (weights as the activation suits, biases 0) and from PyTorch's default
// (lab --init pytorch), and prints the test accuracies.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <cblas.h>
#include <fmt/core.h>

#include <etape/lab/activation_registry.hpp>
#include <etape/lab/experiment.hpp>
#include <etape/nn/digits.hpp>

#include "lab_torch.hpp"

namespace etape_lab_bench {
namespace {

const etape::nn::data_split<float>& digits()
{
    static const etape::nn::data_split<float> split = etape::nn::digits<float>();
    return split;
}

digits_rows digits_as_rows()
{
    const etape::nn::data_split<float>& d = digits();
    digits_rows rows;
    rows.features = d.train.features.shape()[1];
    rows.classes = d.train.classes;
    rows.train_x.assign(d.train.features.values().begin(), d.train.features.values().end());
    rows.test_x.assign(d.test.features.values().begin(), d.test.features.values().end());
    for (const std::size_t label : d.train.labels)
        rows.train_y.push_back(static_cast<std::int64_t>(label));
    for (const std::size_t label : d.test.labels)
        rows.test_y.push_back(static_cast<std::int64_t>(label));
    return rows;
}

constexpr std::size_t epochs_per_iteration = 3;

void etape_epoch(benchmark::State& state)
{
    const etape::lab::activation elu = etape::lab::registry::builtin().make("elu");
    const etape::lab::protocol plan{.epochs = epochs_per_iteration};
    unsigned seed = 1;
    for (auto _ : state) {
        const etape::lab::run_result run = etape::lab::train(digits(), elu, plan, seed++);
        state.SetIterationTime(run.epochs[1].seconds);
    }
}
BENCHMARK(etape_epoch)->Name("lab/digits_mlp/etape")->UseManualTime()->Unit(benchmark::kMillisecond);

#if ETAPE_BENCH_HAVE_TORCH
void torch_epoch(benchmark::State& state)
{
    static const digits_rows rows = digits_as_rows();
    torch_protocol plan{.epochs = epochs_per_iteration};
    for (auto _ : state) {
        const torch_run run = train_torch(rows, plan);
        ++plan.seed;
        state.SetIterationTime(run.epoch_seconds[1]);
    }
}
BENCHMARK(torch_epoch)->Name("lab/digits_mlp/torch")->UseManualTime()->Unit(benchmark::kMillisecond);
#endif

struct mean_and_spread {
    double mean = 0, stddev = 0;
};

mean_and_spread of(const std::vector<double>& xs)
{
    mean_and_spread m;
    for (const double x : xs)
        m.mean += x / static_cast<double>(xs.size());
    for (const double x : xs)
        m.stddev += (x - m.mean) * (x - m.mean) / static_cast<double>(xs.size() - 1);
    m.stddev = std::sqrt(m.stddev);
    return m;
}

int print_accuracies()
{
    constexpr unsigned seeds = 5;
    const etape::lab::registry registry = etape::lab::registry::builtin();
    const etape::lab::protocol plan; // the lab's defaults: the protocol
    fmt::print("digits, MLP 64-128-128-10, Adam 1e-3, batch 32, 30 epochs, seeds 1 to {}: test accuracy, mean ± "
               "sample std\n\n",
               seeds);
    fmt::print("{:<10} {:>14} {:>14} {:>16} {:>14}\n", "", "the lab's start", "", "PyTorch's start", "");
    fmt::print("{:<10} {:>14} {:>14} {:>16} {:>14}\n", "activation", "etape lab", "libtorch", "etape lab", "libtorch");
    const std::pair<const char*, activation> activations[] = {
        {"elu", activation::elu}, {"relu", activation::relu}, {"selu", activation::selu}};
    [[maybe_unused]] const digits_rows rows = digits_as_rows();
    for (const auto& [name, act] : activations) {
        std::vector<double> lab, lab_pytorch_start, torch_lab_start, torch_default;
        for (unsigned seed = 1; seed <= seeds; ++seed) {
            lab.push_back(etape::lab::train(digits(), registry.make(name), plan, seed).epochs.back().test_accuracy);
            etape::lab::protocol pytorch_start = plan;
            pytorch_start.start = etape::lab::start::pytorch;
            lab_pytorch_start.push_back(
                etape::lab::train(digits(), registry.make(name), pytorch_start, seed).epochs.back().test_accuracy);
#if ETAPE_BENCH_HAVE_TORCH
            for (const start init : {start::as_the_lab, start::torch_default})
                (init == start::as_the_lab ? torch_lab_start : torch_default)
                    .push_back(train_torch(rows, {.act = act, .init = init, .seed = seed}).test_accuracy);
#endif
        }
        const auto cell = [](const std::vector<double>& xs) {
            if (xs.empty())
                return std::string("(no libtorch)");
            const mean_and_spread m = of(xs);
            return fmt::format("{:.1f} ± {:.1f} %", 100 * m.mean, 100 * m.stddev);
        };
        fmt::print("{:<10} {:>14} {:>14} {:>16} {:>14}\n", name, cell(lab), cell(torch_lab_start),
                   cell(lab_pytorch_start), cell(torch_default));
    }
    return 0;
}

} // namespace
} // namespace etape_lab_bench

int main(int argc, char** argv)
{
    openblas_set_num_threads(1);
    if (argc == 2 && std::strcmp(argv[1], "--accuracy") == 0)
        return etape_lab_bench::print_accuracies();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
