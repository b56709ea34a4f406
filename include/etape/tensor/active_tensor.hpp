// The active tensor: n elements that own n consecutive slots of a tape, so
// that fused kernels address them as a block and scalar code can still read
// one element as a var. Layer: tensor.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>

#include <etape/core/active_tape.hpp>
#include <etape/core/number_text.hpp>
#include <etape/core/var.hpp>
#include <etape/tensor/shape.hpp>
#include <etape/tensor/tensor.hpp>

namespace etape {

template <std::floating_point T>
class active_tensor;

namespace detail {
/// Records a tensor expression as one fused node (fused_kernel.hpp).
template <class T, class E>
active_tensor<T> materialize(const E& e);
} // namespace detail

/// Its values live in the tape's arena and its slots on the tape: both stay
/// valid until the tape is rewound past the tensor's creation (a parameter
/// created before the saved position survives every rewind to it). Copies
/// are views of the same elements and slots.
template <std::floating_point T>
class active_tensor {
public:
    using value_type = T;
    static constexpr bool is_etape_tensor_expression = true;
    static constexpr std::size_t leaf_count = 1;

    /// An empty tensor (shape [0]).
    active_tensor() noexcept : shape_{0} {}

    /// New independent inputs on the active tape, with these values.
    explicit active_tensor(const tensor<T>& values) : shape_(values.shape())
    {
        tape<T>& t = active_tape<T>();
        values_ = t.template allocate_scratch<T>(values.size());
        std::copy(values.values().begin(), values.values().end(), values_);
        first_ = t.new_inputs(values.size());
        stamp_ = var<T>::stamp_of(t, first_);
    }

    /// Records a tensor expression as one fused node.
    template <class E>
        requires(tensor_expression<E> && !std::same_as<std::remove_cvref_t<E>, active_tensor>)
    active_tensor(const E& e) : active_tensor(detail::materialize<T>(e)) // NOLINT: z = x * y + 1 reads naturally
    {
    }

    /// For kernels: a tensor over `first` .. `first + s.size()` with values at `values`.
    active_tensor(T* values, const etape::shape& s, slot_index first, const tape<T>& t)
        : values_(values), shape_(s), first_(first), stamp_(var<T>::stamp_of(t, first))
    {
    }

    [[nodiscard]] const etape::shape& shape() const noexcept { return shape_; }
    [[nodiscard]] std::size_t size() const noexcept { return shape_.size(); }
    [[nodiscard]] std::size_t rank() const noexcept { return shape_.rank(); }
    [[nodiscard]] slot_index first_slot() const noexcept { return first_; }

    /// The values; writable so that an optimizer updates parameters in place.
    [[nodiscard]] std::span<T> values() noexcept { return {values_, size()}; }
    [[nodiscard]] std::span<const T> values() const noexcept { return {values_, size()}; }

    /// A copy of the values as a value tensor.
    [[nodiscard]] tensor<T> value() const { return tensor<T>(shape_, values()); }

    /// One element as a var (its slot is first_slot() + flat index). An
    /// index out of range, or a count of indices other than the rank,
    /// throws std::out_of_range in every build: a wrong slot would give a
    /// wrong gradient without a word.
    template <std::integral... I>
    [[nodiscard]] var<T> operator()(I... index) const
    {
        const std::size_t flat = detail::flat_index<true>(
            shape_, std::array<std::size_t, sizeof...(I)>{static_cast<std::size_t>(index)...});
        return var<T>::with_stamp(first_ + static_cast<slot_index>(flat), values_[flat], stamp_);
    }

    /// Element `flat` of the row-major order (std::out_of_range past the end,
    /// in every build).
    [[nodiscard]] var<T> at(std::size_t flat) const
    {
        if (flat >= size())
                throw std::out_of_range("etape: index " + std::to_string(flat) + " out of range for " +
                                        etape::detail::counted(size(), "element") + " of " + shape_.to_string());
        return var<T>::with_stamp(first_ + static_cast<slot_index>(flat), values_[flat], stamp_);
    }

    /// The same elements and slots under another shape of the same size.
    [[nodiscard]] active_tensor reshape(const etape::shape& s) const
    {
        if (s.size() != size())
            detail::throw_shape_mismatch("reshape", shape_, s);
        active_tensor r = *this;
        r.shape_ = s;
        return r;
    }

    [[nodiscard]] active_tensor flatten() const { return reshape(etape::shape{size()}); }

    /// Elements `first` .. `first + count` along the first axis (rows of a
    /// matrix, elements of a vector): the same elements and slots, with
    /// nothing recorded. A range outside the axis throws std::out_of_range
    /// naming the range and the extent. Other axes: etape::slice (tensor/slice.hpp).
    [[nodiscard]] active_tensor slice(std::size_t first, std::size_t count) const
    {
        if (rank() == 0)
            throw shape_error("etape: slice of a rank-0 tensor");
        const std::size_t extent = shape_[0];
        if (first > extent || count > extent - first)
            throw std::out_of_range("etape: slice [" + std::to_string(first) + ", " + std::to_string(first) + " + " +
                                    std::to_string(count) + ") of axis 0 is outside its extent " +
                                    std::to_string(extent) + " (shape " + shape_.to_string() + ")");
        std::array<std::size_t, etape::shape::max_rank> extents{};
        std::size_t inner = 1; // elements per index of the first axis
        for (std::size_t a = 0; a < rank(); ++a) {
            extents[a] = shape_[a];
            inner *= a > 0 ? shape_[a] : 1;
        }
        extents[0] = count;
        active_tensor r = *this;
        r.values_ += first * inner;
        r.first_ += static_cast<slot_index>(first * inner);
        r.shape_ = etape::shape{std::span<const std::size_t>(extents.data(), rank())};
        return r;
    }

    /// Throws tape_error unless the tensor is on the current recording of `t`
    /// (var::check_on of its first element).
    void check_on(const tape<T>& t) const
    {
        if (size() > 0)
            var<T>::with_stamp(first_, T(0), stamp_).check_on(t);
    }

    [[nodiscard]] const T* data() const noexcept { return values_; }

private:
    T* values_ = nullptr;
    etape::shape shape_;
    slot_index first_ = 0;
    [[no_unique_address]] detail::stamp_for<T> stamp_{};
};

} // namespace etape
