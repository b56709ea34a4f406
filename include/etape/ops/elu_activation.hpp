// A tape-free ELU unit in the style of small network libraries: activate()
// values, then measure() the gradient from an activated value and the
// incoming error. Layer: ops (uses elu_op's derivative from the output).
#pragma once

#include <concepts>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <vector>

#include <etape/ops/elu.hpp>

namespace etape {

template <std::floating_point T = double>
class elu_activation {
public:
    /// Throws std::invalid_argument for alpha < 0 (see elu_op).
    explicit elu_activation(T alpha = T(1)) : op_(alpha) {}

    [[nodiscard]] T alpha() const noexcept { return op_.alpha(); }

    /// elu(x) = x > 0 ? x : alpha (e^x - 1)
    [[nodiscard]] T activate(T x) const { return op_.primal(x); }

    [[nodiscard]] std::vector<T> activate(std::span<const T> xs) const
    {
        std::vector<T> ys(xs.size());
        for (std::size_t i = 0; i < xs.size(); ++i)
            ys[i] = activate(xs[i]);
        return ys;
    }

    /// The gradient passed back through the unit: error * d elu / dx, taken
    /// from the activated value alone (output > 0 ? 1 : output + alpha).
    [[nodiscard]] T measure(T output, T error) const { return error * op_.partial(T(0), output); }

    /// measure() for each output, with one error each.
    [[nodiscard]] std::vector<T> measure(std::span<const T> outputs, std::span<const T> errors) const
    {
        if (outputs.size() != errors.size())
            throw std::invalid_argument("etape::elu_activation::measure: " + std::to_string(outputs.size()) +
                                        " outputs but " + std::to_string(errors.size()) + " errors");
        std::vector<T> gradients(outputs.size());
        for (std::size_t i = 0; i < outputs.size(); ++i)
            gradients[i] = measure(outputs[i], errors[i]);
        return gradients;
    }

    /// measure() for each output, with the same error for all.
    [[nodiscard]] std::vector<T> measure(std::span<const T> outputs, T error) const
    {
        std::vector<T> gradients(outputs.size());
        for (std::size_t i = 0; i < outputs.size(); ++i)
            gradients[i] = measure(outputs[i], error);
        return gradients;
    }

private:
    elu_op<T> op_;
};

} // namespace etape
