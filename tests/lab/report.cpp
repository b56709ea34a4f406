// The lab's summary over seeds, its table, its CSV, and the atomic write.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <doctest/doctest.h>

#include <etape/lab/report.hpp>

#include "support/scratch_folder.hpp"

namespace {

etape::lab::run_result made_run(unsigned seed, double final_accuracy, double last_loss)
{
    etape::lab::run_result r;
    r.activation = "elu:alpha=1";
    r.seed = seed;
    r.epochs.push_back({1, 0.9, 0.5, {{0.1, 1.0}}, 0.25});
    r.epochs.push_back({2, last_loss, final_accuracy, {{0.3, 2.0}}, 0.5});
    r.initial_gradient_norms = {2.0, 4.0};
    r.dead_fraction = {0.25};
    return r;
}

} // namespace

TEST_CASE("lab report: a summary over seeds, a diverged run left out of the accuracy")
{
    std::vector<etape::lab::run_result> runs{made_run(1, 0.8, 0.05), made_run(2, 0.9, 0.5), made_run(3, 0.0, 0.0)};
    runs[2].diverged_at = 2;
    const auto s = etape::lab::summarize(runs, 0.1);
    CHECK(s.runs == 3);
    CHECK(s.diverged == 1);
    CHECK(s.accuracy_mean == doctest::Approx(0.85));
    CHECK(s.accuracy_stddev == doctest::Approx(0.0707106781));
    CHECK(s.reached_target == 1);
    CHECK(s.epoch_below_mean == 2.0);
    REQUIRE(s.last_epoch.size() == 1);
    CHECK(s.first_epoch[0].mean == doctest::Approx(0.1));
    CHECK(s.last_epoch[0].stddev == doctest::Approx(2.0));
    CHECK(s.dead_fraction[0] == doctest::Approx(0.25));
    CHECK(s.initial_gradient_norms[1] == doctest::Approx(4.0));
    CHECK(s.median_epoch_seconds == doctest::Approx(0.375)); // three epochs of 0.25 s, three of 0.5 s

    const std::string table = etape::lab::summary_table({s}, 0.1);
    CHECK(table.find("85.0 ± 7.1 %") != std::string::npos);
    CHECK(table.find("epoch 2.0 (1/3)") != std::string::npos);
    CHECK(table.find("1/3") != std::string::npos);
    CHECK(table.find("25.0%") != std::string::npos);

    runs.erase(runs.begin() + 1); // one finished run: its accuracy, and no spread
    const std::string one = etape::lab::summary_table({etape::lab::summarize(runs, 0.1)}, 0.1);
    CHECK(one.find(" 80.0 %") != std::string::npos);
    CHECK(one.find("±") == std::string::npos);

    const std::string csv = etape::lab::epochs_csv(runs);
    CHECK(csv.starts_with("activation,seed,epoch,train_loss,test_accuracy,seconds,layer1_mean,layer1_std\n"
                          "\"elu:alpha=1\",1,1,0.9,0.5,0.25,0.1,1\n"));
}

TEST_CASE("lab report: the CSV replaces a file whole, and a failure names the path")
{
    const etape_test::scratch_folder scratch;
    const std::filesystem::path& folder = scratch.path();
    const std::filesystem::path file = folder / "runs.csv";
    etape::lab::write_atomically(file, "old,contents\n");
    etape::lab::write_atomically(file, "a,b\n1,2\n");
    std::ifstream in(file);
    CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "a,b\n1,2\n");
    CHECK(std::distance(std::filesystem::directory_iterator(folder), std::filesystem::directory_iterator{}) == 1);
    const std::string expected = "etape-lab: cannot write " + (folder / "no such folder" / "x.csv").string();
    CHECK_THROWS_WITH_AS(etape::lab::write_atomically(folder / "no such folder" / "x.csv", "x"),
                         doctest::Contains(expected.c_str()), std::runtime_error);
}
