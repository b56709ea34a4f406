// The flatten layer: [N, ...] -> [N, rest], between a convolution's NCHW
// output and a dense layer. A view: no copy, no tape node. Layer: nn.
#pragma once

#include <cstddef>

#include <etape/nn/layer.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/tensor.hpp>

namespace etape::nn {

/// Keeps the first axis (the batch) and joins the others, in row-major
/// order (torch.nn.Flatten).
struct flatten : layer_name {
    static constexpr bool holds_no_tensors = true;

    flatten() : layer_name("flatten") {}

    /// x [N, d1, ...] as [N, d1 * ...]: the same elements and slots (for an
    /// expression, those of the one fused node that records it first). A
    /// value tensor gives a value tensor sharing its storage. An input of
    /// rank below 2 throws shape_error naming the layer.
    template <tensor_expression X>
    [[nodiscard]] active_tensor<typename X::value_type> operator()(const X& x) const
    {
        const active_tensor<typename X::value_type> active = x;
        return active.reshape(flat_shape(active.shape()));
    }

    template <class T>
    [[nodiscard]] tensor<T> operator()(const tensor<T>& x) const
    {
        return x.reshape(flat_shape(x.shape()));
    }

private:
    [[nodiscard]] shape flat_shape(const shape& s) const
    {
        if (s.rank() < 2)
            throw_bad_input("an input [N, ...] of rank 2 or more", s);
        std::size_t rest = 1;
        for (std::size_t axis = 1; axis < s.rank(); ++axis)
            rest *= s[axis];
        return shape{s[0], rest};
    }
};

} // namespace etape::nn
