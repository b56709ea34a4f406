// A small model, data and loops shared by the MPI tests: the same steps
// taken data-parallel (each rank on its shard) and on one process (the
// whole batch), which must end with the same parameters.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include <boost/hana/define_struct.hpp>
#include <mpi.h>

#include <etape/mpi.hpp>
#include <etape/nn.hpp>

namespace etape_test {

template <class T>
struct mlp {
    BOOST_HANA_DEFINE_STRUCT(mlp, (etape::nn::dense<T, etape::nn::activation::elu>, l1),
                             (etape::nn::dense<T, etape::nn::activation::elu>, l2), (etape::nn::dense<T>, l3));

    template <class X>
    [[nodiscard]] etape::active_tensor<T> operator()(const X& x) const
    {
        return l3(l2(l1(x)));
    }
};

template <class T>
mlp<T> make_mlp(std::size_t seed = 1)
{
    mlp<T> model{{6, 12}, {12, 10}, {10, 3}};
    etape::nn::random_generator random(seed);
    etape::nn::initialize(model, random);
    return model;
}

/// `rows` rows of 6 features and a label in 0..2 that depends on them.
template <class T>
struct data {
    etape::tensor<T> features;
    std::vector<std::size_t> labels;
};

template <class T>
data<T> make_data(std::size_t rows)
{
    etape::nn::random_generator random(7);
    std::vector<T> values(rows * 6);
    for (T& v : values)
        v = random.normal<T>();
    std::vector<std::size_t> labels(rows);
    for (std::size_t r = 0; r < rows; ++r)
        labels[r] = values[r * 6] + values[r * 6 + 1] > 0 ? 0 : values[r * 6 + 2] > 0 ? 1 : 2;
    return {etape::tensor<T>(etape::shape{rows, 6}, values), std::move(labels)};
}

/// Rows [first, first + count) of `d` as a batch.
template <class T>
etape::nn::batch<T> rows_of(const data<T>& d, std::size_t first, std::size_t count)
{
    return {etape::tensor<T>(etape::shape{count, 6}, d.features.values().subspan(first * 6, count * 6)),
            std::span<const std::size_t>(d.labels).subspan(first, count)};
}

/// One optimizer step of `model` on `b`, the tape rewound after it.
template <class T, class Optimizer>
T train_step(const mlp<T>& model, Optimizer& optimizer, const etape::nn::batch<T>& b)
{
    etape::tape<T>& t = etape::active_tape<T>();
    const etape::tape_position start = t.position();
    const etape::var<T> loss = etape::nn::softmax_cross_entropy(model(b.features), b.labels);
    const T value = loss.value();
    optimizer.step(loss);
    t.rewind(start);
    return value;
}

/// The largest difference between the two models' parameters over the
/// largest magnitude of the second's, tensor by tensor.
template <class T>
double relative_difference(mlp<T>& a, mlp<T>& b)
{
    const auto pa = etape::nn::parameters(a), pb = etape::nn::parameters(b);
    double worst = 0;
    for (std::size_t i = 0; i < pa.size(); ++i) {
        double difference = 0, magnitude = 0;
        for (std::size_t k = 0; k < pa[i].tensor->size(); ++k) {
            difference = std::max(difference, std::abs(static_cast<double>(pa[i].tensor->values()[k]) -
                                                       static_cast<double>(pb[i].tensor->values()[k])));
            magnitude = std::max(magnitude, std::abs(static_cast<double>(pb[i].tensor->values()[k])));
        }
        worst = std::max(worst, difference / magnitude);
    }
    return worst;
}

inline int world_rank()
{
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}

inline int world_size()
{
    int size = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size;
}

} // namespace etape_test
