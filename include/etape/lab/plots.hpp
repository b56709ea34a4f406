// The lab's plots, drawn by gnuplot when it is installed: training loss and
// test accuracy per epoch for each activation, and each hidden layer's mean
// activation per epoch; each curve is the mean over the activation's seeds.
// PNG files, each written beside its place and renamed into it. Layer: lab.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include <etape/lab/experiment.hpp>
#include <etape/lab/report.hpp>

namespace etape::lab {

/// The program `name` on PATH, or an empty path when there is none.
inline std::filesystem::path find_program(std::string_view name)
{
    const char* path = std::getenv("PATH");
    std::string_view rest = path != nullptr ? path : "";
    while (!rest.empty()) {
        const std::size_t colon = rest.find(':');
        const std::filesystem::path candidate = std::filesystem::path(rest.substr(0, colon)) / name;
        std::error_code error;
        if (!candidate.parent_path().empty() && std::filesystem::is_regular_file(candidate, error))
            return candidate;
        rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    }
    return {};
}

namespace detail {

/// `text` in single quotes for the shell.
inline std::string shell_quoted(std::string_view text)
{
    std::string quoted = "'";
    for (const char c : text)
        quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

/// `text` in double quotes for gnuplot.
inline std::string gnuplot_quoted(std::string_view text)
{
    std::string quoted = "\"";
    for (const char c : text)
        quoted += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
    return quoted + "\"";
}

/// Per activation (in the order of first appearance), the mean over its
/// runs of `value(epoch)` at each epoch that some run reached.
inline std::vector<std::pair<std::string, std::vector<double>>>
epoch_means(const std::vector<run_result>& runs, const std::function<double(const epoch_result&)>& value)
{
    std::vector<std::pair<std::string, std::vector<double>>> curves;
    std::vector<std::vector<std::size_t>> counts;
    for (const run_result& r : runs) {
        std::size_t k = 0;
        while (k < curves.size() && curves[k].first != r.activation)
            ++k;
        if (k == curves.size()) {
            curves.push_back({r.activation, {}});
            counts.emplace_back();
        }
        for (const epoch_result& e : r.epochs) {
            if (r.diverged_at && e.epoch == *r.diverged_at)
                break;
            if (curves[k].second.size() < e.epoch) {
                curves[k].second.resize(e.epoch, 0.0);
                counts[k].resize(e.epoch, 0);
            }
            curves[k].second[e.epoch - 1] += value(e);
            ++counts[k][e.epoch - 1];
        }
    }
    for (std::size_t k = 0; k < curves.size(); ++k)
        for (std::size_t i = 0; i < curves[k].second.size(); ++i)
            curves[k].second[i] /= static_cast<double>(counts[k][i]);
    return curves;
}

/// One PNG of the lab's: a curve per activation over the epochs.
struct plot {
    enum class axis { linear, logarithmic };
    std::string file, title, ylabel;
    std::vector<std::pair<std::string, std::vector<double>>> curves;
    /// The y axis. A logarithmic one (the training loss, which falls by
    /// orders of magnitude: on a linear axis the curves meet at zero after
    /// a few epochs) is drawn linear when a value is not positive.
    axis y = axis::linear;
};

/// gnuplot's commands that draw `p` into the file `output`.
inline std::string plot_commands(const plot& p, const std::filesystem::path& output)
{
    bool logarithmic = p.y == plot::axis::logarithmic;
    for (const auto& curve : p.curves)
        for (const double v : curve.second)
            logarithmic = logarithmic && v > 0;
    std::string commands = fmt::format("set output {}\nset title {}\nset ylabel {}\n{}plot ",
                                       gnuplot_quoted(output.string()), gnuplot_quoted(p.title),
                                       gnuplot_quoted(p.ylabel), logarithmic ? "set logscale y\n" : "");
    for (std::size_t k = 0; k < p.curves.size(); ++k)
        commands += fmt::format("{}'-' using 1:2 with linespoints title {}", k == 0 ? "" : ", ",
                                gnuplot_quoted(p.curves[k].first));
    commands += '\n';
    for (const auto& curve : p.curves) {
        for (std::size_t i = 0; i < curve.second.size(); ++i)
            commands += fmt::format("{} {}\n", i + 1, curve.second[i]);
        commands += "e\n";
    }
    commands += logarithmic ? "unset logscale y\nunset output\n" : "unset output\n";
    return commands;
}

} // namespace detail

/// Draws loss.png, accuracy.png and hidden<k>_mean.png into `folder`
/// (created if missing) with the gnuplot at `gnuplot`, and returns their
/// paths. Throws std::runtime_error naming what failed.
inline std::vector<std::filesystem::path> write_plots(const std::vector<run_result>& runs,
                                                      const std::filesystem::path& folder,
                                                      const std::filesystem::path& gnuplot)
{
    std::filesystem::create_directories(folder);
    using detail::plot;
    std::vector<plot> plots;
    plots.push_back({"loss.png", "training loss (mean over seeds)", "loss",
                     detail::epoch_means(runs, [](const epoch_result& e) { return e.train_loss; }),
                     plot::axis::logarithmic});
    plots.push_back({"accuracy.png", "test accuracy (mean over seeds)", "accuracy",
                     detail::epoch_means(runs, [](const epoch_result& e) { return e.test_accuracy; })});
    std::size_t layers = 0;
    for (const run_result& r : runs)
        for (const epoch_result& e : r.epochs)
            layers = std::max(layers, e.hidden.size());
    for (std::size_t l = 0; l < layers; ++l)
        plots.push_back({fmt::format("hidden{}_mean.png", l + 1),
                         fmt::format("hidden layer {}: mean activation on the training set (mean over seeds)", l + 1),
                         "mean activation", detail::epoch_means(runs, [l](const epoch_result& e) {
                             return l < e.hidden.size() ? e.hidden[l].mean : 0.0;
                         })});

    const std::string stamp = fmt::format("{}", std::chrono::steady_clock::now().time_since_epoch().count());
    std::string script = "set terminal pngcairo size 900,560 noenhanced\nset grid\nset key outside right\n"
                         "set xlabel \"epoch\"\n";
    std::vector<std::filesystem::path> written;
    for (const plot& p : plots) {
        script += detail::plot_commands(p, folder / (p.file + ".partial-" + stamp));
        written.push_back(folder / p.file);
    }
    const std::filesystem::path script_file = folder / ("plots.gp.partial-" + stamp);
    write_atomically(script_file, script);
    // gnuplot's messages (warnings about a one-epoch run's empty ranges too)
    // are shown only when it fails
    const std::filesystem::path messages = folder / ("gnuplot.log.partial-" + stamp);
    const std::string command = detail::shell_quoted(gnuplot.string()) + " " +
                                detail::shell_quoted(script_file.string()) + " > " +
                                detail::shell_quoted(messages.string()) + " 2>&1";
    const int status = std::system(command.c_str());
    std::string said;
    if (status != 0) {
        std::ifstream in(messages);
        said.assign(std::istreambuf_iterator<char>(in), {});
    }
    std::error_code ignored;
    std::filesystem::remove(script_file, ignored);
    std::filesystem::remove(messages, ignored);
    for (const auto& p : written) {
        std::filesystem::path partial = p;
        partial += ".partial-" + stamp;
        std::error_code renamed;
        if (status == 0)
            std::filesystem::rename(partial, p, renamed);
        if (status != 0 || renamed) {
            for (const auto& q : written) {
                std::filesystem::path left = q;
                left += ".partial-" + stamp;
                std::filesystem::remove(left, ignored);
            }
            throw std::runtime_error("etape-lab: gnuplot could not draw " + p.string() +
                                     (status != 0 ? fmt::format(" (exit status {}): {}", status, said)
                                                  : ": " + renamed.message()));
        }
    }
    return written;
}

} // namespace etape::lab
