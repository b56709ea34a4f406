// A labelled data set (features, labels, class count), a train/test pair of
// them, and the error a malformed data file throws. Layer: nn.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <etape/tensor/tensor.hpp>

namespace etape::nn {

/// Thrown when a data file is missing or malformed: the message names the
/// file and where the problem is (a byte offset, or a line and a column).
class data_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Rows of features with one label each. `features` has the rows on its
/// first axis ([rows, 64] for digits, [rows, 1, 28, 28] for Fashion-MNIST);
/// every label is below `classes`.
template <std::floating_point T>
struct dataset {
    etape::tensor<T> features;
    std::vector<std::size_t> labels;
    std::size_t classes = 0;

    [[nodiscard]] std::size_t rows() const noexcept { return labels.size(); }
};

/// A training set and the test set that is kept apart from it.
template <std::floating_point T>
struct data_split {
    dataset<T> train;
    dataset<T> test;
};

namespace detail {

/// `s` with its first extent (the row count) replaced by `rows`.
inline etape::shape with_rows(const etape::shape& s, std::size_t rows)
{
    std::size_t extents[etape::shape::max_rank]{};
    for (std::size_t axis = 0; axis < s.rank(); ++axis)
        extents[axis] = s[axis];
    extents[0] = rows;
    return etape::shape(std::span<const std::size_t>(extents, s.rank()));
}

} // namespace detail

/// The first `train_rows` rows of `all` for training, the rest for testing
/// (in file order: no shuffling, so the split is the same everywhere).
template <std::floating_point T>
[[nodiscard]] data_split<T> split_rows(const dataset<T>& all, std::size_t train_rows)
{
    const std::size_t rows = all.rows();
    if (train_rows > rows)
        throw std::invalid_argument("etape: split_rows cannot take " + std::to_string(train_rows) +
                                    " training rows from a data set of " + std::to_string(rows));
    if (all.features.rank() == 0 || all.features.shape()[0] != rows)
        throw std::invalid_argument("etape: split_rows needs one label per feature row, got features of shape " +
                                    all.features.shape().to_string() + " and " + std::to_string(rows) + " labels");
    const std::size_t width = rows == 0 ? 0 : all.features.size() / rows;
    const auto part = [&](std::size_t first, std::size_t count) {
        return dataset<T>{etape::tensor<T>(detail::with_rows(all.features.shape(), count),
                                           all.features.values().subspan(first * width, count * width)),
                          std::vector<std::size_t>(all.labels.begin() + static_cast<std::ptrdiff_t>(first),
                                                   all.labels.begin() + static_cast<std::ptrdiff_t>(first + count)),
                          all.classes};
    };
    return {part(0, train_rows), part(train_rows, rows - train_rows)};
}

} // namespace etape::nn
