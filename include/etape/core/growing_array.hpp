// A contiguous array of trivially copyable values that grows geometrically
// and shrinks only when asked (shrink_to_fit), so a tape reuses its memory
// between recordings.
// Layer: core (storage under the tape).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <type_traits>

namespace etape::detail {

template <class U>
class growing_array {
    static_assert(std::is_trivially_copyable_v<U>, "tape storage holds trivially copyable values only");

public:
    [[nodiscard]] U* data() noexcept { return data_.get(); }
    [[nodiscard]] const U* data() const noexcept { return data_.get(); }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
    U& operator[](std::size_t i) noexcept { return data_[i]; }
    const U& operator[](std::size_t i) const noexcept { return data_[i]; }

    /// Makes room for `extra` more values; may throw std::bad_alloc, in which
    /// case nothing changed. Returns where the next value goes.
    U* reserve_more(std::size_t extra)
    {
        if (capacity_ - size_ < extra) [[unlikely]]
            grow(size_ + extra);
        return data_.get() + size_;
    }

    /// Appends `count` values already written at reserve_more()'s pointer.
    void commit(std::size_t count) noexcept { size_ += count; }

    void push_back(U value)
    {
        *reserve_more(1) = value;
        ++size_;
    }

    /// Drops everything past `new_size`; keeps the memory.
    void truncate(std::size_t new_size) noexcept { size_ = std::min(size_, new_size); }

    /// Sets the size to `n`, keeping the values below both sizes; values
    /// past the old size are unspecified until written.
    void resize_keeping(std::size_t n)
    {
        reserve_more(n > size_ ? n - size_ : 0);
        size_ = n;
    }

    /// Sets the size to `n`, zero-filling every value (used for adjoints).
    void assign_zeros(std::size_t n)
    {
        reserve_more(n > size_ ? n - size_ : 0);
        if (n > 0)
            std::memset(static_cast<void*>(data_.get()), 0, n * sizeof(U));
        size_ = n;
    }

    /// Gives back the memory past size(); may throw std::bad_alloc, in which
    /// case nothing changed.
    void shrink_to_fit()
    {
        if (capacity_ == size_)
            return;
        std::unique_ptr<U[]> kept;
        if (size_ > 0) {
            kept = std::make_unique_for_overwrite<U[]>(size_);
            std::memcpy(static_cast<void*>(kept.get()), data_.get(), size_ * sizeof(U));
        }
        data_ = std::move(kept);
        capacity_ = size_;
    }

private:
    void grow(std::size_t needed)
    {
        const std::size_t target = std::max({needed, 2 * capacity_, std::size_t{1024}});
        auto fresh = std::make_unique_for_overwrite<U[]>(target);
        if (size_ > 0)
            std::memcpy(static_cast<void*>(fresh.get()), data_.get(), size_ * sizeof(U));
        data_ = std::move(fresh);
        capacity_ = target;
    }

    std::unique_ptr<U[]> data_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

/// Two arrays that always have the same size (a tape's partials and operand
/// slots): one size, one capacity, one check.
template <class A, class B>
class growing_pair {
    static_assert(std::is_trivially_copyable_v<A> && std::is_trivially_copyable_v<B>);

public:
    [[nodiscard]] A* first() noexcept { return first_.get(); }
    [[nodiscard]] const A* first() const noexcept { return first_.get(); }
    [[nodiscard]] B* second() noexcept { return second_.get(); }
    [[nodiscard]] const B* second() const noexcept { return second_.get(); }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

    /// Makes room for `extra` more pairs; on std::bad_alloc nothing changed.
    void reserve_more(std::size_t extra)
    {
        if (capacity_ - size_ >= extra)
            return;
        const std::size_t target = std::max({size_ + extra, 2 * capacity_, std::size_t{1024}});
        auto a = std::make_unique_for_overwrite<A[]>(target);
        auto b = std::make_unique_for_overwrite<B[]>(target);
        if (size_ > 0) {
            std::memcpy(static_cast<void*>(a.get()), first_.get(), size_ * sizeof(A));
            std::memcpy(static_cast<void*>(b.get()), second_.get(), size_ * sizeof(B));
        }
        first_ = std::move(a);
        second_ = std::move(b);
        capacity_ = target;
    }

    /// Appends `count` pairs already written at first() + size(), second() + size().
    void commit(std::size_t count) noexcept { size_ += count; }

    void truncate(std::size_t new_size) noexcept { size_ = std::min(size_, new_size); }

    /// Gives back the memory past size(); on std::bad_alloc nothing changed.
    void shrink_to_fit()
    {
        if (capacity_ == size_)
            return;
        std::unique_ptr<A[]> a;
        std::unique_ptr<B[]> b;
        if (size_ > 0) {
            a = std::make_unique_for_overwrite<A[]>(size_);
            b = std::make_unique_for_overwrite<B[]>(size_);
            std::memcpy(static_cast<void*>(a.get()), first_.get(), size_ * sizeof(A));
            std::memcpy(static_cast<void*>(b.get()), second_.get(), size_ * sizeof(B));
        }
        first_ = std::move(a);
        second_ = std::move(b);
        capacity_ = size_;
    }

private:
    std::unique_ptr<A[]> first_;
    std::unique_ptr<B[]> second_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

} // namespace etape::detail
