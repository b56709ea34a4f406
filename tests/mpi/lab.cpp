// The activation lab split over the ranks (lab::train with mpi::lab_ranks)
// learns what one process learns: the same epochs' losses and accuracies
// within the rounding of sums taken in another order (and, on 3 ranks, of
// the last batch's unequal shares).
#include <doctest/doctest.h>

#include <cmath>

#include <etape/lab/experiment.hpp>
#include <etape/mpi/lab_ranks.hpp>
#include <etape/nn/digits.hpp>

#include "training.hpp"

TEST_CASE("the lab split over the ranks learns what one process learns")
{
    const etape::nn::data_split<float> digits = etape::nn::digits<float>();
    etape::nn::data_split<float> data = digits;
    for (etape::nn::dataset<float>* part : {&data.train, &data.test})
        part->features = part->features.reshape({part->rows(), part->features.size() / part->rows()});
    const etape::lab::activation elu = etape::lab::registry::builtin().parse("elu").front();
    etape::lab::protocol plan;
    plan.hidden = {32};
    plan.epochs = 3;
    plan.batch_size = 48;
    etape::mpi::lab_ranks ranks(MPI_COMM_WORLD);
    const etape::lab::run_result split = etape::lab::train(data, elu, plan, 1, {}, &ranks);
    const etape::lab::run_result alone = etape::lab::train(data, elu, plan, 1);
    REQUIRE(split.epochs.size() == alone.epochs.size());
    for (std::size_t e = 0; e < alone.epochs.size(); ++e) {
        CAPTURE(e);
        CHECK(split.epochs[e].train_loss == doctest::Approx(alone.epochs[e].train_loss).epsilon(1e-3));
        CHECK(std::abs(split.epochs[e].test_accuracy - alone.epochs[e].test_accuracy) <= 0.01);
    }
}
