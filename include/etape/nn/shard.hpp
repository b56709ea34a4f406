// One process's share of a mini-batch in data-parallel training: every
// process draws the same batches (a loader with the same seed) and trains
// on its own rows of each (etape::mpi::data_parallel). Layer: nn.
#pragma once

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <etape/nn/batch_loader.hpp>
#include <etape/tensor/shape.hpp>
#include <etape/tensor/tensor.hpp>

namespace etape::nn {

/// Rows [rank n / ranks, (rank + 1) n / ranks) of `whole` (n rows): equal
/// shares when `ranks` divides n, which makes the average of the ranks'
/// mean losses the mean loss of the whole batch (use a batch size that
/// ranks divides, and last_batch::drop or a row count that it divides too).
/// The features are copied; the labels are a view into `whole`'s.
template <class T>
[[nodiscard]] batch<T> shard(const batch<T>& whole, int rank, int ranks)
{
    if (ranks < 1 || rank < 0 || rank >= ranks)
        throw std::invalid_argument("etape::nn::shard: rank " + std::to_string(rank) + " of " +
                                    std::to_string(ranks) + " ranks");
    const etape::shape& s = whole.features.shape();
    if (s.rank() == 0)
        throw std::invalid_argument("etape::nn::shard: the features are a scalar, not rows");
    const std::size_t rows = s[0], width = rows == 0 ? 0 : s.size() / rows;
    const auto r = static_cast<std::size_t>(rank), n = static_cast<std::size_t>(ranks);
    const std::size_t first = r * rows / n, end = (r + 1) * rows / n;
    std::vector<std::size_t> extents(s.extents().begin(), s.extents().end());
    extents[0] = end - first;
    const std::span<const T> values = whole.features.values().subspan(first * width, (end - first) * width);
    const std::span<const std::size_t> labels =
        whole.labels.size() == rows ? whole.labels.subspan(first, end - first) : whole.labels;
    return {etape::tensor<T>(etape::shape(std::span<const std::size_t>(extents)), values), labels};
}

} // namespace etape::nn
