// Slices: a range of an active tensor along one axis, read in place as a
// leaf of fused expressions, so that a stencil such as
//     u_next = u[1..n-1) - c * (u[2..n) - u[0..n-2))
// is one tape node with one loop forward and one backward, and its
// adjoints go straight back into u's slots. Layer: tensor.
#pragma once

#include <concepts>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include <etape/core/active_tape.hpp>
#include <etape/tensor/active_tensor.hpp>
#include <etape/tensor/expression.hpp>
#include <etape/tensor/shape.hpp>

namespace etape {

/// A view of part of an active tensor: its rows (runs along the last axis)
/// lie `row_stride()` elements apart in the tensor. Made by etape::slice;
/// a leaf of fused expressions, whose adjoints go back into the sliced
/// tensor's slots. Assigned to an active_tensor, it is recorded as a copy.
/// It stays valid as long as the tensor it views.
template <std::floating_point T>
class tensor_slice {
public:
    using value_type = T;
    static constexpr bool is_etape_tensor_expression = true;
    static constexpr std::size_t leaf_count = 1;

    /// All of `x`.
    explicit tensor_slice(const active_tensor<T>& x) : base_(x), shape_(x.shape()), row_stride_(x.shape().last()) {}

    [[nodiscard]] const etape::shape& shape() const noexcept { return shape_; }
    [[nodiscard]] std::size_t size() const noexcept { return shape_.size(); }

    /// Elements between the starts of consecutive rows, in the sliced tensor.
    [[nodiscard]] std::size_t row_stride() const noexcept { return row_stride_; }

    /// True when the elements are consecutive in the sliced tensor.
    [[nodiscard]] bool contiguous() const noexcept
    {
        return size() / shape_.last() <= 1 || row_stride_ == shape_.last();
    }

    /// The view bound to an expression's output shape (tensor/expression.hpp).
    [[nodiscard]] detail::bound_active<T> bind(const etape::shape& out) const
    {
        base_.check_on(active_tape<T>());
        const T* data = base_.data() + offset_;
        const slot_index first = base_.first_slot() + static_cast<slot_index>(offset_);
        if (contiguous()) {
            const detail::broadcast kind = detail::broadcast_kind(shape_, out);
            return {data, detail::leaf_strides::of(kind), {first, kind}};
        }
        if (shape_ != out)
            detail::throw_shape_mismatch("slice (a strided slice is read elementwise)", shape_, out);
        const auto stride = static_cast<slot_index>(row_stride_);
        return {data, {0, 1, stride}, {first, detail::broadcast::strided, stride}};
    }

    /// `count` elements from `first` along `axis`; see etape::slice.
    [[nodiscard]] tensor_slice along(std::size_t axis, std::size_t first, std::size_t count) const
    {
        if (axis >= shape_.rank())
            throw shape_error("etape: slice along axis " + std::to_string(axis) + " of a tensor of shape " +
                              shape_.to_string());
        const std::size_t extent = shape_[axis];
        if (first > extent || count > extent - first)
            throw std::out_of_range("etape: slice [" + std::to_string(first) + ", " + std::to_string(first) + " + " +
                                    std::to_string(count) + ") of axis " + std::to_string(axis) +
                                    " is outside its extent " + std::to_string(extent) + " (shape " +
                                    shape_.to_string() + ")");
        std::size_t outer = 1; // index combinations of the axes before `axis`
        for (std::size_t a = 0; a < axis; ++a)
            outer *= shape_[a];
        const bool last_axis = axis + 1 == shape_.rank();
        if (!last_axis && outer > 1 && count < extent)
            throw shape_error("etape: slice along axis " + std::to_string(axis) + " of shape " + shape_.to_string() +
                              ": only the first and the last axis of a tensor can be sliced (its rows would not be "
                              "evenly spaced); reshape it first");
        tensor_slice r = *this;
        if (last_axis) {
            r.offset_ += first;
        } else {
            std::size_t rows_per_index = 1; // rows (runs along the last axis) per index of `axis`
            for (std::size_t a = axis + 1; a + 1 < shape_.rank(); ++a)
                rows_per_index *= shape_[a];
            r.offset_ += first * rows_per_index * row_stride_;
        }
        std::vector<std::size_t> extents(shape_.extents().begin(), shape_.extents().end());
        extents[axis] = count;
        r.shape_ = etape::shape{std::span<const std::size_t>(extents)};
        if (shape_.rank() == 1)
            r.row_stride_ = count; // one row: the stride is its length
        return r;
    }

private:
    active_tensor<T> base_;
    std::size_t offset_ = 0; // of the first element, in base_
    etape::shape shape_;
    std::size_t row_stride_;
};

/// `count` elements from `first` along `axis` of `x`, read in place (see
/// tensor_slice): x[.., first .. first + count, ..]. The first and the last
/// axis can be sliced, and so can any axis whose preceding extents are 1,
/// and slices can be sliced again. A range outside the axis throws
/// std::out_of_range naming the range and the extent.
template <class T>
[[nodiscard]] tensor_slice<T> slice(const active_tensor<T>& x, std::size_t axis, std::size_t first, std::size_t count)
{
    return tensor_slice<T>(x).along(axis, first, count);
}

template <class T>
[[nodiscard]] tensor_slice<T> slice(const tensor_slice<T>& x, std::size_t axis, std::size_t first, std::size_t count)
{
    return x.along(axis, first, count);
}

} // namespace etape
