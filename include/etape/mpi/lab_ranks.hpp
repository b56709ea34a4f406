// etape-lab over MPI: the lab's distribution (lab/distribution.hpp) on the
// ranks of a communicator, each run's gradients exchanged by data_parallel.
// Layer: mpi.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include <mpi.h>

#include <etape/lab/distribution.hpp>
#include <etape/mpi/calls.hpp>
#include <etape/mpi/data_parallel.hpp>

namespace etape::mpi {

class lab_ranks final : public lab::distribution {
public:
    explicit lab_ranks(MPI_Comm comm, data_parallel_options options = {}) : comm_(comm), options_(options)
    {
        detail::check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
        detail::check(MPI_Comm_size(comm_, &ranks_), "MPI_Comm_size");
    }

    [[nodiscard]] int rank() const override { return rank_; }
    [[nodiscard]] int ranks() const override { return ranks_; }

    [[nodiscard]] std::unique_ptr<nn::gradient_exchange<float>>
    exchange(std::vector<nn::named_parameter<float>> parameters) override
    {
        return std::make_unique<data_parallel<float>>(comm_, std::move(parameters),
                                                      std::vector<nn::named_buffer<float>>{}, options_);
    }

    void sum(std::span<double> values) override
    {
        detail::check(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM,
                                    comm_),
                      "MPI_Allreduce");
    }

private:
    MPI_Comm comm_;
    data_parallel_options options_;
    int rank_ = 0;
    int ranks_ = 1;
};

} // namespace etape::mpi
