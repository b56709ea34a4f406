// A contiguous array of trivially copyable values that grows geometrically,
// without copying once it is large (growable_memory), and shrinks only when
// asked (shrink_to_fit), so a tape reuses its memory between recordings.
// Layer: core (storage under the tape).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>

#include <etape/core/growable_memory.hpp>

namespace etape::detail {

template <class U>
class growing_array {
    static_assert(std::is_trivially_copyable_v<U>, "tape storage holds trivially copyable values only");
    static_assert(alignof(U) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);

public:
    [[nodiscard]] U* data() noexcept { return static_cast<U*>(memory_.data()); }
    [[nodiscard]] const U* data() const noexcept { return static_cast<const U*>(memory_.data()); }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
    U& operator[](std::size_t i) noexcept { return data()[i]; }
    const U& operator[](std::size_t i) const noexcept { return data()[i]; }

    /// Makes room for `extra` more values; may throw std::bad_alloc, in which
    /// case nothing changed. Returns where the next value goes.
    U* reserve_more(std::size_t extra)
    {
        if (capacity_ - size_ < extra) [[unlikely]]
            grow(size_ + extra);
        return data() + size_;
    }

    /// The capacity reserve_more(extra) leaves.
    [[nodiscard]] std::size_t capacity_after(std::size_t extra) const noexcept
    {
        if (capacity_ - size_ >= extra)
            return capacity_;
        return growable_memory::rounded(target_for(size_ + extra) * sizeof(U)) / sizeof(U);
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
            std::memset(static_cast<void*>(data()), 0, n * sizeof(U));
        size_ = n;
    }

    /// Gives back the memory past size() (a mapped block keeps up to 2 MiB);
    /// may throw std::bad_alloc, in which case nothing changed.
    void shrink_to_fit()
    {
        memory_.resize(size_ * sizeof(U), size_ * sizeof(U));
        capacity_ = memory_.bytes() / sizeof(U);
    }

private:
    /// The capacity a growth to hold `needed` values asks for.
    [[nodiscard]] std::size_t target_for(std::size_t needed) const noexcept
    {
        return std::max({needed, 2 * capacity_, std::size_t{1024}});
    }

    void grow(std::size_t needed)
    {
        memory_.resize(target_for(needed) * sizeof(U), size_ * sizeof(U));
        capacity_ = memory_.bytes() / sizeof(U);
    }

    growable_memory memory_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

/// Two arrays that always have the same size (a tape's partials and operand
/// slots): one size, one capacity, one check.
template <class A, class B>
class growing_pair {
    static_assert(std::is_trivially_copyable_v<A> && std::is_trivially_copyable_v<B>);
    static_assert(alignof(A) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__ && alignof(B) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);

public:
    [[nodiscard]] A* first() noexcept { return static_cast<A*>(first_.data()); }
    [[nodiscard]] const A* first() const noexcept { return static_cast<const A*>(first_.data()); }
    [[nodiscard]] B* second() noexcept { return static_cast<B*>(second_.data()); }
    [[nodiscard]] const B* second() const noexcept { return static_cast<const B*>(second_.data()); }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

    /// Makes room for `extra` more pairs; on std::bad_alloc nothing that
    /// holds values changed.
    void reserve_more(std::size_t extra)
    {
        if (capacity_ - size_ >= extra)
            return;
        resize_both(capacity_after(extra));
    }

    /// The capacity reserve_more(extra) leaves, in pairs.
    [[nodiscard]] std::size_t capacity_after(std::size_t extra) const noexcept
    {
        if (capacity_ - size_ >= extra)
            return capacity_;
        const std::size_t target = std::max({size_ + extra, 2 * capacity_, std::size_t{1024}});
        return std::min(growable_memory::rounded(target * sizeof(A)) / sizeof(A),
                        growable_memory::rounded(target * sizeof(B)) / sizeof(B));
    }

    /// Appends `count` pairs already written at first() + size(), second() + size().
    void commit(std::size_t count) noexcept { size_ += count; }

    void truncate(std::size_t new_size) noexcept { size_ = std::min(size_, new_size); }

    /// Gives back the memory past size(); on std::bad_alloc nothing that
    /// holds values changed.
    void shrink_to_fit() { resize_both(size_); }

private:
    void resize_both(std::size_t pairs)
    {
        // Each resize keeps the values; if the second throws, the first
        // block is merely larger or smaller than capacity_ says.
        first_.resize(pairs * sizeof(A), size_ * sizeof(A));
        second_.resize(pairs * sizeof(B), size_ * sizeof(B));
        capacity_ = std::min(first_.bytes() / sizeof(A), second_.bytes() / sizeof(B));
    }

    growable_memory first_;
    growable_memory second_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

} // namespace etape::detail
