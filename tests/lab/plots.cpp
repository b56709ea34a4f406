// The lab's plots: the curves (means over seeds per epoch, a diverged run
// cut before its last epoch) and the PNG files gnuplot draws from them.
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include <doctest/doctest.h>

#include <etape/lab/plots.hpp>

#include "support/scratch_folder.hpp"

namespace {

etape::lab::run_result run_of(const char* activation, std::vector<double> losses)
{
    etape::lab::run_result r;
    r.activation = activation;
    for (std::size_t i = 0; i < losses.size(); ++i)
        r.epochs.push_back({i + 1, losses[i], 0.5, {{0.1 * static_cast<double>(i), 1.0}}, 0.01});
    return r;
}

} // namespace

TEST_CASE("lab plots: each curve is the mean over seeds, a diverged epoch left out")
{
    std::vector<etape::lab::run_result> runs{run_of("elu", {1.0, 0.5}), run_of("relu", {2.0, 1.0}),
                                             run_of("elu", {3.0, 1.5, 0.5})};
    runs.push_back(run_of("relu", {4.0, std::numeric_limits<double>::quiet_NaN()}));
    runs.back().diverged_at = 2;
    const auto curves =
        etape::lab::detail::epoch_means(runs, [](const etape::lab::epoch_result& e) { return e.train_loss; });
    REQUIRE(curves.size() == 2);
    CHECK(curves[0].first == "elu");
    CHECK(curves[0].second == std::vector<double>{2.0, 1.0, 0.5});
    CHECK(curves[1].second == std::vector<double>{3.0, 1.0});
}

TEST_CASE("lab plots: the loss is drawn on a logarithmic axis while every value is positive")
{
    etape::lab::detail::plot loss{"loss.png", "training loss", "loss", {{"elu", {2.0, 0.5, 0.01}}},
                                  etape::lab::detail::plot::axis::logarithmic};
    const std::string commands = etape::lab::detail::plot_commands(loss, "loss.png");
    CHECK(commands.find("set logscale y\n") < commands.find("plot '-'"));
    CHECK(commands.find("unset logscale y\n") > commands.rfind("e\n"));
    loss.curves.push_back({"relu", {1.0, 0.0}}); // a loss of exactly 0 has no logarithm
    CHECK(etape::lab::detail::plot_commands(loss, "loss.png").find("logscale") == std::string::npos);
    loss.curves.pop_back();
    loss.y = etape::lab::detail::plot::axis::linear;
    CHECK(etape::lab::detail::plot_commands(loss, "loss.png").find("logscale") == std::string::npos);
}

TEST_CASE("lab plots: gnuplot draws every PNG, or the lab knows it is missing")
{
    const std::filesystem::path gnuplot = etape::lab::find_program("gnuplot");
    if (gnuplot.empty()) {
        MESSAGE("gnuplot is not installed: the lab says so and draws nothing");
        CHECK(etape::lab::find_program("gnuplot").empty());
        return;
    }
    const etape_test::scratch_folder scratch;
    const std::filesystem::path folder = scratch / "plots"; // write_plots makes it
    const std::vector<etape::lab::run_result> runs{run_of("elu:alpha=1", {1.0, 0.5, 0.25}),
                                                   run_of("a \"quoted\" name", {2.0, 1.0, 0.5})};
    const auto written = etape::lab::write_plots(runs, folder, gnuplot);
    REQUIRE(written.size() == 3); // loss, accuracy, one hidden layer
    for (const auto& png : written) {
        std::ifstream in(png, std::ios::binary);
        char magic[4] = {};
        in.read(magic, 4);
        CHECK(std::string(magic + 1, 3) == "PNG");
    }
    CHECK(std::distance(std::filesystem::directory_iterator(folder), std::filesystem::directory_iterator{}) == 3);
}
