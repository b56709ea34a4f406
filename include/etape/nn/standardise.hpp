// Standardising features: each feature shifted and scaled to mean 0 and
// standard deviation 1 on the training rows, the same shift and scale
// applied to the test rows. Layer: nn.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include <etape/nn/dataset.hpp>
#include <etape/tensor/tensor.hpp>

namespace etape::nn {

/// Per feature: x -> (x - mean) * inverse_std. A feature that is constant
/// on the rows it was measured on (standard deviation 0) keeps
/// inverse_std = 1: it is only centred (as scikit-learn's StandardScaler does).
template <std::floating_point T>
struct feature_scaling {
    std::vector<T> mean;
    std::vector<T> inverse_std;

    /// Applies the scaling to every row of `features` ([rows, ...], each
    /// row mean.size() values), in place.
    void apply(etape::tensor<T>& features) const
    {
        const std::size_t width = mean.size();
        if (width == 0 ? features.size() != 0 : features.size() % width != 0)
            throw std::invalid_argument("etape: a feature_scaling of " + std::to_string(width) +
                                        " features cannot apply to features of shape " +
                                        features.shape().to_string());
        const auto values = features.values();
        for (std::size_t i = 0; i < values.size(); ++i)
            values[i] = (values[i] - mean[i % width]) * inverse_std[i % width];
    }
};

/// The mean and standard deviation (population: divided by the row count)
/// of each feature over the rows of `features`, in two passes in double.
template <std::floating_point T>
[[nodiscard]] feature_scaling<T> measure_scaling(const etape::tensor<T>& features)
{
    if (features.rank() == 0 || features.shape()[0] == 0)
        throw std::invalid_argument("etape: measure_scaling needs at least one row of features, got shape " +
                                    features.shape().to_string());
    const std::size_t rows = features.shape()[0];
    const std::size_t width = features.size() / rows;
    const auto values = features.values();
    std::vector<double> mean(width, 0.0), variance(width, 0.0);
    for (std::size_t i = 0; i < values.size(); ++i)
        mean[i % width] += static_cast<double>(values[i]);
    for (double& m : mean)
        m /= static_cast<double>(rows);
    for (std::size_t i = 0; i < values.size(); ++i) {
        const double d = static_cast<double>(values[i]) - mean[i % width];
        variance[i % width] += d * d;
    }
    feature_scaling<T> scaling{std::vector<T>(width), std::vector<T>(width)};
    for (std::size_t j = 0; j < width; ++j) {
        const double std_dev = std::sqrt(variance[j] / static_cast<double>(rows));
        scaling.mean[j] = static_cast<T>(mean[j]);
        scaling.inverse_std[j] = std_dev > 0 ? static_cast<T>(1.0 / std_dev) : T(1);
    }
    return scaling;
}

/// Standardises both sets with the training set's statistics, and returns
/// them (to apply to new inputs the same way).
template <std::floating_point T>
feature_scaling<T> standardise(data_split<T>& split)
{
    feature_scaling<T> scaling = measure_scaling(split.train.features);
    scaling.apply(split.train.features);
    scaling.apply(split.test.features);
    return scaling;
}

} // namespace etape::nn
