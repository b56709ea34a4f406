// The dense row-major value tensor (rank 0 to 4): data for active tensors,
// inputs, targets and results. Layer: tensor.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <span>
#include <vector>

#include <etape/core/config.hpp>
#include <etape/core/number_text.hpp>
#include <etape/tensor/shape.hpp>

namespace etape {

/// Owns (or shares, for views) contiguous storage. Copies share nothing;
/// reshape() gives a view on the same storage.
template <std::floating_point T>
class tensor {
public:
    using value_type = T;

    /// An empty rank-1 tensor.
    tensor() : tensor(etape::shape{0}) {}

    explicit tensor(const etape::shape& s, T fill = T(0))
        : storage_(std::make_shared<std::vector<T>>(s.size(), fill)), data_(storage_->data()), shape_(s)
    {
    }

    tensor(const etape::shape& s, std::span<const T> values)
        : storage_(copy_of(values, s)), data_(storage_->data()), shape_(s)
    {
    }

    tensor(const etape::shape& s, std::initializer_list<T> values)
        : tensor(s, std::span<const T>(values.begin(), values.size()))
    {
    }

    tensor(const etape::shape& s, const std::vector<T>& values) : tensor(s, std::span<const T>(values)) {}

    tensor(const tensor& other) : tensor(other.shape_, other.values()) {}
    tensor& operator=(const tensor& other)
    {
        if (this != &other)
            *this = tensor(other);
        return *this;
    }
    tensor(tensor&&) noexcept = default;
    tensor& operator=(tensor&&) noexcept = default;

    [[nodiscard]] const etape::shape& shape() const noexcept { return shape_; }
    [[nodiscard]] std::size_t size() const noexcept { return shape_.size(); }
    [[nodiscard]] std::size_t rank() const noexcept { return shape_.rank(); }
    [[nodiscard]] T* data() noexcept { return data_; }
    [[nodiscard]] const T* data() const noexcept { return data_; }
    [[nodiscard]] std::span<T> values() noexcept { return {data_, size()}; }
    [[nodiscard]] std::span<const T> values() const noexcept { return {data_, size()}; }

    /// Element at a multi-index; the checked build checks every index.
    template <std::integral... I>
    [[nodiscard]] T& operator()(I... index)
    {
        return data_[detail::flat_index<checked_build>(shape_, std::array<std::size_t, sizeof...(I)>{
                                                                   static_cast<std::size_t>(index)...})];
    }
    template <std::integral... I>
    [[nodiscard]] const T& operator()(I... index) const
    {
        return data_[detail::flat_index<checked_build>(shape_, std::array<std::size_t, sizeof...(I)>{
                                                                   static_cast<std::size_t>(index)...})];
    }

    /// The same elements under another shape of the same size (no copy).
    [[nodiscard]] tensor reshape(const etape::shape& s) const
    {
        if (s.size() != size())
            detail::throw_shape_mismatch("reshape", shape_, s);
        return tensor(storage_, data_, s);
    }

    [[nodiscard]] tensor flatten() const { return reshape(etape::shape{size()}); }

private:
    /// The values, checked against the shape, copied once (not zeroed first).
    static std::shared_ptr<std::vector<T>> copy_of(std::span<const T> values, const etape::shape& s)
    {
        if (values.size() != s.size())
            throw shape_error("etape: " + etape::detail::counted(values.size(), "value") + " for a tensor of shape " +
                              s.to_string());
        return std::make_shared<std::vector<T>>(values.begin(), values.end());
    }

    tensor(std::shared_ptr<std::vector<T>> storage, T* data, const etape::shape& s)
        : storage_(std::move(storage)), data_(data), shape_(s)
    {
    }

    std::shared_ptr<std::vector<T>> storage_;
    T* data_;
    etape::shape shape_;
};

} // namespace etape
