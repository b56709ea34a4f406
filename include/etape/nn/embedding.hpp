// The embedding layer: a table of one learned vector per token, read by
// index (one gather node). Layer: nn.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/hana/define_struct.hpp>

#include <etape/nn/init.hpp>
#include <etape/nn/layer.hpp>
#include <etape/nn/random.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/shape_ops.hpp>

namespace etape::nn {

/// torch.nn.Embedding: weight [vocabulary, width], row i the vector of
/// token i. The gradient of a row is the sum of the output rows that read
/// it (an index may repeat).
template <std::floating_point T>
struct embedding : layer_name {
    BOOST_HANA_DEFINE_STRUCT(embedding, (active_tensor<T>, weight));

    /// The table on the active tape, zero until nn::initialize draws it.
    embedding(std::size_t vocabulary, std::size_t width)
        : layer_name("embedding"), weight(tensor<T>({vocabulary, width}))
    {
    }

    /// The rows `indices` of the table: [indices.size(), width], one tape
    /// node. An index outside [0, vocabulary) throws std::out_of_range
    /// naming the layer, the index, its position and the vocabulary size.
    [[nodiscard]] active_tensor<T> operator()(std::span<const std::size_t> indices) const
    {
        for (std::size_t k = 0; k < indices.size(); ++k)
            if (indices[k] >= vocabulary())
                throw std::out_of_range("etape::nn: " + name() + (name() != kind() ? " (" + kind() + ")" : "") +
                                        " got index " + std::to_string(indices[k]) + " at position " +
                                        std::to_string(k) + ", outside its vocabulary of " +
                                        std::to_string(vocabulary()));
        const anomaly_context<T> context(active_tape<T>(), name());
        return gather_rows(weight, indices);
    }

    [[nodiscard]] active_tensor<T> operator()(const std::vector<std::size_t>& indices) const
    {
        return (*this)(std::span<const std::size_t>(indices));
    }

    /// Draws the table from N(0, 1), as PyTorch does.
    void initialize(random_generator& random) { fill_normal(weight.values(), 1.0, random); }

    [[nodiscard]] std::size_t vocabulary() const noexcept { return weight.shape()[0]; }
    [[nodiscard]] std::size_t width() const noexcept { return weight.shape()[1]; }
};

} // namespace etape::nn
