// What the lab prints and writes from its runs: each activation's summary
// over its seeds (one table), and every epoch of every run as CSV, written
// atomically. Layer: lab.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include <etape/io/atomic_file.hpp>
#include <etape/lab/experiment.hpp>

namespace etape::lab {

/// One activation's runs (its seeds) in figures.
struct activation_summary {
    std::string activation;
    std::size_t runs = 0;
    std::size_t diverged = 0;       ///< runs stopped by a loss that was not finite
    double accuracy_mean = 0;       ///< final test accuracy of the finished runs
    double accuracy_stddev = 0;     ///< sample standard deviation (0 for one run)
    std::size_t reached_target = 0; ///< finished runs whose loss fell below the target
    double epoch_below_mean = 0;    ///< over those runs
    /// Per hidden layer, averaged over the finished runs.
    std::vector<activation_moments> first_epoch, last_epoch;
    std::vector<double> dead_fraction;
    /// Per layer (hidden ones, then the output), averaged over all runs.
    std::vector<double> initial_gradient_norms;
    double median_epoch_seconds = 0; ///< over every epoch of every run
};

/// Sums up the runs of one activation (all with the same protocol).
inline activation_summary summarize(const std::vector<run_result>& runs, double loss_target)
{
    activation_summary s;
    if (runs.empty())
        return s;
    s.activation = runs.front().activation;
    s.runs = runs.size();
    std::vector<double> accuracies, epoch_seconds;
    const auto add_into = [](std::vector<double>& total, std::size_t i, double v) {
        if (total.size() <= i)
            total.resize(i + 1, 0.0);
        total[i] += v;
    };
    std::vector<double> first_mean, first_std, last_mean, last_std;
    double epochs_below = 0;
    for (const run_result& r : runs) {
        for (std::size_t l = 0; l < r.initial_gradient_norms.size(); ++l)
            add_into(s.initial_gradient_norms, l, r.initial_gradient_norms[l] / static_cast<double>(runs.size()));
        for (const epoch_result& e : r.epochs)
            epoch_seconds.push_back(e.seconds);
        if (r.diverged_at) {
            ++s.diverged;
            continue;
        }
        accuracies.push_back(r.epochs.back().test_accuracy);
        if (const auto below = r.epoch_below(loss_target)) {
            ++s.reached_target;
            epochs_below += static_cast<double>(*below);
        }
        for (std::size_t l = 0; l < r.epochs.front().hidden.size(); ++l) {
            add_into(first_mean, l, r.epochs.front().hidden[l].mean);
            add_into(first_std, l, r.epochs.front().hidden[l].stddev);
            add_into(last_mean, l, r.epochs.back().hidden[l].mean);
            add_into(last_std, l, r.epochs.back().hidden[l].stddev);
        }
        for (std::size_t l = 0; l < r.dead_fraction.size(); ++l)
            add_into(s.dead_fraction, l, r.dead_fraction[l]);
    }
    const auto finished = static_cast<double>(accuracies.size());
    if (!accuracies.empty()) {
        for (const double a : accuracies)
            s.accuracy_mean += a / finished;
        double squares = 0;
        for (const double a : accuracies)
            squares += (a - s.accuracy_mean) * (a - s.accuracy_mean);
        s.accuracy_stddev = accuracies.size() > 1 ? std::sqrt(squares / (finished - 1)) : 0.0;
        for (std::size_t l = 0; l < first_mean.size(); ++l) {
            s.first_epoch.push_back({first_mean[l] / finished, first_std[l] / finished});
            s.last_epoch.push_back({last_mean[l] / finished, last_std[l] / finished});
        }
        for (double& d : s.dead_fraction)
            d /= finished;
    }
    if (s.reached_target > 0)
        s.epoch_below_mean = epochs_below / static_cast<double>(s.reached_target);
    if (!epoch_seconds.empty()) {
        std::ranges::sort(epoch_seconds);
        const std::size_t n = epoch_seconds.size();
        s.median_epoch_seconds = n % 2 == 1 ? epoch_seconds[n / 2] : (epoch_seconds[n / 2 - 1] + epoch_seconds[n / 2]) / 2;
    }
    return s;
}

/// The lab's table: a line per activation, then a line per hidden layer
/// of each (activations' mean and std at the first and the last epoch, dead
/// units after training, gradient norm at initialisation).
inline std::string summary_table(const std::vector<activation_summary>& summaries, double loss_target)
{
    std::size_t width = 10;
    for (const activation_summary& s : summaries)
        width = std::max(width, s.activation.size());
    std::string out = fmt::format("{:<{}}  {:>15}  {:>16}  {:>9}  {:>8}\n", "activation", width, "test accuracy",
                                  fmt::format("loss < {}", loss_target), "s/epoch", "diverged");
    for (const activation_summary& s : summaries) {
        // one finished run has no spread to show, rather than a spread of 0
        const std::size_t finished = s.runs - s.diverged;
        const std::string accuracy =
            finished == 0   ? "-"
            : finished == 1 ? fmt::format("{:.1f} %", 100 * s.accuracy_mean)
                            : fmt::format("{:.1f} ± {:.1f} %", 100 * s.accuracy_mean, 100 * s.accuracy_stddev);
        const std::string below =
            s.reached_target == 0 ? "never"
                                  : fmt::format("epoch {:.1f} ({}/{})", s.epoch_below_mean, s.reached_target, s.runs);
        out += fmt::format("{:<{}}  {:>15}  {:>16}  {:>9.3f}  {:>4}/{:<3}\n", s.activation, width, accuracy, below,
                           s.median_epoch_seconds, s.diverged, s.runs);
    }
    out += fmt::format("\n{:<{}}  {:>5}  {:>17}  {:>15}  {:>6}  {:>12}\n", "per hidden layer", width, "layer",
                       "mean first → last", "std first → last", "dead", "|grad| init");
    for (const activation_summary& s : summaries) {
        for (std::size_t l = 0; l < s.initial_gradient_norms.size(); ++l) {
            const bool hidden = l < s.first_epoch.size();
            const std::string name = l == 0 ? s.activation : "";
            if (hidden)
                out += fmt::format("{:<{}}  {:>5}  {:>+7.3f} → {:>+7.3f}  {:>6.3f} → {:>6.3f}  {:>5.1f}%  {:>12.4g}\n", name,
                                   width, l + 1, s.first_epoch[l].mean, s.last_epoch[l].mean, s.first_epoch[l].stddev,
                                   s.last_epoch[l].stddev, 100 * s.dead_fraction[l], s.initial_gradient_norms[l]);
            else
                out += fmt::format("{:<{}}  {:>5}  {:>17}  {:>15}  {:>6}  {:>12.4g}\n", name, width,
                                   l + 1 == s.initial_gradient_norms.size() ? "out" : "-", "", "", "",
                                   s.initial_gradient_norms[l]);
        }
    }
    return out;
}

/// Every epoch of every run, a row each: activation, seed, epoch, training
/// loss, test accuracy, seconds, then each hidden layer's mean and std.
inline std::string epochs_csv(const std::vector<run_result>& runs)
{
    std::size_t layers = 0;
    for (const run_result& r : runs)
        for (const epoch_result& e : r.epochs)
            layers = std::max(layers, e.hidden.size());
    std::string out = "activation,seed,epoch,train_loss,test_accuracy,seconds";
    for (std::size_t l = 1; l <= layers; ++l)
        out += fmt::format(",layer{0}_mean,layer{0}_std", l);
    out += '\n';
    for (const run_result& r : runs)
        for (const epoch_result& e : r.epochs) {
            out += fmt::format("\"{}\",{},{},{},{},{}", r.activation, r.seed, e.epoch, e.train_loss, e.test_accuracy,
                               e.seconds);
            for (std::size_t l = 0; l < layers; ++l)
                out += l < e.hidden.size() ? fmt::format(",{},{}", e.hidden[l].mean, e.hidden[l].stddev) : ",,";
            out += '\n';
        }
    return out;
}

/// Writes `text` to `path` whole (io::atomic_file): `path` holds its old
/// contents or the new ones, never a part. Throws std::runtime_error
/// naming the path and the system's reason.
inline void write_atomically(const std::filesystem::path& path, std::string_view text)
{
    try {
        io::atomic_file file(path);
        file.write(text);
        file.commit();
    } catch (const io::file_write_failure& failure) {
        throw std::runtime_error("etape-lab: cannot write " + path.string() + ": " + failure.what());
    }
}

} // namespace etape::lab
