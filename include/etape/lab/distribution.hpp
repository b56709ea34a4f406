// How a lab run shares its training among processes: each trains on its
// share of every batch and the optimizer applies the processes' average
// gradient. The lab itself knows no transport; etape::mpi::lab_ranks is one
// (include/etape/mpi/lab_ranks.hpp). Layer: lab.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include <etape/nn/optimizer.hpp>
#include <etape/nn/parameters.hpp>

namespace etape::lab {

class distribution {
public:
    virtual ~distribution() = default;

    /// This process's number, 0 to ranks() - 1; process 0 prints and writes files.
    [[nodiscard]] virtual int rank() const = 0;
    [[nodiscard]] virtual int ranks() const = 0;

    /// Collective, once per run: makes every process's parameters process
    /// 0's and returns what the run's optimizer then sweeps through.
    [[nodiscard]] virtual std::unique_ptr<nn::gradient_exchange<float>>
    exchange(std::vector<nn::named_parameter<float>> parameters) = 0;

    /// Collective: each value summed over the processes, in place.
    virtual void sum(std::span<double> values) = 0;

protected:
    distribution() = default;
    distribution(const distribution&) = default;
    distribution& operator=(const distribution&) = default;
};

} // namespace etape::lab
