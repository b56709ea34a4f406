// etape-lab's command line as a library entry point: etape::lab::run(argc,
// argv, registry) parses the flags (CLI11), checks each activation's
// derivative, trains an MLP or a CNN with each over several seeds with a progress
// display, prints the summary table and writes the CSV of every epoch.
// A program of 20 lines registers its own primitive and calls it (docs/lab.md).
// Needs CLI11 (Debian: libcli11-dev). Layer: lab.
#pragma once

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#if __has_include(<unistd.h>)
#include <unistd.h> // isatty
#endif

#include <etape/lab/activation_registry.hpp>
#include <etape/lab/distribution.hpp>
#include <etape/lab/experiment.hpp>
#include <etape/lab/networks.hpp>
#include <etape/lab/plots.hpp>
#include <etape/lab/report.hpp>
#include <etape/nn/digits.hpp>
#include <etape/nn/fashion_mnist.hpp>

namespace etape::lab {

namespace detail {

/// CLI11 check of a flag that takes a positive finite number.
inline std::string positive_number(const std::string& text)
{
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !(v > 0) || !std::isfinite(v))
        return "needs a positive number, not " + text;
    return {};
}

/// The sizes of a network's layers, "64-32" (what fmt::join would write;
/// fmt's core API, which this header keeps to, has no join).
inline std::string dash_joined(const std::vector<std::size_t>& sizes)
{
    std::string text;
    for (const std::size_t n : sizes) {
        if (!text.empty())
            text += '-';
        text += std::to_string(n);
    }
    return text;
}

/// Progress over all the epochs of a lab run: a bar with the ETA, redrawn
/// in place on a terminal; a plain line per finished run otherwise.
class progress {
public:
    progress(std::size_t total_epochs, std::FILE* out)
        : total_(total_epochs), out_(out), began_(std::chrono::steady_clock::now()), terminal_(is_terminal(out))
    {
    }

    /// After an epoch of `run`.
    void epoch(const run_result& run)
    {
        ++done_;
        if (!terminal_)
            return;
        const double elapsed = seconds();
        const double eta = elapsed / static_cast<double>(done_) * static_cast<double>(total_ - done_);
        constexpr std::size_t bar = 30;
        const std::size_t filled = bar * done_ / total_;
        fmt::print(out_, "\r[{:#<{}}{:.<{}}] {:3}%  {}, seed {}, epoch {}  ETA {:.0f} s   ", "", filled, "",
                   bar - filled, 100 * done_ / total_, run.activation, run.seed, run.epochs.size(), eta);
        std::fflush(out_);
    }

    /// After a whole run; `skipped` epochs were not trained (it diverged).
    void finished(const run_result& run, std::size_t skipped)
    {
        done_ += skipped;
        const std::string what =
            run.diverged_at ? fmt::format("loss not finite at epoch {}: stopped", *run.diverged_at)
                            : fmt::format("test accuracy {:.1f} %", 100 * run.epochs.back().test_accuracy);
        if (terminal_)
            fmt::print(out_, "\r{:<100}\r", "");
        if (!terminal_ || run.diverged_at)
            fmt::print(out_, "{} seed {}: {} epoch{}, {} ({:.1f} s so far)\n", run.activation, run.seed,
                       run.epochs.size(), run.epochs.size() == 1 ? "" : "s", what, seconds());
        std::fflush(out_);
    }

private:
    static bool is_terminal([[maybe_unused]] std::FILE* f)
    {
#if __has_include(<unistd.h>)
        return ::isatty(::fileno(f)) != 0;
#else
        return false;
#endif
    }
    [[nodiscard]] double seconds() const
    {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - began_).count();
    }

    std::size_t total_, done_ = 0;
    std::FILE* out_;
    std::chrono::steady_clock::time_point began_;
    bool terminal_;
};

} // namespace detail

/// What run does for a flag the command line leaves out, where a program
/// chooses otherwise than etape-lab (one that registers an activation of
/// its own compares it by default).
struct run_defaults {
    std::string activations = "elu,relu,selu"; ///< --activations
};

/// The lab's command line (`--help` lists the flags, with `defaults`);
/// returns the exit status: 0, 1 when an activation fails its derivative
/// check or a file cannot be written, 2 for a flag out of range (one line
/// naming it). With `across`, every process runs it alike and trains on its
/// share of each batch (lab::train); process 0 alone prints and writes the
/// CSV and the plots, and the table is the one a single process gives,
/// within the rounding of a sum in another order.
inline int run(int argc, char** argv, const registry& activations, const run_defaults& defaults,
               distribution* across = nullptr)
{
    const bool speaks = across == nullptr || across->rank() == 0;
    std::string list = defaults.activations;
    protocol plan;
    unsigned seeds = 5;
    std::string csv = "etape-lab.csv";
    std::string plots = "etape-lab-plots";
    std::string data_choice = "digits";
    std::string fashion_folder(nn::fashion_mnist_folder);

    CLI::App app{"etape-lab: trains an MLP or a CNN on the embedded digits or Fashion-MNIST with each activation "
                 "over several seeds, and prints how they compare"};
    app.add_option("--activations", list,
                   "activations to compare, comma-separated, parameters after a colon and between semicolons "
                   "(elu:alpha=0.5,relu,softplus:beta=2;threshold=10)")
        ->capture_default_str();
    // by name only (an enum's CheckedTransformer would also take its numbers, and list them in --help)
    std::string architecture_name = "mlp";
    app.add_option("--architecture", architecture_name,
                   "mlp (dense layers), or cnn (3x3 convolutions with 2x2 max pooling, then the dense layers)")
        ->transform(CLI::IsMember({"mlp", "cnn"}, CLI::ignore_case))
        ->capture_default_str();
    std::string start_name = "suited";
    app.add_option("--init", start_name,
                   "suited (weights as each activation suits: He, LeCun or Glorot; biases 0), or pytorch "
                   "(torch.nn.Linear's and Conv2d's default: weights and biases uniform in +-1/sqrt(fan_in))")
        ->transform(CLI::IsMember({"suited", "pytorch"}, CLI::ignore_case))
        ->capture_default_str();
    app.add_option("--filters", plan.filters, "cnn: filters of each convolution")
        ->delimiter(',')
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 12))
        ->capture_default_str();
    app.add_option("--hidden", plan.hidden, "hidden dense layer widths")
        ->delimiter(',')
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 16))
        ->capture_default_str();
    app.add_option("--epochs", plan.epochs, "epochs per run")->check(CLI::Range(1, 100000))->capture_default_str();
    app.add_option("--batch", plan.batch_size, "minibatch size")->check(CLI::Range(1, 1 << 20))->capture_default_str();
    app.add_option("--learning-rate", plan.learning_rate, "Adam's learning rate")
        ->check(detail::positive_number)
        ->capture_default_str();
    app.add_option("--weight-decay", plan.weight_decay, "decoupled weight decay (AdamW; 0: plain Adam)")
        ->check(CLI::Range(0.0f, 1.0f))
        ->capture_default_str();
    app.add_option("--shift", plan.shift,
                   "augmentation: each training image moved by up to this many pixels along each axis (0: none)")
        ->check(CLI::Range(0, 64))
        ->capture_default_str();
    app.add_option("--seeds", seeds, "runs per activation, seeds 1, 2, ...")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    app.add_option("--loss-target", plan.loss_target, "the training loss whose first crossing is reported")
        ->check(detail::positive_number)
        ->capture_default_str();
    app.add_option("--data", data_choice,
                   "digits (embedded, 8x8) or fashion (Fashion-MNIST, 28x28, from Debian's dataset-fashion-mnist; "
                   "the digits when it is not installed)")
        ->check(CLI::IsMember({"digits", "fashion"}))
        ->capture_default_str();
    app.add_option("--fashion-folder", fashion_folder, "where Fashion-MNIST's four IDX files are")
        ->capture_default_str();
    app.add_option("--csv", csv, "file for every epoch of every run (written atomically)")->capture_default_str();
    app.add_option("--plots", plots, "folder for the PNG plots (drawn when gnuplot is installed)")
        ->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0)
            return speaks ? app.exit(e) : 0; // --help
        if (speaks)
            fmt::print(stderr, "etape-lab: {}\n", e.what());
        return 2;
    }
    plan.architecture = architecture_name == "cnn" ? architecture::cnn : architecture::mlp;
    plan.start = start_name == "pytorch" ? start::pytorch : start::suited;

    std::vector<activation> chosen;
    try {
        chosen = activations.parse(list);
    } catch (const std::invalid_argument& e) {
        if (speaks)
            fmt::print(stderr, "{}\n", e.what());
        return 2;
    }
    for (const activation& a : chosen) {
        const auto check = a.check();
        if (!check.passed) {
            if (speaks)
                fmt::print(stderr,
                       "etape-lab: {}'s derivative disagrees with central differences at x = {} ({} against {})\n",
                       a.label(), check_points[check.worst], check.reverse[check.worst],
                       static_cast<double>(check.finite_difference[check.worst]));
            return 1;
        }
    }

    std::string data_name = data_choice;
    nn::data_split<float> data;
    if (data_choice == "fashion") {
        std::error_code error;
        if (!std::filesystem::exists(fashion_folder, error)) {
            if (speaks)
                fmt::print(stderr,
                       "etape-lab: Fashion-MNIST is not installed in {} (Debian: apt-get install "
                       "dataset-fashion-mnist): training on the digits instead\n",
                       fashion_folder);
            data_name = "digits";
        } else {
            try {
                data = nn::fashion_mnist<float>(fashion_folder);
            } catch (const std::exception& e) {
                fmt::print(stderr, "{}\n", e.what());
                return 1;
            }
        }
    }
    if (data_name == "digits")
        data = nn::digits<float>();
    for (nn::dataset<float>* part : {&data.train, &data.test}) // images as rows: the CNN reshapes them back
        part->features = part->features.reshape({part->rows(), part->features.size() / part->rows()});
    try {
        nn::random_generator unused(0);
        tape_scope<float> scope;
        (void)build_network(plan, chosen.front(), data.train.features.shape()[1], data.train.classes, unused);
    } catch (const std::invalid_argument& e) {
        if (speaks)
            fmt::print(stderr, "{}\n", e.what());
        return 2;
    }
    const std::string shape =
        plan.architecture == architecture::cnn
            ? fmt::format("CNN conv3x3 {} (each with 2x2 max pooling), dense {}", detail::dash_joined(plan.filters),
                          detail::dash_joined(plan.hidden))
            : fmt::format("MLP {}-{}-{}", data.train.features.shape()[1], detail::dash_joined(plan.hidden),
                          data.train.classes);
    const std::string optimizer =
        plan.weight_decay > 0 ? fmt::format("AdamW {} (weight decay {})", plan.learning_rate, plan.weight_decay)
                              : fmt::format("Adam {}", plan.learning_rate);
    const std::string augmentation =
        plan.shift > 0 ? fmt::format(", images shifted by up to {} pixel{}", plan.shift, plan.shift > 1 ? "s" : "")
                       : std::string();
    const std::string_view start_text = plan.start == start::pytorch ? ", PyTorch's default start" : "";
    const std::string processes =
        across != nullptr && across->ranks() > 1
            ? fmt::format(" split over {} processes", across->ranks())
            : std::string();
    if (speaks) {
        fmt::print("etape-lab: {}{} on {} ({} training rows, {} test rows), {}, batch {}{}{}, {} epoch{}, {}\n", shape,
                   start_text, data_name == "fashion" ? "Fashion-MNIST" : "digits", data.train.rows(),
                   data.test.rows(), optimizer, plan.batch_size, processes, augmentation, plan.epochs,
                   plan.epochs == 1 ? "" : "s", seeds == 1 ? std::string("seed 1") : fmt::format("seeds 1 to {}", seeds));
        std::fflush(stdout); // before the progress, which goes to stderr
    }

    // the lab's own work (progress, summaries, table, CSV), timed to show it stays small beside training
    double own_seconds = 0;
    const auto timed = [&own_seconds](auto&& work) {
        const auto began = std::chrono::steady_clock::now();
        work();
        own_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    };
    detail::progress shown(chosen.size() * seeds * plan.epochs, stderr);
    std::vector<run_result> every_run;
    std::vector<activation_summary> summaries;
    for (const activation& a : chosen) {
        std::vector<run_result> runs;
        for (unsigned seed = 1; seed <= seeds; ++seed) {
            runs.push_back(train(
                data, a, plan, seed,
                [&](const run_result& r) {
                    if (speaks)
                        timed([&] { shown.epoch(r); });
                },
                across));
            if (speaks)
                timed([&] {
                    shown.finished(runs.back(),
                                   plan.epochs - runs.back().epochs.size() + (runs.back().diverged_at ? 1 : 0));
                });
        }
        timed([&] { summaries.push_back(summarize(runs, plan.loss_target)); });
        every_run.insert(every_run.end(), runs.begin(), runs.end());
    }
    if (!speaks)
        return 0;
    try {
        timed([&] {
            fmt::print("\n{}", summary_table(summaries, plan.loss_target));
            write_atomically(csv, epochs_csv(every_run));
        });
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}\n", e.what());
        return 1;
    }
    double training_seconds = 0, measuring_seconds = 0;
    for (const run_result& r : every_run)
        for (const epoch_result& e : r.epochs) {
            training_seconds += e.seconds;
            measuring_seconds += e.measuring_seconds;
        }
    fmt::print("\ntime: training {:.2f} s, measuring after each epoch {:.2f} s, the lab's own work (progress, table, "
               "CSV) {:.4f} s = {:.2f} % of training\n",
               training_seconds, measuring_seconds, own_seconds, 100 * own_seconds / training_seconds);
    fmt::print("\nevery epoch of every run: {}\n", csv);
    const std::filesystem::path gnuplot = find_program("gnuplot");
    if (gnuplot.empty()) {
        fmt::print("no plots: gnuplot is not installed (Debian: apt-get install gnuplot-nox)\n");
        return 0;
    }
    try {
        for (const std::filesystem::path& png : write_plots(every_run, plots, gnuplot))
            fmt::print("plot: {}\n", png.string());
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}\n", e.what());
        return 1;
    }
    return 0;
}

/// run with etape-lab's defaults.
inline int run(int argc, char** argv, const registry& activations, distribution* across = nullptr)
{
    return run(argc, argv, activations, run_defaults{}, across);
}

} // namespace etape::lab
